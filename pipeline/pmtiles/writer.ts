// Streaming PMTiles v3 writer: clustered tile data, deduplicated contents, run-lengths, leaf directories, gzip internals.
import crypto from 'node:crypto';
import { closeSync, openSync, renameSync, statSync, unlinkSync, write, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { UserError } from '../../core/errors.js';
import { gzipDeterministic } from './compression.js';
import { ContentIndex } from './content-index.js';
import { EntryTable, serializeColumns, type EntryColumns } from './directory.js';
import {
  Compression,
  HEADER_BYTES,
  ROOT_LIMIT_BYTES,
  TileType,
  encodeHeader,
  type Header,
} from './header.js';
import {
  TILE_ID_LIMIT,
  firstTileIdOfZoom,
  tileBounds,
  tileIdToZoom,
  tileIdToZxy,
  MAX_ZOOM,
} from './tileid.js';

export interface WriterOptions {
  tileType: TileType;
  /** how the caller already compressed every tile given to addTile; the writer only records it */
  tileCompression: Compression;
  /** the JSON metadata object (vector_layers, attribution, …), written as given */
  metadata: object;
  /** default: the lowest zoom of the tiles written */
  minZoom?: number;
  /** default: the highest zoom of the tiles written */
  maxZoom?: number;
  /** [west, south, east, north]; default: the extent of the tiles at the highest zoom written */
  bounds?: [number, number, number, number];
  /** [lon, lat, zoom]; default: the middle of the bounds at the min zoom */
  center?: [number, number, number];
  /**
   * tile bytes kept in memory until finish() (default 16 MiB), which then writes the sections in the usual order;
   * beyond that they stream into the archive as they come, and the leaf directories follow them (see PMTilesWriter)
   */
  memoryBytes?: number;
}

export interface WriteResult {
  addressedTiles: number;
  tileEntries: number;
  tileContents: number;
  /** size of the archive file */
  bytes: number;
}

const writeAsync = promisify(write);
const WRITE_BUFFER_BYTES = 1 << 22;
const DEFAULT_MEMORY_BYTES = 16 * 2 ** 20;
const MAX_RUN_LENGTH = 0xffff_ffff;
const ROOT_BUDGET = ROOT_LIMIT_BYTES - HEADER_BYTES;
const MAX_MERCATOR_LAT = 85.0511287798066;

interface Directories {
  root: Uint8Array;
  leaves: Uint8Array[];
  leavesLength: number;
}

/** Root and leaf directories the way the reference writers do it: grow the leaf size until the root fits. */
export function buildDirectories(entries: EntryColumns, count: number): Directories {
  if (count < 16_384) {
    const root = gzipDeterministic(serializeColumns(entries, 0, count));
    if (root.length <= ROOT_BUDGET) return { root, leaves: [], leavesLength: 0 };
  }
  let leafSize = Math.max(4096, Math.floor(count / 3500));
  for (;;) {
    const leaves: Uint8Array[] = [];
    const rootIds: number[] = [];
    const rootOffsets: number[] = [];
    const rootLengths: number[] = [];
    let leavesLength = 0;
    for (let start = 0; start < count; start += leafSize) {
      const leaf = gzipDeterministic(serializeColumns(entries, start, Math.min(count, start + leafSize)));
      rootIds.push(entries.tileIds[start]!);
      rootOffsets.push(leavesLength);
      rootLengths.push(leaf.length);
      leaves.push(leaf);
      leavesLength += leaf.length;
    }
    const rootCols = {
      tileIds: rootIds,
      offsets: rootOffsets,
      lengths: rootLengths,
      runLengths: rootIds.map(() => 0),
    };
    const root = gzipDeterministic(serializeColumns(rootCols, 0, rootIds.length));
    if (root.length <= ROOT_BUDGET) return { root, leaves, leavesLength };
    leafSize = Math.floor(leafSize * 1.2);
  }
}

function cannotWrite(path: string, err: unknown): UserError {
  const e = err as NodeJS.ErrnoException;
  return new UserError(
    `cannot write ${path}: ${e.code ?? e.message}${e.code ? ` (${e.message})` : ''}`,
    'cannot_write',
  );
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Writes one archive into `<output>.tmp-<pid>` and, at finish(), renames it into place; abort() or any error
 * removes it. Tiles arrive in strictly ascending tile id order (clustered). Their bytes are kept in memory up to
 * `memoryBytes`, and a small archive is written at finish() in the usual order: header, root directory, metadata,
 * leaf directories, tile data. A larger one streams its tile bytes into the archive as they come (only the entries
 * stay in memory), at a place fixed in advance: the header and the root directory get the first 16 KiB (the most
 * the spec allows them; zeros after a shorter root), the metadata follows, then the tile data, and the leaf
 * directories, known only at the end, come last. The spec lets every section but the header lie anywhere; this
 * way the bytes are written once, while the tiles are still being made, and finish() adds only the directories.
 */
export class PMTilesWriter {
  readonly tempPath: string;
  /** the archive being written (`tempPath`), opened at once so that an unwritable output fails early */
  private outFd: number | undefined;
  private readonly memoryBytes: number;
  /** tile bytes held in memory, in order, while not streaming; `buffer` follows them */
  private readonly kept: Uint8Array[] = [];
  private keptLength = 0;
  /** once streaming: the gzipped metadata, and where the next tile bytes go in the archive */
  private streamed: { metadata: Uint8Array; next: number } | undefined;
  private buffer = new Uint8Array(WRITE_BUFFER_BYTES);
  private bufferLength = 0;
  private dataLength = 0;
  private readonly entries = new EntryTable();
  private readonly contents = new ContentIndex();
  private lastTileId = -1;
  private lastHash = '';
  private addressed = 0;
  private state: 'open' | 'finishing' | 'done' | 'aborted' = 'open';
  /** per zoom: min x, min y, max x, max y of the tiles written (for default bounds) */
  private readonly extent = new Float64Array((MAX_ZOOM + 1) * 4).fill(NaN);
  private zoom = 0;
  private nextZoomId = firstTileIdOfZoom(1);
  private minZoomSeen = -1;

  constructor(
    readonly outputPath: string,
    private readonly options: WriterOptions,
  ) {
    if (
      options.metadata === null ||
      typeof options.metadata !== 'object' ||
      Array.isArray(options.metadata)
    ) {
      throw new TypeError('PMTilesWriter: metadata must be a JSON object');
    }
    this.tempPath = `${outputPath}.tmp-${process.pid}`;
    let isDir = false;
    try {
      isDir = statSync(outputPath).isDirectory();
    } catch {
      // does not exist yet: fine
    }
    if (isDir) throw new UserError(`cannot write ${outputPath}: it is a directory`, 'cannot_write');
    this.memoryBytes = options.memoryBytes ?? DEFAULT_MEMORY_BYTES;
    try {
      this.outFd = openSync(this.tempPath, 'w');
    } catch (err) {
      throw cannotWrite(outputPath, err);
    }
  }

  /** Add one tile (bytes already compressed as options.tileCompression says). Tile ids must strictly ascend. */
  addTile(tileId: number, data: Uint8Array): void {
    if (this.state !== 'open')
      throw new Error(`PMTilesWriter: addTile after ${this.state === 'aborted' ? 'abort' : 'finish'}`);
    if (!(tileId > this.lastTileId)) {
      throw new RangeError(
        `PMTilesWriter: tile ids must be strictly ascending: ${tileId} after ${this.lastTileId}`,
      );
    }
    if (!Number.isInteger(tileId) || tileId >= TILE_ID_LIMIT)
      throw new RangeError(`PMTilesWriter: bad tile id ${tileId}`);
    if (data.length === 0)
      throw new RangeError(`PMTilesWriter: tile ${tileIdToZxy(tileId).join('/')} is empty`);

    if (tileId >= this.nextZoomId) {
      this.zoom = tileIdToZoom(tileId);
      this.nextZoomId = firstTileIdOfZoom(this.zoom + 1);
    }
    if (this.minZoomSeen < 0) this.minZoomSeen = this.zoom;
    if (this.options.bounds === undefined) this.extendBounds(tileId);

    const hash = crypto.hash('sha256', data, 'binary');
    const t = this.entries;
    const last = t.count - 1;
    if (
      last >= 0 &&
      hash === this.lastHash &&
      tileId === t.tileIds[last]! + t.runLengths[last]! &&
      t.runLengths[last]! < MAX_RUN_LENGTH
    ) {
      t.runLengths[last]!++;
    } else {
      let offset = this.contents.getOrInsert(hash, this.dataLength);
      if (offset === -1) {
        offset = this.dataLength;
        this.append(data);
      }
      t.push(tileId, offset, data.length, 1);
    }
    this.lastHash = hash;
    this.lastTileId = tileId;
    this.addressed++;
  }

  private extendBounds(tileId: number): void {
    const [z, x, y] = tileIdToZxy(tileId);
    const e = this.extent;
    const i = z * 4;
    if (!(e[i]! <= x)) e[i] = x;
    if (!(e[i + 1]! <= y)) e[i + 1] = y;
    if (!(e[i + 2]! >= x)) e[i + 2] = x;
    if (!(e[i + 3]! >= y)) e[i + 3] = y;
  }

  private append(data: Uint8Array): void {
    if (this.bufferLength + data.length > this.buffer.length) this.flush();
    if (data.length >= this.buffer.length) {
      this.store(data.slice());
    } else {
      this.buffer.set(data, this.bufferLength);
      this.bufferLength += data.length;
    }
    this.dataLength += data.length;
  }

  /** Moves the buffered bytes on: to memory (the buffer is then theirs, and a new one follows), or to the archive. */
  private flush(): void {
    if (this.bufferLength === 0) return;
    const full = this.buffer.subarray(0, this.bufferLength);
    this.bufferLength = 0;
    if (this.store(full)) this.buffer = new Uint8Array(WRITE_BUFFER_BYTES);
  }

  /**
   * Keeps `data` in memory while it fits (true: the writer owns it from now on), else streams it into the archive
   * (false: written already).
   */
  private store(data: Uint8Array): boolean {
    if (!this.streamed && this.keptLength + data.length <= this.memoryBytes) {
      this.kept.push(data);
      this.keptLength += data.length;
      return true;
    }
    if (!this.streamed) {
      const metadata = this.metadataBytes();
      this.streamed = { metadata, next: ROOT_LIMIT_BYTES + metadata.length };
      for (const part of this.kept) this.writeAt(part);
      this.kept.length = 0;
      this.keptLength = 0;
    }
    this.writeAt(data);
    return false;
  }

  private writeAt(data: Uint8Array): void {
    this.writeFully(this.outFd!, data, this.streamed!.next);
    this.streamed!.next += data.length;
  }

  private metadataBytes(): Uint8Array {
    return gzipDeterministic(new TextEncoder().encode(JSON.stringify(this.options.metadata)));
  }

  private writeFully(fd: number, data: Uint8Array, position: number): void {
    let done = 0;
    try {
      while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
    } catch (err) {
      throw cannotWrite(this.outputPath, err);
    }
  }

  private headerFields(): Pick<
    Header,
    | 'minZoom'
    | 'maxZoom'
    | 'minLon'
    | 'minLat'
    | 'maxLon'
    | 'maxLat'
    | 'centerZoom'
    | 'centerLon'
    | 'centerLat'
  > {
    const o = this.options;
    const empty = this.entries.count === 0;
    const minZoom = o.minZoom ?? (empty ? 0 : this.minZoomSeen);
    const maxZoom = o.maxZoom ?? (empty ? minZoom : this.zoom);
    let bounds = o.bounds;
    if (!bounds && empty) bounds = [-180, -MAX_MERCATOR_LAT, 180, MAX_MERCATOR_LAT];
    if (!bounds) {
      const z = this.zoom;
      const e = this.extent;
      const [w, , , n] = tileBounds(z, e[z * 4]!, e[z * 4 + 1]!);
      const [, s, east] = tileBounds(z, e[z * 4 + 2]!, e[z * 4 + 3]!);
      bounds = [w, Math.max(s, -MAX_MERCATOR_LAT), east, Math.min(n, MAX_MERCATOR_LAT)];
    }
    const center = o.center ?? [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, minZoom];
    return {
      minZoom,
      maxZoom,
      minLon: bounds[0],
      minLat: bounds[1],
      maxLon: bounds[2],
      maxLat: bounds[3],
      centerLon: center[0],
      centerLat: center[1],
      centerZoom: Math.round(center[2]),
    };
  }

  /** Assemble the archive and move it to the output path. */
  async finish(): Promise<WriteResult> {
    if (this.state !== 'open') throw new Error(`PMTilesWriter: finish after ${this.state}`);
    this.state = 'finishing';
    try {
      this.flush();
      const t = this.entries;
      const streamed = this.streamed;
      const dirs = buildDirectories(t, t.count);
      const metadata = streamed?.metadata ?? this.metadataBytes();
      const rootOffset = HEADER_BYTES;
      // in memory: header, root, metadata, leaves, tile data; streamed: header, root (padded to 16 KiB), metadata,
      // tile data (written already), leaves
      const metadataOffset = streamed ? ROOT_LIMIT_BYTES : rootOffset + dirs.root.length;
      const tileDataOffset = streamed
        ? metadataOffset + metadata.length
        : metadataOffset + metadata.length + dirs.leavesLength;
      const leavesOffset = streamed ? tileDataOffset + this.dataLength : metadataOffset + metadata.length;
      const header: Header = {
        specVersion: 3,
        rootDirectoryOffset: rootOffset,
        rootDirectoryLength: dirs.root.length,
        jsonMetadataOffset: metadataOffset,
        jsonMetadataLength: metadata.length,
        leafDirectoryOffset: leavesOffset,
        leafDirectoryLength: dirs.leavesLength,
        tileDataOffset,
        tileDataLength: this.dataLength,
        numAddressedTiles: this.addressed,
        numTileEntries: t.count,
        numTileContents: this.contents.size,
        clustered: true,
        internalCompression: Compression.Gzip,
        tileCompression: this.options.tileCompression,
        tileType: this.options.tileType,
        ...this.headerFields(),
      };

      // finish owns the file from here: an abort meanwhile removes its path but does not close it under the writes
      const fd = this.outFd!;
      this.outFd = undefined;
      try {
        let position = 0;
        const writeAll = async (data: Uint8Array) => {
          let done = 0;
          while (done < data.length)
            done += (await writeAsync(fd, data, done, data.length - done, position + done)).bytesWritten;
          position += data.length;
        };
        await writeAll(encodeHeader(header));
        await writeAll(dirs.root);
        if (streamed) await writeAll(new Uint8Array(ROOT_LIMIT_BYTES - position));
        await writeAll(metadata);
        if (streamed) position = leavesOffset;
        for (const leaf of dirs.leaves) await writeAll(leaf);
        for (const part of this.kept) await writeAll(part);
        this.kept.length = 0;
      } catch (err) {
        throw err instanceof UserError ? err : cannotWrite(this.outputPath, err);
      } finally {
        closeSync(fd);
      }
      if ((this.state as string) === 'aborted') throw new Error('PMTilesWriter: aborted while finishing');
      try {
        renameSync(this.tempPath, this.outputPath);
      } catch (err) {
        throw cannotWrite(this.outputPath, err);
      }
      this.state = 'done';
      return {
        addressedTiles: this.addressed,
        tileEntries: t.count,
        tileContents: this.contents.size,
        bytes: streamed ? leavesOffset + dirs.leavesLength : tileDataOffset + this.dataLength,
      };
    } catch (err) {
      this.cleanup();
      this.state = 'aborted';
      throw err;
    }
  }

  /** Give up: remove the temporary files; nothing appears at the output path. */
  async abort(): Promise<void> {
    if (this.state === 'done' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.cleanup();
  }

  private cleanup(): void {
    this.kept.length = 0;
    if (this.outFd !== undefined) {
      try {
        closeSync(this.outFd);
      } catch {
        // already closed
      }
      this.outFd = undefined;
    }
    removeQuietly(this.tempPath);
  }
}
