// The 127-byte PMTiles v3 header (spec chapter 3): enums, encoding, decoding and the checks a reader relies on.

export const HEADER_BYTES = 127;
/** Header plus root directory must fit in this many bytes (spec 4). */
export const ROOT_LIMIT_BYTES = 16_384;
const MAGIC = 'PMTiles';

export enum Compression {
  Unknown = 0,
  None = 1,
  Gzip = 2,
  Brotli = 3,
  Zstd = 4,
}

export enum TileType {
  Unknown = 0,
  Mvt = 1,
  Png = 2,
  Jpeg = 3,
  Webp = 4,
  Avif = 5,
  /** MapLibre Vector Tile */
  Mlt = 6,
}

const COMPRESSION_NAMES = ['unknown', 'none', 'gzip', 'brotli', 'zstd'];
const TILE_TYPE_NAMES = ['unknown', 'mvt', 'png', 'jpeg', 'webp', 'avif', 'mlt'];

export function compressionName(c: number): string {
  return COMPRESSION_NAMES[c] ?? `unknown compression ${c}`;
}

export function tileTypeName(t: number): string {
  return TILE_TYPE_NAMES[t] ?? `unknown tile type ${t}`;
}

/** Field names follow the `pmtiles` npm package so headers compare directly. */
export interface Header {
  specVersion: number;
  rootDirectoryOffset: number;
  rootDirectoryLength: number;
  jsonMetadataOffset: number;
  jsonMetadataLength: number;
  leafDirectoryOffset: number;
  leafDirectoryLength: number;
  tileDataOffset: number;
  tileDataLength: number;
  numAddressedTiles: number;
  numTileEntries: number;
  numTileContents: number;
  clustered: boolean;
  internalCompression: Compression;
  tileCompression: Compression;
  tileType: TileType;
  minZoom: number;
  maxZoom: number;
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
  centerZoom: number;
  centerLon: number;
  centerLat: number;
}

/** A header that cannot be read; the message names the problem, not the file. */
export class HeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeaderError';
  }
}

function setUint64(v: DataView, at: number, value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`header ${field} ${value} is not a uint64`);
  v.setUint32(at, value % 0x1_0000_0000, true);
  v.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

function getUint64(v: DataView, at: number, field: string): number {
  const high = v.getUint32(at + 4, true);
  if (high >= 0x20_0000) throw new HeaderError(`header field ${field} is too large (over 2^53)`);
  return high * 0x1_0000_0000 + v.getUint32(at, true);
}

function setPosition(v: DataView, at: number, degrees: number, field: string): void {
  const e7 = Math.round(degrees * 1e7);
  if (!Number.isFinite(e7) || e7 < -0x8000_0000 || e7 > 0x7fff_ffff) {
    throw new RangeError(`header ${field} ${degrees} is not a coordinate`);
  }
  v.setInt32(at, e7, true);
}

function setUint8(v: DataView, at: number, value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 255)
    throw new RangeError(`header ${field} ${value} is not a byte`);
  v.setUint8(at, value);
}

/** Encode a header into its 127 bytes (the version byte is always 3). */
export function encodeHeader(h: Header): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  const v = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  bytes[7] = 3;
  setUint64(v, 8, h.rootDirectoryOffset, 'rootDirectoryOffset');
  setUint64(v, 16, h.rootDirectoryLength, 'rootDirectoryLength');
  setUint64(v, 24, h.jsonMetadataOffset, 'jsonMetadataOffset');
  setUint64(v, 32, h.jsonMetadataLength, 'jsonMetadataLength');
  setUint64(v, 40, h.leafDirectoryOffset, 'leafDirectoryOffset');
  setUint64(v, 48, h.leafDirectoryLength, 'leafDirectoryLength');
  setUint64(v, 56, h.tileDataOffset, 'tileDataOffset');
  setUint64(v, 64, h.tileDataLength, 'tileDataLength');
  setUint64(v, 72, h.numAddressedTiles, 'numAddressedTiles');
  setUint64(v, 80, h.numTileEntries, 'numTileEntries');
  setUint64(v, 88, h.numTileContents, 'numTileContents');
  bytes[96] = h.clustered ? 1 : 0;
  setUint8(v, 97, h.internalCompression, 'internalCompression');
  setUint8(v, 98, h.tileCompression, 'tileCompression');
  setUint8(v, 99, h.tileType, 'tileType');
  setUint8(v, 100, h.minZoom, 'minZoom');
  setUint8(v, 101, h.maxZoom, 'maxZoom');
  setPosition(v, 102, h.minLon, 'minLon');
  setPosition(v, 106, h.minLat, 'minLat');
  setPosition(v, 110, h.maxLon, 'maxLon');
  setPosition(v, 114, h.maxLat, 'maxLat');
  setUint8(v, 118, h.centerZoom, 'centerZoom');
  setPosition(v, 119, h.centerLon, 'centerLon');
  setPosition(v, 123, h.centerLat, 'centerLat');
  return bytes;
}

