// The native tile encoder (native/tile.c, built by scripts/setup.sh) against the JavaScript encoder it stands in
// for: for varied records (layer names that sort differently, non-ASCII names, every kind of property value,
// repeated and distinct keys and values, keys and values of any length that differ in a single byte, ids up to and
// beyond 2^32, sort keys out of order and equal, records in several sorted runs, features of several records, every
// geometry type) it writes the same MVT bytes as encodeLayers(groupLayers(…)), the bytes decode with
// @mapbox/vector-tile to the features put in, it leaves to JavaScript what it would not encode the same way, records
// that lie apart (encodeAt) come out the same, and assembleRecords(At) gives the same tiles either way, over budget
// too.
// WEFT_TEST_TILE_ADDON=path tests another build of native/tile.c in place of build/native/tile.node (one built with
// -fsanitize=address,undefined, say); assembleRecords still uses the regular build.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VectorTileLayer } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { describe, expect, it } from 'vitest';
import {
  assembleRecords,
  assembleRecordsAt,
  assembleTile,
  encodeLayers,
  encodedTiles,
  groupLayers,
} from '../../pipeline/tiler/assemble.js';
import { ByteReader } from '../../pipeline/tiler/bytes.js';
import { TileEncoder, nativeTileEncoder, nativeTileEncoderError } from '../../pipeline/tiler/native-tiles.js';
import { RecordTable, RecordWriter } from '../../pipeline/tiler/records.js';
import { validateTile } from '../../pipeline/mvt/validate.js';
import type { PropertyValue } from '../../pipeline/mvt/types.js';
import { random } from '../helpers/random.js';

const override = process.env.WEFT_TEST_TILE_ADDON;
const addonPath = override ?? fileURLToPath(new URL('../../build/native/tile.node', import.meta.url));
const native = override
  ? new TileEncoder(createRequire(import.meta.url)(override) as ConstructorParameters<typeof TileEncoder>[0])
  : nativeTileEncoder();
const reason = override ? '' : nativeTileEncoderError();
if (reason)
  console.warn(`test/tiler/native-tiles.test.ts: skipped, the native tile encoder is not used: ${reason}`);

const utf8 = new TextEncoder();
const EXTENT = 4096;

type Point = [number, number];
/** One record: a geometry type and its parts (points, lines or rings, without the closing point). */
interface Part {
  type: 1 | 2 | 3;
  geometry: Point[][];
}
interface Feature {
  layer: string | Uint8Array;
  seq: number;
  sortKey: number;
  id?: number;
  props: Record<string, PropertyValue>;
  /** the feature's records in this tile (several: equal sort key and seq) */
  records: Part[];
}

const zigzag = (n: number) => (n << 1) ^ (n >> 31);

/** MVT command integers of a part (spec 4.3). */
function commands(p: Part): number[] {
  const out: number[] = [];
  let x = 0;
  let y = 0;
  const to = ([px, py]: Point) => {
    out.push(zigzag(px - x), zigzag(py - y));
    x = px;
    y = py;
  };
  if (p.type === 1) {
    const points = p.geometry.flat();
    out.push(1 | (points.length << 3));
    points.forEach(to);
    return out;
  }
  for (const line of p.geometry) {
    out.push(1 | (1 << 3));
    to(line[0]!);
    out.push(2 | ((line.length - 1) << 3));
    line.slice(1).forEach(to);
    if (p.type === 3) out.push(7 | (1 << 3));
  }
  return out;
}

interface Tiles {
  bytes: Uint8Array;
  /** where each record starts */
  offsets: Uint32Array;
  /** per tile: where its records start, how many, where they end */
  starts: number[];
  counts: number[];
  ends: number[];
}

