// Streaming PMTiles v3 writer: clustered tile data, deduplicated contents, run-lengths, leaf directories, gzip internals.
import crypto from 'node:crypto';
import { closeSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
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
   * tile bytes kept in memory until finish() (default 256 MiB); beyond that they go to a temporary file, and
   * finish() copies them from there into the archive
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

const WRITE_BUFFER_BYTES = 1 << 22;
const COPY_CHUNK_BYTES = 1 << 23;
const DEFAULT_MEMORY_BYTES = 256 * 2 ** 20;
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
 * Writes one archive. Tiles arrive in strictly ascending tile id order (clustered). Their bytes are kept in memory
 * up to `memoryBytes`; past that they stream to a temporary file beside the output (`<output>.tmp-<pid>.tiles`),
 * and only the entries stay in memory. finish() writes `<output>.tmp-<pid>` (header, directories, metadata, then
 * the tile bytes, from memory or copied from the file) and renames it into place; abort() or any error removes the
 * temporary files. Keeping the bytes in memory spares writing them twice and reading them back at the end, when
 * nothing else runs.
 */
export class PMTilesWriter {
  readonly tempPath: string;
  private readonly tilesPath: string;
  /** the archive being written (`tempPath`), opened at once so that an unwritable output fails early */
  private outFd: number | undefined;
  /** the spill file of tile bytes, once they outgrow `memoryBytes` */
  private tilesFd: number | undefined;
  private readonly memoryBytes: number;
  /** tile bytes held in memory (not spilled), in order; `buffer` follows them */
  private readonly kept: Uint8Array[] = [];
  private keptLength = 0;
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
    this.tilesPath = `${this.tempPath}.tiles`;
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

  /** Moves the buffered bytes on: to memory, or to the spill file. */
  private flush(): void {
    if (this.bufferLength === 0) return;
    const full = this.buffer.subarray(0, this.bufferLength);
    this.bufferLength = 0;
    if (this.tilesFd === undefined && this.keptLength + full.length <= this.memoryBytes) {
      this.buffer = new Uint8Array(WRITE_BUFFER_BYTES);
    }
    this.store(full);
  }

  /** Keeps `data` (owned by the writer from now on) in memory while it fits, else spills everything so far. */
  private store(data: Uint8Array): void {
    if (this.tilesFd === undefined && this.keptLength + data.length <= this.memoryBytes) {
      this.kept.push(data);
      this.keptLength += data.length;
      return;
    }
    if (this.tilesFd === undefined) {
      try {
        this.tilesFd = openSync(this.tilesPath, 'w');
      } catch (err) {
        throw cannotWrite(this.outputPath, err);
      }
      for (const part of this.kept) this.writeFully(this.tilesFd, part);
      this.kept.length = 0;
      this.keptLength = 0;
    }
    this.writeFully(this.tilesFd, data);
  }

  private writeFully(fd: number, data: Uint8Array): void {
    let done = 0;
    try {
      while (done < data.length) done += writeSync(fd, data, done, data.length - done);
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
      const spilled = this.tilesFd !== undefined;
      if (spilled) closeSync(this.tilesFd!);
      this.tilesFd = undefined;
      const t = this.entries;

      const dirs = buildDirectories(t, t.count);
      const metadata = gzipDeterministic(new TextEncoder().encode(JSON.stringify(this.options.metadata)));
      const rootOffset = HEADER_BYTES;
      const metadataOffset = rootOffset + dirs.root.length;
      const leavesOffset = metadataOffset + metadata.length;
      const tileDataOffset = leavesOffset + dirs.leavesLength;
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

      closeSync(this.outFd!);
      this.outFd = undefined;
      const out = await open(this.tempPath, 'w').catch((err) => {
        throw cannotWrite(this.outputPath, err);
      });
      try {
        const writeAll = async (data: Uint8Array) => {
          let done = 0;
          while (done < data.length) done += (await out.write(data, done, data.length - done)).bytesWritten;
        };
        await writeAll(encodeHeader(header));
        await writeAll(dirs.root);
        await writeAll(metadata);
        for (const leaf of dirs.leaves) await writeAll(leaf);
        for (const part of this.kept) await writeAll(part);
        this.kept.length = 0;
        if (spilled) await this.copySpilled(writeAll);
      } catch (err) {
        throw err instanceof UserError ? err : cannotWrite(this.outputPath, err);
      } finally {
        await out.close();
      }
      if ((this.state as string) === 'aborted') throw new Error('PMTilesWriter: aborted while finishing');
      try {
        renameSync(this.tempPath, this.outputPath);
      } catch (err) {
        throw cannotWrite(this.outputPath, err);
      }
      removeQuietly(this.tilesPath);
      this.state = 'done';
      return {
        addressedTiles: this.addressed,
        tileEntries: t.count,
        tileContents: this.contents.size,
        bytes: tileDataOffset + this.dataLength,
      };
    } catch (err) {
      this.cleanup();
      this.state = 'aborted';
      throw err;
    }
  }

  /** Copies the spilled tile bytes into the archive through `writeAll`. */
  private async copySpilled(writeAll: (data: Uint8Array) => Promise<void>): Promise<void> {
    const tiles = await open(this.tilesPath, 'r');
    try {
      const chunk = new Uint8Array(Math.min(COPY_CHUNK_BYTES, Math.max(1, this.dataLength)));
      let copied = 0;
      while (copied < this.dataLength) {
        const { bytesRead } = await tiles.read(
          chunk,
          0,
          Math.min(chunk.length, this.dataLength - copied),
          copied,
        );
        if (bytesRead === 0)
          throw new Error(`tile data file ended after ${copied} of ${this.dataLength} bytes`);
        await writeAll(chunk.subarray(0, bytesRead));
        copied += bytesRead;
      }
    } finally {
      await tiles.close();
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
    if (this.tilesFd !== undefined) {
      try {
        closeSync(this.tilesFd);
      } catch {
        // already closed
      }
      this.tilesFd = undefined;
    }
    removeQuietly(this.tilesPath);
    removeQuietly(this.tempPath);
  }
}