/**
 * Decode the first bytes of a file as a v3 header. `fileSize` (when known) is checked against every section.
 * Throws HeaderError with one line: "file is empty", "not a PMTiles archive (bad magic)", "PMTiles version 4 is not supported (only version 3)", …
 */
export function decodeHeader(bytes: Uint8Array, fileSize?: number): Header {
  const size = fileSize ?? bytes.length;
  if (size === 0 || bytes.length === 0) throw new HeaderError('file is empty');
  const magicOk = bytes.length >= 7 && String.fromCharCode(...bytes.subarray(0, 7)) === MAGIC;
  if (!magicOk) {
    // v1/v2 archives start with "PM" and a little-endian uint16 version
    if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4d && bytes[3] === 0 && bytes[2]! <= 2) {
      throw new HeaderError(`PMTiles version ${bytes[2]} is not supported (only version 3)`);
    }
    if (bytes.length < HEADER_BYTES) {
      throw new HeaderError(
        `not a PMTiles archive (${size} bytes, shorter than the ${HEADER_BYTES}-byte header)`,
      );
    }
    throw new HeaderError('not a PMTiles archive (bad magic)');
  }
  if (bytes.length < 8) throw new HeaderError(`truncated header (${size} bytes, need ${HEADER_BYTES})`);
  if (bytes[7] !== 3) throw new HeaderError(`PMTiles version ${bytes[7]} is not supported (only version 3)`);
  if (bytes.length < HEADER_BYTES)
    throw new HeaderError(`truncated header (${size} bytes, need ${HEADER_BYTES})`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const h: Header = {
    specVersion: 3,
    rootDirectoryOffset: getUint64(v, 8, 'root directory offset'),
    rootDirectoryLength: getUint64(v, 16, 'root directory length'),
    jsonMetadataOffset: getUint64(v, 24, 'metadata offset'),
    jsonMetadataLength: getUint64(v, 32, 'metadata length'),
    leafDirectoryOffset: getUint64(v, 40, 'leaf directories offset'),
    leafDirectoryLength: getUint64(v, 48, 'leaf directories length'),
    tileDataOffset: getUint64(v, 56, 'tile data offset'),
    tileDataLength: getUint64(v, 64, 'tile data length'),
    numAddressedTiles: getUint64(v, 72, 'number of addressed tiles'),
    numTileEntries: getUint64(v, 80, 'number of tile entries'),
    numTileContents: getUint64(v, 88, 'number of tile contents'),
    clustered: v.getUint8(96) === 1,
    internalCompression: v.getUint8(97),
    tileCompression: v.getUint8(98),
    tileType: v.getUint8(99),
    minZoom: v.getUint8(100),
    maxZoom: v.getUint8(101),
    minLon: v.getInt32(102, true) / 1e7,
    minLat: v.getInt32(106, true) / 1e7,
    maxLon: v.getInt32(110, true) / 1e7,
    maxLat: v.getInt32(114, true) / 1e7,
    centerZoom: v.getUint8(118),
    centerLon: v.getInt32(119, true) / 1e7,
    centerLat: v.getInt32(123, true) / 1e7,
  };
  if (fileSize !== undefined) {
    const problem = sectionProblems(h, fileSize)[0];
    if (problem) throw new HeaderError(problem);
  }
  if (h.rootDirectoryLength === 0) throw new HeaderError('root directory length is 0');
  return h;
}