/** The records of each tile as the map stage writes them (RecordWriter, one sorted run). */
function writeTiles(tiles: Feature[][]): Tiles {
  const w = new RecordWriter();
  tiles.forEach((features, t) => {
    for (const f of features) {
      w.feature(
        f.seq,
        f.sortKey,
        typeof f.layer === 'string' ? utf8.encode(f.layer) : f.layer,
        f.id,
        f.props,
      );
      for (const part of f.records) {
        const single = part.type === 1 && part.geometry.length === 1 && part.geometry[0]!.length === 1;
        if (single && f.seq % 2 === 0) {
          const [x, y] = part.geometry[0]![0]!;
          w.addPoint(t, zigzag(x), zigzag(y));
        } else w.add(t, part.type, commands(part));
      }
    }
  });
  const run = w.finish();
  const starts: number[] = [];
  const counts: number[] = [];
  const ends: number[] = [];
  let i = 0;
  for (let t = 0; t < tiles.length; t++) {
    const first = i;
    while (i < run.tileIds.length && run.tileIds[i] === t) i++;
    starts.push(first < run.offsets.length ? run.offsets[first]! : run.bytes.length);
    counts.push(i - first);
    ends.push(i < run.offsets.length ? run.offsets[i]! : run.bytes.length);
  }
  return { bytes: run.bytes, offsets: run.offsets, starts, counts, ends };
}

const table = new RecordTable();

/** The JavaScript encoder's tile (a copy) and where it stopped reading. */
function jsTile(bytes: Uint8Array, start: number, count: number, extent = EXTENT) {
  const r = new ByteReader(bytes);
  r.pos = start;
  table.read(r, count);
  return { raw: encodeLayers(table, groupLayers(table), extent).slice(), end: r.pos };
}

/** The JavaScript encoder's tile (a copy) for records at buf[starts[i]]. */
function jsTileAt(bytes: Uint8Array, starts: Uint32Array, count: number) {
  table.readAt(bytes, starts, count);
  return encodeLayers(table, groupLayers(table), EXTENT).slice();
}

