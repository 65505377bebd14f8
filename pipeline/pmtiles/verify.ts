// `weft verify`: check a PMTiles archive end to end — header, directories, counts, metadata and every tile.
import { stat } from 'node:fs/promises';
import { UserError } from '../../core/errors.js';
import { validateTile } from '../mvt/validate.js';
import { decompress } from './compression.js';
import { DirectoryError, EntryTable, deserializeDirectory, type Entry } from './directory.js';
import {
  Compression,
  HeaderError,
  ROOT_LIMIT_BYTES,
  TileType,
  compressionName,
  decodeHeader,
  headerProblems,
  sectionProblems,
  tileTypeName,
  type Header,
} from './header.js';
import { fileSource, type RangeSource } from './reader.js';
import { TILE_ID_LIMIT, tileIdToZoom, tileIdToZxy } from './tileid.js';

export interface VerifyResult {
  /** one line per problem (without the path); empty when the archive is valid */
  problems: string[];
  /** e.g. "ok: 1234 tiles (567 unique), z0–14, mvt, gzip" */
  summary: string;
}

const MAX_PROBLEMS = 100;
const MAX_LEAF_DEPTH = 4;
const READ_WINDOW_BYTES = 1 << 23;

class Problems {
  readonly list: string[] = [];
  private dropped = 0;
  add(p: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(p);
    else this.dropped++;
  }
  result(): string[] {
    return this.dropped ? [...this.list, `… and ${this.dropped} more problems`] : this.list;
  }
}

function zxyText(tileId: number): string {
  return tileIdToZxy(tileId).join('/');
}

function messageWithoutKey(err: unknown, key: string): string {
  const m = (err as Error).message;
  return m.startsWith(`${key}: `) ? m.slice(key.length + 2) : m;
}