export interface Section {
  name: string;
  offset: number;
  length: number;
}

/** The byte ranges the header points at (header included), in file order of the spec. */
export function sections(h: Header): Section[] {
  return [
    { name: 'header', offset: 0, length: HEADER_BYTES },
    { name: 'root directory', offset: h.rootDirectoryOffset, length: h.rootDirectoryLength },
    { name: 'metadata', offset: h.jsonMetadataOffset, length: h.jsonMetadataLength },
    { name: 'leaf directories', offset: h.leafDirectoryOffset, length: h.leafDirectoryLength },
    { name: 'tile data', offset: h.tileDataOffset, length: h.tileDataLength },
  ];
}

/** Sections that reach past the end of the file. */
export function sectionProblems(h: Header, fileSize: number): string[] {
  const problems: string[] = [];
  for (const s of sections(h)) {
    if (s.length > 0 && s.offset + s.length > fileSize) {
      problems.push(
        `${s.name} (offset ${s.offset}, length ${s.length}) ends at byte ${s.offset + s.length}, beyond the file length ${fileSize}`,
      );
    }
  }
  return problems;
}

/** Everything wrong with a decoded header beyond what decodeHeader rejects (for verify). */
export function headerProblems(h: Header, fileSize: number): string[] {
  const problems = sectionProblems(h, fileSize);
  const present = sections(h).filter((s) => s.length > 0);
  for (let i = 0; i < present.length; i++) {
    for (let j = i + 1; j < present.length; j++) {
      const a = present[i]!;
      const b = present[j]!;
      if (a.offset < b.offset + b.length && b.offset < a.offset + a.length) {
        problems.push(
          `${a.name} (bytes ${a.offset}–${a.offset + a.length - 1}) overlaps ${b.name} (bytes ${b.offset}–${b.offset + b.length - 1})`,
        );
      }
    }
  }
  if (h.rootDirectoryOffset + h.rootDirectoryLength > ROOT_LIMIT_BYTES) {
    problems.push(
      `root directory ends at byte ${h.rootDirectoryOffset + h.rootDirectoryLength}, beyond the first ${ROOT_LIMIT_BYTES} bytes`,
    );
  }
  for (const [field, c] of [
    ['internal compression', h.internalCompression],
    ['tile compression', h.tileCompression],
  ] as const) {
    if (c > Compression.Zstd) problems.push(`${field} ${c} is not a known compression (0–4)`);
  }
  if (h.tileType > TileType.Mlt) problems.push(`tile type ${h.tileType} is not a known tile type (0–6)`);
  if (h.minZoom > h.maxZoom) problems.push(`min zoom ${h.minZoom} is greater than max zoom ${h.maxZoom}`);
  if (h.maxZoom > 26) problems.push(`max zoom ${h.maxZoom} is beyond 26`);
  const lonOk = (x: number) => x >= -180 && x <= 180;
  const latOk = (x: number) => x >= -90 && x <= 90;
  if (!lonOk(h.minLon) || !lonOk(h.maxLon) || !latOk(h.minLat) || !latOk(h.maxLat)) {
    problems.push(
      `bounds ${h.minLon},${h.minLat},${h.maxLon},${h.maxLat} are not valid longitudes/latitudes`,
    );
  }
  if (h.minLon > h.maxLon || h.minLat > h.maxLat) {
    problems.push(`bounds ${h.minLon},${h.minLat},${h.maxLon},${h.maxLat} have min greater than max`);
  }
  if (!lonOk(h.centerLon) || !latOk(h.centerLat)) {
    problems.push(`center ${h.centerLon},${h.centerLat} is not a valid longitude/latitude`);
  }
  return problems;
}
