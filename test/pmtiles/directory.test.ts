// Directory encoding (spec 4.2/4.3): round trips, the offset shorthand, large values, lookups and malformed input.
import { describe, expect, it } from 'vitest';
import {
  DirectoryError,
  deserializeDirectory,
  findEntry,
  serializeDirectory,
  type Entry,
} from '../../pipeline/pmtiles/directory.js';

describe('directories', () => {
  it('encode the columns as the spec pseudocode does', () => {
    const entries: Entry[] = [
      { tileId: 5, offset: 0, length: 42, runLength: 1 },
      { tileId: 42, offset: 42, length: 10, runLength: 3 }, // contiguous: offset written as 0
      { tileId: 69, offset: 0, length: 42, runLength: 1 }, // points back: offset written as offset + 1
    ];
    const bytes = serializeDirectory(entries);
    // count, tile id deltas, run lengths, lengths, offsets
    expect([...bytes]).toEqual([3, 5, 37, 27, 1, 3, 1, 42, 10, 42, 1, 0, 1]);
    expect(deserializeDirectory(bytes)).toEqual(entries);
  });

  it('round-trip values beyond 32 bits', () => {
    const entries: Entry[] = [
      { tileId: 2 ** 40 + 3, offset: 2 ** 45 + 7, length: 300, runLength: 1 },
      { tileId: 2 ** 50 + 1, offset: 2 ** 45 + 307, length: 2 ** 31 + 5, runLength: 2 ** 32 - 1 },
    ];
    expect(deserializeDirectory(serializeDirectory(entries))).toEqual(entries);
  });

  it('find tiles in runs and the leaf to descend into', () => {
    const entries: Entry[] = [
      { tileId: 10, offset: 0, length: 5, runLength: 3 },
      { tileId: 20, offset: 5, length: 5, runLength: 1 },
      { tileId: 100, offset: 0, length: 50, runLength: 0 },
    ];
    expect(findEntry(entries, 9)).toBeUndefined();
    expect(findEntry(entries, 10)).toBe(entries[0]);
    expect(findEntry(entries, 12)).toBe(entries[0]);
    expect(findEntry(entries, 13)).toBeUndefined();
    expect(findEntry(entries, 20)).toBe(entries[1]);
    expect(findEntry(entries, 21)).toBeUndefined();
    expect(findEntry(entries, 5000)).toBe(entries[2]);
    expect(findEntry([], 1)).toBeUndefined();
  });

  it('reject truncated, trailing and absurd input with a DirectoryError', () => {
    const bytes = serializeDirectory([
      { tileId: 1, offset: 0, length: 1, runLength: 1 },
      { tileId: 2, offset: 1, length: 1, runLength: 1 },
    ]);
    expect(() => deserializeDirectory(bytes.subarray(0, bytes.length - 1))).toThrow(DirectoryError);
    expect(() => deserializeDirectory(new Uint8Array([...bytes, 0]))).toThrow(/trailing/);
    expect(() => deserializeDirectory(new Uint8Array([0xff, 0xff, 0xff, 0x7f]))).toThrow(/claims/);
    expect(() => deserializeDirectory(new Uint8Array([1, 1, 1, 1, 0]))).toThrow(/first entry/);
  });

  it('refuse to encode unsorted entries', () => {
    expect(() =>
      serializeDirectory([
        { tileId: 2, offset: 0, length: 1, runLength: 1 },
        { tileId: 1, offset: 1, length: 1, runLength: 1 },
      ]),
    ).toThrow(/not above/);
  });
});