/** Verify the archive at `path`. Never throws for a bad archive: every finding is a problem line. */
export async function verifyArchive(path: string): Promise<VerifyResult> {
  const problems = new Problems();
  const done = (): VerifyResult => ({ problems: problems.result(), summary: '' });
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) {
      problems.add('not a file');
      return done();
    }
    size = st.size;
  } catch (err) {
    problems.add(`cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return done();
  }
  if (size === 0) {
    problems.add('file is empty');
    return done();
  }
  const source = fileSource(path);
  try {
    return await verifySource(source, size, problems);
  } finally {
    await source.close();
  }
}

/** Verify an archive read through any range source of `size` bytes (e.g. one entry of a region pack). */
export async function verifyArchiveSource(source: RangeSource, size: number): Promise<VerifyResult> {
  const problems = new Problems();
  if (size === 0) {
    problems.add('file is empty');
    return { problems: problems.result(), summary: '' };
  }
  return verifySource(source, size, problems);
}

async function verifySource(source: RangeSource, size: number, problems: Problems): Promise<VerifyResult> {
  const done = (): VerifyResult => ({ problems: problems.result(), summary: '' });
  const first = await source.read(0, Math.min(size, ROOT_LIMIT_BYTES));
  let h: Header;
  try {
    h = decodeHeader(first);
  } catch (err) {
    if (!(err instanceof HeaderError)) throw err;
    problems.add(err.message);
    return done();
  }
  for (const p of headerProblems(h, size)) problems.add(p);
  if (sectionProblems(h, size).length > 0) return done();
  if (h.rootDirectoryLength === 0) {
    problems.add('root directory length is 0');
    return done();
  }
  if (h.internalCompression === Compression.Zstd) {
    problems.add('unsupported compression: zstd (internal compression)');
    return done();
  }

  const read = async (offset: number, length: number) => {
    const bytes = await source.read(offset, length);
    if (bytes.length !== length) throw new Error(`short read at byte ${offset}`);
    return bytes;
  };
  const unpack = (bytes: Uint8Array, compression: Compression, what: string): Uint8Array | undefined => {
    try {
      return decompress(bytes, compression, what);
    } catch (err) {
      if (err instanceof UserError) {
        problems.add(err.message);
        return undefined;
      }
      throw err;
    }
  };

  // metadata
  if (h.jsonMetadataLength > 0) {
    const raw = unpack(
      await read(h.jsonMetadataOffset, h.jsonMetadataLength),
      h.internalCompression,
      'metadata',
    );
    if (raw) {
      let metadata: unknown;
      try {
        metadata = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
      } catch (err) {
        problems.add(`metadata is not valid UTF-8 JSON: ${(err as Error).message}`);
      }
      if (metadata !== undefined) {
        if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
          problems.add('metadata is not a JSON object');
        } else if (
          h.tileType === TileType.Mvt &&
          !Array.isArray((metadata as { vector_layers?: unknown }).vector_layers)
        ) {
          problems.add('metadata has no vector_layers array (required for MVT archives)');
        }
      }
    }
  } else if (h.tileType === TileType.Mvt) {
    problems.add('metadata is missing (MVT archives need vector_layers)');
  }

  // directories
  const tiles = new EntryTable();
  let leafCount = 0;
  let lastEnd = 0; // one past the last tile id addressed so far
  const walk = async (
    offset: number,
    length: number,
    depth: number,
    what: string,
    limit: number,
  ): Promise<void> => {
    const raw = unpack(await read(offset, length), h.internalCompression, what);
    if (!raw) return;
    let entries: Entry[];
    try {
      entries = deserializeDirectory(raw);
    } catch (err) {
      if (!(err instanceof DirectoryError)) throw err;
      problems.add(`${what}: ${err.message}`);
      return;
    }
    if (entries.length === 0) {
      // an archive without tiles has an empty root (the reference writers make those); an empty leaf is an error
      if (depth > 0) problems.add(`${what} has no entries`);
      return;
    }
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const where = `${what}, entry ${i} (tile id ${e.tileId})`;
      if (e.length === 0) problems.add(`${where}: length is 0`);
      if (e.runLength === 0) {
        if (e.tileId < lastEnd)
          problems.add(`${where}: leaf directory starts below tile id ${lastEnd} already addressed`);
        if (depth >= MAX_LEAF_DEPTH) {
          problems.add(`${where}: leaf directories nested deeper than ${MAX_LEAF_DEPTH} levels`);
          continue;
        }
        if (e.offset + e.length > h.leafDirectoryLength) {
          problems.add(
            `${where}: leaf directory (offset ${e.offset}, length ${e.length}) lies outside the leaf directories section (${h.leafDirectoryLength} bytes)`,
          );
          continue;
        }
        leafCount++;
        const next = i + 1 < entries.length ? entries[i + 1]!.tileId : limit;
        const countBefore = tiles.count;
        await walk(
          h.leafDirectoryOffset + e.offset,
          e.length,
          depth + 1,
          `leaf directory at byte ${h.leafDirectoryOffset + e.offset}`,
          next,
        );
        if (tiles.count > countBefore && tiles.tileIds[countBefore]! < e.tileId) {
          problems.add(
            `${where}: leaf directory holds tile id ${tiles.tileIds[countBefore]}, below its entry's tile id`,
          );
        }
        continue;
      }
      if (e.tileId < lastEnd) {
        problems.add(`${where}: tile ids are not ascending (tile ${lastEnd - 1} is already addressed)`);
        continue;
      }
      const lastId = e.tileId + e.runLength - 1;
      if (lastId >= TILE_ID_LIMIT) {
        problems.add(`${where}: run of ${e.runLength} reaches beyond the highest valid tile id`);
        continue;
      }
      if (lastId >= limit)
        problems.add(`${where}: run reaches tile id ${lastId}, beyond the next directory entry (${limit})`);
      if (e.offset + e.length > h.tileDataLength) {
        problems.add(
          `${where}: tile (offset ${e.offset}, length ${e.length}) lies outside the tile data section (${h.tileDataLength} bytes)`,
        );
        continue;
      }
      const z0 = tileIdToZoom(e.tileId);
      const z1 = tileIdToZoom(lastId);
      if (z0 < h.minZoom || z1 > h.maxZoom) {
        problems.add(
          `${where}: tile ${zxyText(e.tileId)} is outside the header's zoom range z${h.minZoom}–${h.maxZoom}`,
        );
      }
      tiles.push(e.tileId, e.offset, e.length, e.runLength);
      lastEnd = lastId + 1;
    }
  };
  await walk(h.rootDirectoryOffset, h.rootDirectoryLength, 0, 'root directory', TILE_ID_LIMIT);
  if (leafCount > 0 && h.leafDirectoryLength === 0)
    problems.add('leaf directories are used but the header gives them length 0');

  // counts, clustering, contents
  let addressed = 0;
  for (let i = 0; i < tiles.count; i++) addressed += tiles.runLengths[i]!;
  const contentOrder = uniqueContents(tiles);
  const expect = (field: string, header: number, actual: number) => {
    if (header !== 0 && header !== actual)
      problems.add(`header says ${header} ${field} but the directories have ${actual}`);
  };
  expect('addressed tiles', h.numAddressedTiles, addressed);
  expect('tile entries', h.numTileEntries, tiles.count);
  expect('tile contents', h.numTileContents, contentOrder.length);
  if (h.clustered) clusteringProblems(tiles, problems);

  // every tile
  if (h.tileCompression === Compression.Zstd) {
    problems.add('tiles: unsupported compression: zstd');
  } else {
    let window: Uint8Array = new Uint8Array(0);
    let windowStart = 0;
    for (let k = 0; k < contentOrder.length; k++) {
      const i = contentOrder[k]!;
      const offset = tiles.offsets[i]!;
      const length = tiles.lengths[i]!;
      if (offset < windowStart || offset + length > windowStart + window.length) {
        windowStart = offset;
        const want = Math.min(Math.max(length, READ_WINDOW_BYTES), h.tileDataLength - offset);
        window = await read(h.tileDataOffset + offset, want);
      }
      const stored = window.subarray(offset - windowStart, offset - windowStart + length);
      const what = `tile ${zxyText(tiles.tileIds[i]!)}`;
      const raw = unpack(stored, h.tileCompression, what);
      if (raw && h.tileType === TileType.Mvt) {
        for (const p of validateTile(raw)) problems.add(`${what}: ${p}`);
      }
    }
  }

  if (problems.list.length > 0) return done();
  const zooms =
    tiles.count > 0
      ? `z${tileIdToZoom(tiles.tileIds[0]!)}–${tileIdToZoom(tiles.tileIds[tiles.count - 1]! + tiles.runLengths[tiles.count - 1]! - 1)}`
      : 'no zooms';
  return {
    problems: [],
    summary: `ok: ${addressed} tiles (${contentOrder.length} unique), ${zooms}, ${tileTypeName(h.tileType)}, ${compressionName(h.tileCompression)}`,
  };
}

/** Indices of entries with distinct offsets, in ascending offset order. */
function uniqueContents(tiles: EntryTable): Uint32Array {
  const n = tiles.count;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (tiles.offsets[i]! < tiles.offsets[i - 1]!) sorted = false;
  if (!sorted) {
    const offsets = tiles.offsets;
    order = Uint32Array.from(Array.from(order).sort((a, b) => offsets[a]! - offsets[b]! || a - b));
  }
  let m = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (m === 0 || tiles.offsets[i] !== tiles.offsets[order[m - 1]!]) order[m++] = i;
  }
  return order.subarray(0, m);
}

/** Clustered: the first tile at offset 0, then each entry either continues the data or points back at earlier data. */
function clusteringProblems(tiles: EntryTable, problems: Problems): void {
  let end = 0;
  for (let i = 0; i < tiles.count; i++) {
    const offset = tiles.offsets[i]!;
    const length = tiles.lengths[i]!;
    if (offset === end) end += length;
    else if (offset + length > end) {
      problems.add(
        `archive says clustered but tile ${zxyText(tiles.tileIds[i]!)} is at offset ${offset}, not at ${end} or earlier data`,
      );
      return;
    }
  }
}
