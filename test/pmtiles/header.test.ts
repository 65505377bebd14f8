// The 127-byte header: round trip, agreement with the reference package's decoder, and clear rejections.
import { bytesToHeader } from 'pmtiles';
import { describe, expect, it } from 'vitest';
import {
  Compression,
  HEADER_BYTES,
  TileType,
  decodeHeader,
  encodeHeader,
  headerProblems,
  type Header,
} from '../../pipeline/pmtiles/header.js';

const sample: Header = {
  specVersion: 3,
  rootDirectoryOffset: 127,
  rootDirectoryLength: 300,
  jsonMetadataOffset: 427,
  jsonMetadataLength: 200,
  leafDirectoryOffset: 627,
  leafDirectoryLength: 5000,
  tileDataOffset: 5627,
  tileDataLength: 2 ** 40 + 12345,
  numAddressedTiles: 3_000_000,
  numTileEntries: 2_000_000,
  numTileContents: 1_000_000,
  clustered: true,
  internalCompression: Compression.Gzip,
  tileCompression: Compression.Gzip,
  tileType: TileType.Mvt,
  minZoom: 0,
  maxZoom: 14,
  minLon: 7.4090279,
  minLat: 43.7247599,
  maxLon: 7.4398704,
  maxLat: 43.7519311,
  centerZoom: 12,
  centerLon: 7.4244491,
  centerLat: 43.7383455,
};

describe('header', () => {
  it('is 127 bytes that start with the magic and version 3, and round-trips', () => {
    const bytes = encodeHeader(sample);
    expect(bytes.length).toBe(HEADER_BYTES);
    expect(new TextDecoder().decode(bytes.subarray(0, 7))).toBe('PMTiles');
    expect(bytes[7]).toBe(3);
    expect(decodeHeader(bytes)).toEqual(sample);
  });

  it('decodes like the reference package does', () => {
    const bytes = encodeHeader(sample);
    const ref = bytesToHeader(bytes.buffer as ArrayBuffer);
    const { etag: _etag, ...rest } = ref;
    expect(rest).toEqual(sample);
  });

  it('rejects empty, foreign, short and other-version files with one clear line', () => {
    expect(() => decodeHeader(new Uint8Array(0))).toThrow('file is empty');
    expect(() => decodeHeader(new TextEncoder().encode('x'.repeat(200)))).toThrow(
      'not a PMTiles archive (bad magic)',
    );
    expect(() => decodeHeader(new TextEncoder().encode('hello'))).toThrow(/not a PMTiles archive \(5 bytes/);
    const v4 = encodeHeader(sample);
    v4[7] = 4;
    expect(() => decodeHeader(v4)).toThrow('PMTiles version 4 is not supported (only version 3)');
    const v2 = new Uint8Array(HEADER_BYTES);
    v2.set([0x50, 0x4d, 2, 0]);
    expect(() => decodeHeader(v2)).toThrow('PMTiles version 2 is not supported (only version 3)');
    expect(() => decodeHeader(encodeHeader(sample).subarray(0, 100))).toThrow(/truncated header/);
  });

  it('rejects sections beyond the end of the file', () => {
    const bytes = encodeHeader(sample);
    expect(() => decodeHeader(bytes, 6000)).toThrow(/tile data .* beyond the file length 6000/);
  });

  it('reports overlapping sections, a late root and bad fields (for verify)', () => {
    const h = { ...sample, tileDataLength: 100, jsonMetadataOffset: 400, minZoom: 15 };
    const problems = headerProblems(h, 1_000_000);
    expect(problems).toContain('root directory (bytes 127–426) overlaps metadata (bytes 400–599)');
    expect(problems).toContain('min zoom 15 is greater than max zoom 14');
    const late = headerProblems({ ...sample, tileDataLength: 100, rootDirectoryOffset: 20_000 }, 1_000_000);
    expect(late.some((p) => p.includes('beyond the first 16384 bytes'))).toBe(true);
    expect(headerProblems({ ...sample, tileDataLength: 100 }, 1_000_000)).toEqual([]);
  });
});
