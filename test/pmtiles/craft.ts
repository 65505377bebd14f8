// Test helper: assemble PMTiles archives by hand (any internal compression, nested leaves, patched headers),
// to reach the corners of the spec that our writer never produces.
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { serializeColumns, type Entry } from '../../pipeline/pmtiles/directory.js';
import {
  Compression,
  HEADER_BYTES,
  TileType,
  encodeHeader,
  type Header,
} from '../../pipeline/pmtiles/header.js';

export interface CraftTile {
  tileId: number;
  data: Uint8Array;
  runLength?: number;
}

export interface CraftOptions {
  tiles: CraftTile[];
  internal?: Compression;
  tileCompression?: Compression;
  tileType?: TileType;
  /** 0: tiles in the root; 1: root → leaves; 2: root → middle directories → leaves */
  leafLevels?: 0 | 1 | 2;
  leafSize?: number;
  /** raw metadata bytes (before internal compression); default {} */
  metadata?: Uint8Array;
  /** fields to overwrite in the computed header */
  header?: Partial<Header>;
  /** change entries before they are encoded (to break things on purpose) */
  mutateEntries?: (tileEntries: Entry[]) => void;
}

export function compressWith(c: Compression, bytes: Uint8Array): Uint8Array {
  if (c === Compression.Gzip) return new Uint8Array(gzipSync(bytes));
  if (c === Compression.Brotli) return new Uint8Array(brotliCompressSync(bytes));
  return bytes; // None, and Zstd/Unknown: left as is (readers must refuse zstd before looking)
}

/** Encode without the order check, so broken directories can be made. */
function serializeDirectory(entries: Entry[]): Uint8Array {
  const col = (k: keyof Entry) => entries.map((e) => e[k]);
  return serializeColumns(
    { tileIds: col('tileId'), offsets: col('offset'), lengths: col('length'), runLengths: col('runLength') },
    0,
    entries.length,
  );
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function craftArchive(o: CraftOptions): Uint8Array {
  const internal = o.internal ?? Compression.Gzip;
  const tileData: Uint8Array[] = [];
  let dataLength = 0;
  const entries: Entry[] = o.tiles.map((t) => {
    const e = { tileId: t.tileId, offset: dataLength, length: t.data.length, runLength: t.runLength ?? 1 };
    tileData.push(t.data);
    dataLength += t.data.length;
    return e;
  });
  o.mutateEntries?.(entries);

  const leafParts: Uint8Array[] = [];
  let leafLength = 0;
  const addLeaf = (dir: Entry[]): Entry => {
    const bytes = compressWith(internal, serializeDirectory(dir));
    const e = { tileId: dir[0]!.tileId, offset: leafLength, length: bytes.length, runLength: 0 };
    leafParts.push(bytes);
    leafLength += bytes.length;
    return e;
  };
  let rootEntries = entries;
  const levels = o.leafLevels ?? 0;
  if (levels >= 1) rootEntries = chunk(entries, o.leafSize ?? 2).map(addLeaf);
  if (levels >= 2) rootEntries = chunk(rootEntries, 2).map(addLeaf);

  const root = compressWith(internal, serializeDirectory(rootEntries));
  const metadata = compressWith(internal, o.metadata ?? new TextEncoder().encode('{}'));
  const rootOffset = HEADER_BYTES;
  const metadataOffset = rootOffset + root.length;
  const leafOffset = metadataOffset + metadata.length;
  const tileOffset = leafOffset + leafLength;
  const header: Header = {
    specVersion: 3,
    rootDirectoryOffset: rootOffset,
    rootDirectoryLength: root.length,
    jsonMetadataOffset: metadataOffset,
    jsonMetadataLength: metadata.length,
    leafDirectoryOffset: leafOffset,
    leafDirectoryLength: leafLength,
    tileDataOffset: tileOffset,
    tileDataLength: dataLength,
    numAddressedTiles: entries.reduce((n, e) => n + e.runLength, 0),
    numTileEntries: entries.length,
    numTileContents: entries.length,
    clustered: true,
    internalCompression: internal,
    tileCompression: o.tileCompression ?? Compression.None,
    tileType: o.tileType ?? TileType.Unknown,
    minZoom: 0,
    maxZoom: 26,
    minLon: -180,
    minLat: -85,
    maxLon: 180,
    maxLat: 85,
    centerZoom: 0,
    centerLon: 0,
    centerLat: 0,
    ...o.header,
  };
  const out = new Uint8Array(tileOffset + dataLength);
  out.set(encodeHeader(header), 0);
  out.set(root, rootOffset);
  out.set(metadata, metadataOffset);
  let at = leafOffset;
  for (const p of leafParts) {
    out.set(p, at);
    at += p.length;
  }
  for (const t of tileData) {
    out.set(t, at);
    at += t.length;
  }
  return out;
}
