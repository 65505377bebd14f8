// The engine's record sort and the encoder's string table, against plain reference implementations: radixOrder
// is a stable sort by tile id (input order kept within a tile) for any ids below 2^32; sortRun moves every record's
// bytes along with its id, through the radix path and the comparison path (ids past 2^32), whatever room its buffer
// has; SliceTable gives equal byte strings one index and different ones different indices, across resets and growth.
import { describe, expect, it } from 'vitest';
import { radixOrder, sortRun } from '../../pipeline/tiler/records.js';
import { SliceTable } from '../../pipeline/tiler/assemble.js';
import { random } from '../helpers/random.js';

/** The stable order by id a comparison sort gives. */
const reference = (ids: number[]): number[] =>
  ids.map((_, i) => i).sort((a, b) => ids[a]! - ids[b]! || a - b);

describe('radixOrder', () => {
  it('sorts by tile id and keeps input order within a tile, for ids of every width below 2^32', () => {
    const rnd = random('7');
    for (const max of [0, 1, 2047, 2048, 4_194_303, 4_194_304, 358_000_000, 2 ** 32 - 1]) {
      // few distinct ids, so that ties (and their order) are common; plus the extremes
      const pool = Array.from({ length: 50 }, () => Math.floor(rnd() * (max + 1)));
      pool.push(0, max);
      const ids = Array.from({ length: 5000 }, () => pool[Math.floor(rnd() * pool.length)]!);
      const maxId = Math.max(...ids);
      expect([...radixOrder(ids, maxId)], `max ${max}`).toEqual(reference(ids));
    }
  });

  it('sorts ids offset by their minimum, for spans of every width up to the top of 2^32', () => {
    const rnd = random('8');
    for (const [min, span] of [
      [358_000_000, 0],
      [358_000_000, 2047],
      [358_000_000, 2048],
      [358_000_000, 4_194_304],
      [2 ** 32 - 5000, 4999],
      [1, 2 ** 32 - 2],
    ] as const) {
      const pool = Array.from({ length: 50 }, () => min + Math.floor(rnd() * (span + 1)));
      pool.push(min, min + span);
      const ids = Array.from({ length: 5000 }, () => pool[Math.floor(rnd() * pool.length)]!);
      expect([...radixOrder(ids, min + span, min)], `min ${min} span ${span}`).toEqual(reference(ids));
    }
  });

  it('handles an empty run and a single record', () => {
    expect([...radixOrder([], 0)]).toEqual([]);
    expect([...radixOrder([12345], 12345)]).toEqual([0]);
  });
});

/** Records of random lengths (some past 128 bytes), each filled with bytes derived from its index. */
function records(ids: number[], rnd: () => number): { bytes: Uint8Array; offsets: number[] } {
  const lengths = ids.map(() => 1 + Math.floor(rnd() * (rnd() < 0.1 ? 400 : 60)));
  const offsets: number[] = [];
  let total = 0;
  for (const n of lengths) {
    offsets.push(total);
    total += n;
  }
  const bytes = new Uint8Array(total);
  lengths.forEach((n, i) => {
    for (let k = 0; k < n; k++) bytes[offsets[i]! + k] = (i * 31 + k * 7) & 0xff;
  });
  return { bytes, offsets };
}

function recordAt(bytes: Uint8Array, offsets: ArrayLike<number>, i: number, end: number): number[] {
  return [...bytes.subarray(offsets[i]!, i + 1 < offsets.length ? offsets[i + 1]! : end)];
}

describe('sortRun', () => {
  for (const [name, maxId] of [
    ['radix path', 358_000_000],
    ['comparison path (ids past 2^32)', 2 ** 40],
  ] as const) {
    it(`moves each record's bytes with its tile id (${name}), with or without room in the buffer`, () => {
      const rnd = random('11');
      const pool = Array.from({ length: 40 }, () => Math.floor(rnd() * maxId));
      const ids = Array.from({ length: 3000 }, () => pool[Math.floor(rnd() * pool.length)]!);
      const { bytes, offsets } = records(ids, rnd);
      const expected = reference(ids).map((i) => ({
        id: ids[i]!,
        bytes: recordAt(bytes, offsets, i, bytes.length),
      }));
      for (const room of [0, bytes.length, 3 * bytes.length]) {
        const buf = new Uint8Array(bytes.length + room);
        buf.set(bytes);
        const run = sortRun(buf, bytes.length, ids, offsets);
        expect(run.bytes.length).toBe(bytes.length);
        const got = [...run.tileIds].map((id, k) => ({
          id,
          bytes: recordAt(run.bytes, run.offsets, k, run.bytes.length),
        }));
        expect(got).toEqual(expected);
      }
    });
  }
});

describe('SliceTable', () => {
  it('gives equal byte strings one index and different ones different indices, across resets', () => {
    const rnd = random('5');
    const table = new SliceTable();
    for (let round = 0; round < 4; round++) {
      // many short strings from a small alphabet: duplicates, shared prefixes, different lengths, the empty one;
      // enough distinct ones to grow the table several times
      const strings = Array.from({ length: 6000 }, () => {
        const n = Math.floor(rnd() * (round === 3 ? 2 : 6));
        return Array.from({ length: n }, () => 97 + Math.floor(rnd() * 4));
      });
      const buf = new Uint8Array(strings.flat());
      table.reset(buf);
      const seen = new Map<string, number>();
      let pos = 0;
      for (const s of strings) {
        const index = table.indexOf(pos, pos + s.length);
        const key = String.fromCharCode(...s);
        if (!seen.has(key)) seen.set(key, seen.size);
        expect(index).toBe(seen.get(key));
        pos += s.length;
      }
      expect(table.count).toBe(seen.size);
      const entries = Array.from({ length: table.count }, (_, i) =>
        String.fromCharCode(...buf.subarray(table.starts[i]!, table.ends[i]!)),
      );
      expect(entries).toEqual([...seen.keys()]);
    }
  });

  it('tells apart different strings of the same length and the same 32-bit hash', () => {
    // FNV-1a of both is 2186805675 (found by search): only the byte comparison separates them
    const a = 'k0062vu';
    const b = 'k00duea';
    const buf = new Uint8Array([...a, ...b, ...a, ...b].map((c) => c.charCodeAt(0)));
    const table = new SliceTable();
    table.reset(buf);
    expect([0, 7, 14, 21].map((p) => table.indexOf(p, p + 7))).toEqual([0, 1, 0, 1]);
  });
});