/** The native encoder's tile (a copy) and end, or null. */
function nativeTile(bytes: Uint8Array, start: number, count: number, extent = EXTENT) {
  const raw = native!.encode(bytes, start, count, extent);
  return raw && { raw: raw.slice(), end: native!.end };
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Property values of every kind the encoder stores (string, float, double, uint, sint, bool). */
const VALUES: PropertyValue[] = [
  'plain',
  '',
  'Zürich 東京 😀',
  'plain ', // a value that differs only at its end
  0,
  1,
  127,
  128,
  300,
  2 ** 32 + 7,
  Number.MAX_SAFE_INTEGER,
  -1,
  -300,
  -(2 ** 40),
  -(2 ** 52),
  0.5,
  -0.25,
  1.5e-7,
  0.1,
  Math.PI,
  1e300,
  -(2 ** 53),
  true,
  false,
];
const KEYS = ['kind', 'name', 'rank', 'größe', '', 'k:é', 'x'];
/** Names in an order unlike their sorted one: case, prefixes, empty, two-, three- and four-byte UTF-8 characters. */
const LAYERS = [
  'roads',
  'Roads',
  'road',
  'road_labels',
  '',
  'é',
  'z',
  'ü',
  '東京',
  '😀 emoji',
  'a',
  '1',
  '10',
  '9',
];
const SORT_KEYS = [0, 0, 0, 1, -1, 2.5, -2.5, 1e10, Infinity, -Infinity, -0];
const IDS = [
  undefined,
  undefined,
  0,
  7,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 32 + 5,
  2 ** 40 + 123,
  Number.MAX_SAFE_INTEGER,
  2 ** 60,
];

/** Points, lines, or polygons of rectangles wound as MVT wants exterior rings (several parts, or one). */
function randomPart(rnd: () => number, type = (1 + Math.floor(rnd() * 3)) as 1 | 2 | 3): Part {
  const coord = (): Point => [Math.floor(rnd() * 4400) - 150, Math.floor(rnd() * 4400) - 150];
  const parts = 1 + Math.floor(rnd() * (type === 1 ? 1 : 3));
  const geometry: Point[][] = [];
  for (let p = 0; p < parts; p++) {
    if (type === 1) geometry.push(Array.from({ length: 1 + Math.floor(rnd() * 4) }, coord));
    else if (type === 2) geometry.push(Array.from({ length: 2 + Math.floor(rnd() * 6) }, coord));
    else {
      const [x, y] = coord();
      const [w, h] = [1 + Math.floor(rnd() * 300), 1 + Math.floor(rnd() * 300)];
      geometry.push([
        [x, y],
        [x + w, y],
        [x + w, y + h],
        [x, y + h],
      ]);
    }
  }
  return { type, geometry };
}

function randomFeature(rnd: () => number, seq: number, layers = LAYERS): Feature {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  const props: Record<string, PropertyValue> = {};
  const n = rnd() < 0.15 ? 0 : Math.floor(rnd() * 6);
  for (let k = 0; k < n; k++) props[pick(KEYS)] = rnd() < 0.2 ? `v${Math.floor(rnd() * 50)}` : pick(VALUES);
  const records = Array.from({ length: rnd() < 0.1 ? 2 + Math.floor(rnd() * 3) : 1 }, () => randomPart(rnd));
  return { layer: pick(layers), seq, sortKey: pick(SORT_KEYS), id: pick(IDS), props, records };
}

/** A tile's features: seqs mostly rising (as the merge hands them over), sometimes shuffled or repeated. */
function randomTile(rnd: () => number, size: number, layers = LAYERS): Feature[] {
  const features: Feature[] = [];
  let seq = Math.floor(rnd() * 1000);
  const order = rnd();
  for (let i = 0; i < size; i++) {
    seq +=
      order < 0.5 ? 1 + Math.floor(rnd() * 3) : order < 0.8 ? Math.floor(rnd() * 3) : -Math.floor(rnd() * 5);
    features.push(randomFeature(rnd, Math.max(0, seq), layers));
  }
  return features;
}

/** What a tile should decode to: layers in name order, each with its records by (sort key, seq), stably. */
function expected(features: Feature[]) {
  const byLayer = new Map<string, { f: Feature; part: Part }[]>();
  for (const f of features)
    for (const part of f.records) {
      const name = f.layer as string;
      if (!byLayer.has(name)) byLayer.set(name, []);
      byLayer.get(name)!.push({ f, part });
    }
  const names = [...byLayer.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const value = (v: PropertyValue) =>
    typeof v === 'number' && !Number.isInteger(v) && Math.fround(v) === v ? Math.fround(v) : v;
  return names.map((name) => ({
    name,
    features: byLayer
      .get(name)!
      .sort((a, b) => (a.f.sortKey < b.f.sortKey ? -1 : a.f.sortKey > b.f.sortKey ? 1 : a.f.seq - b.f.seq))
      .map(({ f, part }) => ({
        id: f.id,
        type: part.type,
        properties: Object.fromEntries(Object.entries(f.props).map(([k, v]) => [k, value(v)])),
        geometry:
          part.type === 1
            ? part.geometry.flat().map((p) => [p])
            : part.geometry.map((line) => (part.type === 3 ? [...line, line[0]!] : line)),
      })),
  }));
}

/** The tile as @mapbox/vector-tile reads it, layers in their order in the tile. */
function decoded(raw: Uint8Array) {
  const pbf = new PbfReader(raw);
  const layers: { name: string; features: unknown[] }[] = [];
  while (pbf.pos < pbf.length) {
    const tag = pbf.readVarint();
    if (tag !== 26) throw new Error(`unexpected tile field ${tag}`);
    const layer = new VectorTileLayer(pbf, pbf.readVarint() + pbf.pos);
    const next = pbf.pos; // reading features moves the reader
    expect([layer.version, layer.extent]).toEqual([2, EXTENT]);
    const features = [];
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      features.push({
        id: f.id,
        type: f.type,
        properties: f.properties,
        geometry: f.loadGeometry().map((ring) => ring.map((p) => [p.x, p.y])),
      });
    }
    layers.push({ name: layer.name, features });
    pbf.pos = next;
  }
  return layers;
}

describe.skipIf(!native)(`the native tile encoder${native ? '' : ` (skipped: ${reason})`}`, () => {
  it('writes the bytes the JavaScript encoder writes for a varied tile, which decode to the features put in', () => {
    const rnd = random('native tiles: varied');
    const features: Feature[] = [];
    // every layer name, interleaved; every value under every key; every id and sort key
    for (let i = 0; i < 600; i++) {
      const f = randomFeature(rnd, 1000 - (i % 300)); // seqs out of order, each twice
      f.layer = LAYERS[i % LAYERS.length]!;
      f.props = { [KEYS[i % KEYS.length]!]: VALUES[i % VALUES.length]!, rank: i % 7, same: 'x' };
      if (i % 11 === 0) f.props = {};
      f.sortKey = SORT_KEYS[i % SORT_KEYS.length]!;
      f.id = IDS[i % IDS.length];
      features.push(f);
    }
    // one feature of many records with equal sort keys and seqs, among others
    features.push({
      ...randomFeature(rnd, 5),
      layer: 'roads',
      sortKey: 1,
      records: ([1, 2, 3, 1, 2, 3] as const).map((type) => randomPart(rnd, type)),
    });
    const tiles = writeTiles([features]);
    const js = jsTile(tiles.bytes, tiles.starts[0]!, tiles.counts[0]!);
    const got = nativeTile(tiles.bytes, tiles.starts[0]!, tiles.counts[0]!);
    expect(got).not.toBeNull();
    expect(got!.end).toBe(tiles.ends[0]);
    expect(js.end).toBe(tiles.ends[0]);
    expect(same(got!.raw, js.raw)).toBe(true);
    expect(validateTile(got!.raw)).toEqual([]); // the structure (random rings need not wind as strict MVT wants)
    expect(decoded(got!.raw)).toEqual(expected(features));
  });

  it('keeps the layer order of JavaScript strings for names beyond the Basic Multilingual Plane', () => {
    const rnd = random('native tiles: planes');
    // U+10000.. (four bytes, UTF-16 surrogates) against U+0800..U+D7FF (three bytes): the same order either way
    const layers = ['\u{1F600}', '\u{10000}', '\u0800', '\uD7FF', '\u07FF', 'z', '\u{10FFFF}'];
    const features = randomTile(rnd, 200, layers);
    const tiles = writeTiles([features]);
    const got = nativeTile(tiles.bytes, 0, tiles.counts[0]!);
    expect(got).not.toBeNull();
    expect(same(got!.raw, jsTile(tiles.bytes, 0, tiles.counts[0]!).raw)).toBe(true);
    expect(decoded(got!.raw)).toEqual(expected(features));
  });

  it('sorts stably: the records of a feature and features with equal sort keys and seqs keep their order', () => {
    const features: Feature[] = [];
    // seqs falling, so that the layer must be sorted; records of one feature and features 3k and 3k + 2 tie
    for (let i = 0; i < 300; i++) {
      const seq = 300 - Math.floor(i / 3);
      features.push({
        layer: 'l',
        seq,
        sortKey: i % 2,
        props: { i },
        records: Array.from({ length: 4 }, (_, k) => ({ type: 1, geometry: [[[i, k]]] }) as Part),
      });
    }
    const tiles = writeTiles([features]);
    const got = nativeTile(tiles.bytes, 0, tiles.counts[0]!)!;
    expect(same(got.raw, jsTile(tiles.bytes, 0, tiles.counts[0]!).raw)).toBe(true);
    expect(decoded(got.raw)).toEqual(expected(features));
  });

  it('deduplicates keys and values by their bytes, in order of first appearance, per layer', () => {
    const features: Feature[] = [
      {
        layer: 'b',
        seq: 1,
        sortKey: 0,
        props: { k: 'v', n: 1, f: 0.5 },
        records: [{ type: 1, geometry: [[[1, 1]]] }],
      },
      {
        layer: 'b',
        seq: 2,
        sortKey: 0,
        props: { n: 1, k: 'w', f: 0.5 },
        records: [{ type: 1, geometry: [[[2, 2]]] }],
      },
      {
        layer: 'b',
        seq: 3,
        sortKey: 0,
        props: { f: 1, k: 'v', t: true },
        records: [{ type: 1, geometry: [[[3, 3]]] }],
      },
      // the same strings in another layer count afresh; a value equal to a key is no key
      {
        layer: 'a',
        seq: 4,
        sortKey: 0,
        props: { n: 'k', k: 'v' },
        records: [{ type: 1, geometry: [[[4, 4]]] }],
      },
    ];
    const tiles = writeTiles([features]);
    const got = nativeTile(tiles.bytes, 0, tiles.counts[0]!)!;
    expect(same(got.raw, jsTile(tiles.bytes, 0, tiles.counts[0]!).raw)).toBe(true);
    const pbf = new PbfReader(got.raw);
    const tables: Record<string, [string[], unknown[]]> = {};
    while (pbf.pos < pbf.length) {
      pbf.readVarint();
      const layer = new VectorTileLayer(pbf, pbf.readVarint() + pbf.pos) as unknown as {
        name: string;
        _keys: string[];
        _values: unknown[];
      };
      tables[layer.name] = [layer._keys, layer._values];
    }
    expect(tables).toEqual({
      a: [
        ['n', 'k'],
        ['k', 'v'],
      ],
      b: [
        ['k', 'n', 'f', 't'],
        ['v', 1, 0.5, 'w', true],
      ],
    });
    expect(decoded(got.raw)).toEqual(expected(features));
  });

  it('tells keys and values apart by every byte at any length, and sorts records that come in several runs', () => {
    // keys and string values of 0 to 40 bytes, each beside copies that differ from it in one byte (each byte in turn),
    // which the native lookup (words of up to 8 bytes, not bytes) must tell apart, and repeated further on, which it
    // must not; over a thousand in a layer, so that its tables grow several times
    const strings: string[] = [];
    for (let len = 0; len <= 40; len++) {
      const base = Array.from({ length: len }, (_, i) => String.fromCharCode(97 + ((i * 7 + len) % 26))).join(
        '',
      );
      strings.push(base);
      for (let i = 0; i < len; i++) strings.push(base.slice(0, i) + 'Z' + base.slice(i + 1));
    }
    const n = strings.length;
    const features: Feature[] = strings.map((s, j) => ({
      layer: 'l',
      seq: j,
      sortKey: [0, -0, 1, -1][j % 4]!,
      props: { [s]: strings[(j * 31) % n]!, [strings[(j * 17) % n]!]: s, rank: j % 5 },
      records: [{ type: 1, geometry: [[[j % 4096, 7]]] }],
    }));
    const run = writeTiles([features]);
    expect(run.counts[0]).toBe(n);
    // the records in k runs, each in order (records k apart), as when runs are merged; and all in reverse
    const orders = [1, 2, 3, 5, 8, 9].map((k) =>
      Array.from({ length: k }, (_, r) => Array.from(run.offsets.filter((_, i) => i % k === r))).flat(),
    );
    orders.push(Array.from(run.offsets).reverse());
    for (const order of orders) {
      const starts = Uint32Array.from(order);
      const got = native!.encodeAt(run.bytes, starts, n, EXTENT)!;
      expect(got).not.toBeNull();
      expect(same(got, jsTileAt(run.bytes, starts, n))).toBe(true);
      expect(decoded(got)).toEqual(expected(features));
    }
  });

  it('writes ids from 0 to beyond 2^53 as the JavaScript writer does, and none for negative ids', () => {
    const ids = [
      0,
      -0,
      1,
      127,
      128,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 35 - 1,
      2 ** 35,
      2 ** 53,
      2 ** 63,
      2 ** 64 - 2048,
      -1,
      -(2 ** 40),
    ];
    const features = ids.map((id, i): Feature => ({
      layer: 'l',
      seq: i,
      sortKey: 0,
      id,
      props: {},
      records: [{ type: 1, geometry: [[[i, i]]] }],
    }));
    const tiles = writeTiles([features]);
    const got = nativeTile(tiles.bytes, 0, tiles.counts[0]!)!;
    expect(same(got.raw, jsTile(tiles.bytes, 0, tiles.counts[0]!).raw)).toBe(true);
    // as @mapbox/vector-tile reads them (exactly below 2^53)
    const read = (decoded(got.raw)[0]!.features as { id?: number }[]).map((f) => f.id);
    const safe = ids.map((id, i) => [id, read[i]]).filter(([id]) => id! < 2 ** 53);
    expect(safe.map(([, id]) => id)).toEqual(safe.map(([id]) => (id! >= 0 ? Math.abs(id!) : undefined)));
  });

  it('matches the JavaScript encoder on thousands of random tiles, and reads each to its end', () => {
    const rnd = random('native tiles: fuzz');
    let tiles = 0;
    let records = 0;
    for (let batch = 0; batch < 6; batch++) {
      const features = Array.from({ length: 500 }, () => {
        const r = rnd();
        const size =
          r < 0.3 ? 1 : r < 0.8 ? 1 + Math.floor(rnd() * 10) : r < 0.98 ? Math.floor(rnd() * 80) : 400;
        // some tiles of one or two layers, as most tiles are
        const layers = rnd() < 0.5 ? LAYERS.slice(0, 1 + Math.floor(rnd() * 2)) : LAYERS;
        return randomTile(rnd, size, layers);
      });
      const run = writeTiles(features);
      for (let t = 0; t < features.length; t++) {
        const start = run.starts[t]!;
        const count = run.counts[t]!;
        const extent = [4096, 512, 300, 2 ** 33][t % 4]!;
        const js = jsTile(run.bytes, start, count, extent);
        const got = nativeTile(run.bytes, start, count, extent);
        expect(got, `tile ${batch}/${t}`).not.toBeNull();
        expect(got!.end).toBe(run.ends[t]);
        expect(js.end).toBe(run.ends[t]);
        if (!same(got!.raw, js.raw)) expect([...got!.raw], `tile ${batch}/${t}`).toEqual([...js.raw]);
        tiles++;
        records += count;
      }
    }
    expect([tiles, records > 20_000]).toEqual([3000, true]);
  });

  it('leaves to JavaScript what it would not encode identically, and assembleRecords still gives the same tile', () => {
    const rnd = random('native tiles: left');
    const base = () => randomTile(rnd, 20, ['a', 'b']);
    const cases: [string, (f: Feature) => void][] = [
      // U+FB01 sorts before U+1F600 in UTF-8 and after it in UTF-16
      ['a name from U+E000 to U+FFFF', (f) => (f.layer = '\uFB01')],
      ['a name starting with a BOM', (f) => (f.layer = '\uFEFFa')],
      ['a name of invalid UTF-8', (f) => (f.layer = new Uint8Array([0x61, 0xff]))],
      ['an overlong UTF-8 name', (f) => (f.layer = new Uint8Array([0xc0, 0x80]))],
      ['a UTF-8 surrogate name', (f) => (f.layer = new Uint8Array([0xed, 0xa0, 0x80]))],
      ['a truncated UTF-8 name', (f) => (f.layer = new Uint8Array([0x61, 0xe6, 0x9d]))],
      ['a NaN sort key', (f) => (f.sortKey = NaN)],
      ['a fractional id', (f) => (f.id = 1.5)],
      ['an id of 2^64', (f) => (f.id = 2 ** 64)],
      ['a seq above 2^53', (f) => (f.seq = 2 ** 54)],
      ['a geometry type above 127', (f) => (f.records[0]!.type = 200 as 1)],
    ];
    for (const [what, change] of cases) {
      const features = base();
      const plain = writeTiles([features]);
      expect(nativeTile(plain.bytes, 0, plain.counts[0]!), what).not.toBeNull();
      change(features[7]!);
      features.push({ ...features[3]!, layer: '\u{1F600}' });
      const tiles = writeTiles([features]);
      expect(nativeTile(tiles.bytes, 0, tiles.counts[0]!), what).toBeNull();
      const opts = { extent: EXTENT, budget: 500_000, level: 6 };
      const before = { ...encodedTiles };
      const got = assembleRecords(tiles.bytes, 0, tiles.counts[0]!, opts);
      expect(encodedTiles.javascript, what).toBe(before.javascript + 1);
      const r = new ByteReader(tiles.bytes);
      table.read(r, tiles.counts[0]!);
      expect(got, what).toEqual({ ...assembleTile(table, opts), end: r.pos });
    }
  });

  it('reads damaged records without harm: it leaves them to JavaScript or writes what JavaScript writes', () => {
    const rnd = random('native tiles: damaged');
    const good = writeTiles(Array.from({ length: 50 }, () => randomTile(rnd, 1 + Math.floor(rnd() * 30))));
    let left = 0;
    let written = 0;
    for (let i = 0; i < 3000; i++) {
      const t = Math.floor(rnd() * 50);
      const bytes = good.bytes.slice(
        0,
        rnd() < 0.2 ? good.ends[t]! - Math.floor(rnd() * 20) : good.bytes.length,
      );
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
        const at = good.starts[t]! + Math.floor(rnd() * (good.ends[t]! - good.starts[t]!));
        if (at < bytes.length)
          bytes[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : bytes[at]! ^ (1 << Math.floor(rnd() * 8));
      }
      const count = good.counts[t]! + (rnd() < 0.1 ? 1 : 0);
      const got = nativeTile(bytes, good.starts[t]!, count);
      if (!got) {
        left++;
        continue; // the JavaScript reader may run past the end of damaged records: not compared
      }
      written++;
      const js = jsTile(bytes, good.starts[t]!, count);
      expect(got.end).toBe(js.end);
      expect(same(got.raw, js.raw)).toBe(true);
    }
    expect(left).toBeGreaterThan(100);
    expect(written).toBeGreaterThan(100);
  });

  it('reads records that lie apart (in the order of their starts), in shared memory too', () => {
    const rnd = random('native tiles: apart');
    const run = writeTiles(Array.from({ length: 100 }, () => randomTile(rnd, Math.floor(rnd() * 30))));
    const n = run.offsets.length;
    // the records at their offsets in a SharedArrayBuffer, as the engine's arena holds them
    const shared = new Uint8Array(new SharedArrayBuffer(run.bytes.length + 64));
    shared.set(run.bytes, 64);
    for (let t = 0; t < 300; t++) {
      const count = Math.floor(rnd() * 60);
      const picked = Array.from({ length: count }, () => Math.floor(rnd() * n)); // any records, any order
      const starts = Uint32Array.from(picked, (i) => run.offsets[i]!);
      const js = jsTileAt(run.bytes, starts, count);
      const got = native!.encodeAt(run.bytes, starts, count, EXTENT);
      expect(got, `tile ${t}`).not.toBeNull();
      expect(same(got!, js), `tile ${t}`).toBe(true);
      const inShared = native!.encodeAt(
        shared,
        starts.map((s) => s + 64),
        count,
        EXTENT,
      );
      expect(same(inShared!, js), `tile ${t}`).toBe(true);
    }
    // a start beyond the records, and fewer starts than records
    expect(native!.encodeAt(run.bytes, Uint32Array.of(0, run.bytes.length), 2, EXTENT)).toBeNull();
    expect(native!.encodeAt(run.bytes, Uint32Array.of(0), 2, EXTENT)).toBeNull();
  });

  it('keeps its buffers per thread: a fresh worker thread writes the same bytes, after an empty tile first', async () => {
    const rnd = random('native tiles: worker');
    const run = writeTiles([randomTile(rnd, 200)]);
    const worker = new Worker(
      `const { parentPort, workerData: w } = require('node:worker_threads');
      const addon = require(w.path);
      const info = new Float64Array(2);
      const empty = addon.encodeTile(w.bytes, 0, 0, 4096, new Uint8Array(0), info);
      const out = new Uint8Array(1 << 20);
      const n = addon.encodeTile(w.bytes, 0, w.count, 4096, out, info);
      parentPort.postMessage({ empty, tile: out.slice(0, n), end: info[0] });`,
      { eval: true, workerData: { path: addonPath, bytes: run.bytes, count: run.counts[0] } },
    );
    const got = await new Promise<{ empty: number; tile: Uint8Array; end: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect([got.empty, got.end]).toEqual([0, run.ends[0]]);
    expect(same(got.tile, jsTile(run.bytes, 0, run.counts[0]!).raw)).toBe(true);
  });

  it('grows its output for a large tile and reports where the records end', () => {
    const rnd = random('native tiles: large');
    const features = randomTile(rnd, 3000);
    for (const f of features) f.props.long = 'x'.repeat(Math.floor(rnd() * 200)) + f.seq;
    const tiles = writeTiles([[], features, []]);
    expect(tiles.counts[0]).toBe(0);
    const empty = nativeTile(tiles.bytes, tiles.starts[0]!, 0)!;
    expect([empty.raw.length, empty.end]).toEqual([0, tiles.starts[0]]);
    const got = nativeTile(tiles.bytes, tiles.starts[1]!, tiles.counts[1]!)!;
    expect(got.raw.length).toBeGreaterThan(1 << 18);
    expect(got.end).toBe(tiles.bytes.length);
    expect(same(got.raw, jsTile(tiles.bytes, tiles.starts[1]!, tiles.counts[1]!).raw)).toBe(true);
  });
});

describe.skipIf(!nativeTileEncoder())(
  `assembleRecords with the native encoder${nativeTileEncoder() ? '' : ` (skipped: ${nativeTileEncoderError()})`}`,
  () => {
    it('gives the tiles of the JavaScript path for records that lie apart, over the budget and left to it too', () => {
      const rnd = random('native tiles: assemble apart');
      const run = writeTiles(Array.from({ length: 50 }, () => randomTile(rnd, Math.floor(rnd() * 40))));
      // a feature whose layer name JavaScript orders otherwise than its bytes: left to JavaScript
      const odd = writeTiles([[{ ...randomFeature(rnd, 1), layer: '\uFB01' }]]);
      const bytes = new Uint8Array(run.bytes.length + odd.bytes.length);
      bytes.set(run.bytes);
      bytes.set(odd.bytes, run.bytes.length);
      const n = run.offsets.length;
      for (const [budget, level] of [
        [500_000, 6],
        [1_000, 1],
      ] as const) {
        const opts = { extent: EXTENT, budget, level };
        const before = { ...encodedTiles };
        for (let t = 0; t < 100; t++) {
          const picked = Array.from({ length: t % 10 === 0 ? 600 : Math.floor(rnd() * 40) }, () =>
            Math.floor(rnd() * n),
          );
          const starts = Uint32Array.from(picked, (i) => run.offsets[i]!);
          const withOdd = t % 7 === 0 ? Uint32Array.of(...starts, run.bytes.length) : starts;
          const got = assembleRecordsAt(bytes, withOdd, withOdd.length, opts);
          table.readAt(bytes, withOdd, withOdd.length);
          const want = assembleTile(table, opts);
          expect({ ...got, data: Buffer.from(got.data).toString('base64') }, `tile ${t}`).toEqual({
            ...want,
            data: Buffer.from(want.data).toString('base64'),
          });
        }
        const native = encodedTiles.native - before.native;
        const js = encodedTiles.javascript - before.javascript;
        expect(native + js).toBe(100);
        // the tiles with the odd name, and at the small budget the large ones, go to JavaScript
        if (budget === 500_000) expect(js).toBe(15);
        else expect([native > 0, js > 15]).toEqual([true, true]);
      }
    });

    it('gives the tiles of the JavaScript path, over the budget too (where JavaScript drops features)', () => {
      const rnd = random('native tiles: assemble');
      const features = Array.from({ length: 300 }, (_, t) =>
        randomTile(rnd, t % 50 === 0 ? 2000 : Math.floor(rnd() * 40)),
      );
      const run = writeTiles(features);
      for (const [budget, level] of [
        [500_000, 6],
        [2_000, 1],
      ] as const) {
        const opts = { extent: EXTENT, budget, level };
        const before = { ...encodedTiles };
        let dropped = 0;
        for (let t = 0; t < features.length; t++) {
          const got = assembleRecords(run.bytes, run.starts[t]!, run.counts[t]!, opts);
          const r = new ByteReader(run.bytes);
          r.pos = run.starts[t]!;
          table.read(r, run.counts[t]!);
          const want = { ...assembleTile(table, opts), end: r.pos };
          expect(got.end).toBe(run.ends[t]);
          // the gzip bytes compared as a Buffer (toEqual goes element by element)
          expect(
            { ...got, data: Buffer.from(got.data).toString('base64') },
            `tile ${t}, budget ${budget}`,
          ).toEqual({
            ...want,
            data: Buffer.from(want.data).toString('base64'),
          });
          dropped += got.dropped;
        }
        const native = encodedTiles.native - before.native;
        const js = encodedTiles.javascript - before.javascript;
        if (budget === 500_000) expect([native, js]).toEqual([features.length, 0]);
        else {
          // the large tiles go over the small budget: the JavaScript path drops features from them
          expect(dropped).toBeGreaterThan(0);
          expect(js).toBeGreaterThan(0);
          expect(native).toBeGreaterThan(0);
        }
      }
    });
  },
);
