// The native point scanner (native/geojson.c, built by scripts/setup.sh) against the JavaScript map stage it
// short-cuts: for varied newline-delimited GeoJSON (every kind of property value, escapes, non-ASCII text, ids,
// member orders, foreign members, and the lines it must leave alone) the map stage gives the same records,
// statistics and errors with the scanner as without it, and the scanner takes the lines it is meant to take.
import { afterEach, describe, expect, it } from 'vitest';
import { createProfile } from '../../pipeline/profiles/geojson.js';
import { mapNdjsonBytes, type MapContext } from '../../pipeline/tiler/map-stage.js';
import { nativeScanner, nativeScannerError } from '../../pipeline/tiler/native-points.js';
import { zxyToTileId } from '../../pipeline/pmtiles/tileid.js';
import { DEFAULT_TILING } from '../../pipeline/tiler/tile-feature.js';
import { random } from '../helpers/random.js';
import { mergeRuns } from '../helpers/runs.js';

const encoder = new TextEncoder();

function context(options: Record<string, unknown> = {}, engine: Partial<MapContext> = {}): MapContext {
  return {
    profile: createProfile({ minzoom: 0, maxzoom: 14, ...options }),
    tiling: { ...DEFAULT_TILING },
    minzoom: 0,
    maxzoom: 14,
    ...engine,
  };
}

const origin = { input: 'test.geojsonl', source: 'test', firstLine: 5, firstSeq: 100 };

/** The map stage's result with and without the scanner (WEFT_NATIVE_POINTS=0 switches it off). */
function both(text: string | Uint8Array, ctx = context()) {
  const bytes = typeof text === 'string' ? encoder.encode(text) : text;
  const scans: number[] = [];
  const run = () => {
    try {
      const { scanned, scannedShapes: _shapes, runs, ...r } = mapNdjsonBytes(ctx, bytes, origin);
      scans.push(scanned);
      return { ...r, batch: mergeRuns(runs) };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };
  const native = run();
  process.env.WEFT_NATIVE_POINTS = '0';
  const js = run();
  delete process.env.WEFT_NATIVE_POINTS;
  return { native, js, scanned: scans[0] ?? 0, scannedWithout: scans[1] ?? 0 };
}

/** How many of the lines the scanner takes itself. */
function taken(text: string): number {
  const { items } = nativeScanner()!.scanPoints(encoder.encode(text));
  let n = 0;
  for (let k = 0; k < items.length; k += nativeScanner()!.ITEM_SIZE) if (items[k] === 1) n++;
  return n;
}

const point = (props: string, extra = '', coords = '[7.42, 43.73]') =>
  `{"type":"Feature"${extra},"geometry":{"type":"Point","coordinates":${coords}},"properties":${props}}`;

/** Property values of every kind the scanner encodes itself, as JSON text. */
const VALUES = [
  '"plain"',
  '""',
  '"caf\\u00e9 \\"quoted\\" back\\\\slash \\/ \\b\\f\\n\\r\\t"',
  '"😀 \\ud83d\\ude00 Zürich 東京"',
  '"nul\\u0000byte"',
  '0',
  '-0',
  '1',
  '127',
  '128',
  '300',
  '-1',
  '-4503599627370496',
  '-4503599627370497',
  '9007199254740991',
  '9007199254740992',
  '1e21',
  '0.5',
  '-0.25',
  '0.1',
  '3.4028234663852886e38',
  '1.5e-7',
  '2E3',
  '123456789.125',
  'true',
  'false',
  'null',
];

function variedLines(rnd: () => number, n: number): string[] {
  const keys = ['kind', 'name', 'rank', 'größe', 'k\\u00e9y', 'empty', 'x'];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const count = Math.floor(rnd() * 5);
    const used = new Set<string>();
    const members: string[] = [];
    for (let j = 0; j < count; j++) {
      const k = keys[Math.floor(rnd() * keys.length)]!;
      if (used.has(k)) continue;
      used.add(k);
      members.push(`"${k}":${VALUES[Math.floor(rnd() * VALUES.length)]!}`);
    }
    const props = rnd() < 0.1 ? 'null' : `{${members.join(',')}}`;
    const ids = [
      '',
      ',"id":7',
      ',"id":"42"',
      ',"id":"0042"',
      ',"id":"abc"',
      ',"id":-3',
      ',"id":1.5',
      ',"id":1e300',
    ];
    const id = ids[Math.floor(rnd() * ids.length)]!;
    const lon = (rnd() * 360 - 180).toFixed(Math.floor(rnd() * 9));
    const lat = (rnd() * 170 - 85).toFixed(Math.floor(rnd() * 9));
    const r = rnd();
    if (r < 0.1)
      lines.push(
        `{"properties":${props}${id},"geometry":{"coordinates":[${lon},${lat},12.5],"type":"Point"},"type":"Feature"}`,
      );
    else if (r < 0.15)
      lines.push(
        `  { "type" : "Feature" , "bbox" : [1, 2, 3, {"a": [null]}] , "geometry" : { "type" : "Point" , "coordinates" : [ ${lon} , ${lat} ] } , "properties" : ${props} }\r`,
      );
    else lines.push(point(props, id, `[${lon},${lat}]`));
  }
  return lines;
}

/** Lines the scanner must leave to JavaScript (which maps them, or refuses them with its own error). */
const LEFT_ALONE = [
  point('{"nested":{"a":1}}'),
  point('{"list":[1,2]}'),
  point('{"12":"index-like key","b":1}'),
  point('{"__proto__":"x","b":1}'),
  point('{"a":1,"a":2}'),
  point('{"a":null,"a":2}'),
  point('{"big":1e999}'),
  point('{"lone":"\\ud800"}'),
  point('{}', ',"id":null'),
  point('{}', ',"id":{"x":1}'),
  '{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2],"bbox":[1,2,1,2]},"properties":{}}',
  '{"type":"Feature","geometry":null,"properties":{"a":1}}',
  '{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[1,2],[3,4]]},"properties":{"a":1}}',
  '{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{"a":"line"}}',
  '{"type":"FeatureCollection","features":[' + point('{"in":"collection"}') + ',' + point('{"n":2}') + ']}',
  '{"type":"Point","coordinates":[5,6]}',
];

describe('the native point scanner', () => {
  afterEach(() => {
    delete process.env.WEFT_NATIVE_POINTS;
  });

  it('is built and used (scripts/setup.sh compiles native/geojson.c)', () => {
    expect(nativeScannerError()).toBe('');
    expect(taken(point('{"a":1}'))).toBe(1);
  });

  it('gives the same records and statistics as JSON.parse for varied point lines', () => {
    const rnd = random('native points');
    const lines = variedLines(rnd, 3000);
    expect(taken(lines.join('\n'))).toBe(lines.length);
    // with blank lines, record separators (GeoJSONSeq) and a trailing newline in between
    const text =
      lines.map((l, i) => (i % 97 === 0 ? `\n${l}` : i % 89 === 0 ? `\u001e${l}` : l)).join('\n') + '\n';
    const { native, js, scanned, scannedWithout } = both(text);
    expect('error' in js).toBe(false);
    expect(native).toEqual(js);
    expect([scanned, scannedWithout]).toEqual([lines.length, 0]);
  });

  it('leaves every other line to JavaScript and still gives the same result', () => {
    const lines = [point('{"first":true}'), ...LEFT_ALONE, point('{"last":1}')];
    expect(taken(lines.join('\n'))).toBe(2);
    for (const line of LEFT_ALONE) expect(taken(line), line).toBe(0);
    const { native, js } = both(lines.join('\n'));
    expect('error' in js).toBe(false);
    expect(native).toEqual(js);
  });

  it('handles non-ASCII and invalid UTF-8 as the JavaScript decoder does, and a BOM only at the start', () => {
    const bom = [0xef, 0xbb, 0xbf];
    const good = [...encoder.encode(point('{"name":"Ø São Paulo"}')), 10];
    const invalid = [...encoder.encode(point('{"name":"bad ')), 0xff, 0xc3, ...encoder.encode('"}'), 10];
    for (const bytes of [
      [...bom, ...good, ...good],
      [...good, ...invalid, ...good],
      [...invalid, ...bom, ...good],
    ]) {
      const { native, js } = both(new Uint8Array(bytes));
      expect(native).toEqual(js);
    }
  });

  it('gives the same errors, naming the same lines', () => {
    const cases = [
      [point('{"a":1}'), point('{"a":1}', '', '[200, 10]')],
      [point('{"a":1}'), point('{"a":1}', '', '[10, -95.5]')],
      [
        point('{"a":1}'),
        '{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"a":01}}',
      ],
      [point('{"a":1}'), point('{"a":1,}')],
      [point('{"a":1}'), point('{"a":1}') + ' trailing'],
      [point('{"a":1}'), point('{"a":"tab\there"}')],
      [
        point('{"a":1}'),
        '{"type":"Feature","geometry":{"type":"Point","coordinates":["1",2]},"properties":{}}',
      ],
      [point('{"a":1}'), '{"type":"Feature","geometry":{"type":"Point","coordinates":[1]},"properties":{}}'],
      [
        point('{"a":1}'),
        '{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":[1]}',
      ],
    ];
    for (const lines of cases) {
      const { native, js } = both(lines.join('\n'));
      expect('error' in js, lines[1]).toBe(true);
      expect(native, lines[1]).toEqual(js);
    }
  });

  it('follows the profile: its layer, drop rate and zooms', () => {
    const rnd = random('profile');
    const text = variedLines(rnd, 500).join('\n');
    for (const options of [
      { layer: 'pois' },
      { dropRate: 1 },
      { baseZoom: 10 },
      { baseZoom: 20 },
      { minzoom: 3 },
    ]) {
      const { native, js } = both(text, context(options));
      expect(native, JSON.stringify(options)).toEqual(js);
    }
  });

  it('follows the engine: clip bounds, zooms, extent and buffer', () => {
    // points near tile edges at every zoom (a whole-degree grid and its neighbours) and the variety above
    const rnd = random('engine');
    const edges: string[] = [];
    for (let lon = -180; lon <= 180; lon += 22.5)
      for (const lat of [-85.05, -45, 0, 0.000001, 30, 60, 85.05])
        for (const d of [0, 1e-9, -1e-9, 0.0001])
          edges.push(point('{"a":1}', '', `[${lon + d}, ${lat - d}]`));
    const text = [...edges, ...variedLines(rnd, 500)].join('\n');
    for (const engine of [
      { clip: [-10, -20, 30, 40] as [number, number, number, number] },
      { minzoom: 2, maxzoom: 9 },
      { tiling: { ...DEFAULT_TILING, extent: 512, buffer: 0 } },
      { tiling: { ...DEFAULT_TILING, buffer: 256 } },
    ]) {
      const maxzoom = engine.maxzoom ?? 14;
      const { native, js } = both(
        text,
        context({ maxzoom }, { ...engine, tiling: { ...(engine.tiling ?? DEFAULT_TILING), maxzoom } }),
      );
      expect(native, JSON.stringify(engine)).toEqual(js);
    }
  });

  it('reads numbers exactly as JSON.parse does', () => {
    const rnd = random('numbers');
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
    const numbers = [
      '0',
      '-0',
      '0.1',
      '0.3',
      '1e22',
      '1e23',
      '-1e-22',
      '1e-23',
      '9007199254740992',
      '9007199254740993',
      '9007199254740993.5',
      '123456789012345678',
      '1234567890123456789',
      '12345678901234567890123',
      '0.000000000000000000001',
      '2.2250738585072014e-308',
      '4.9e-324',
      '1.7976931348623157e308',
      '179.99999999999997',
      '-85.05112877980659',
      '0e5',
      '0.0000',
      '10000000000000000000000e-22',
      '5e-1',
      '1E+2',
      '7.4109999999999999999999',
    ];
    for (let i = 0; i < 20000; i++) {
      const int = rnd() < 0.2 ? '0' : String(1 + Math.floor(rnd() * 9)) + digits(Math.floor(rnd() * 12));
      const frac = rnd() < 0.7 ? '.' + digits(1 + Math.floor(rnd() * 18)) : '';
      const exp = rnd() < 0.2 ? `e${rnd() < 0.5 ? '-' : ''}${Math.floor(rnd() * 30)}` : '';
      numbers.push(`${rnd() < 0.3 ? '-' : ''}${int}${frac}${exp}`);
    }
    const lines = [];
    for (let i = 0; i < numbers.length; i += 2)
      lines.push(point('{}', '', `[${numbers[i]}, ${numbers[i + 1] ?? '1'}]`));
    const scanner = nativeScanner()!;
    const { items } = scanner.scanPoints(encoder.encode(lines.join('\n')));
    const got: number[] = [];
    for (let k = 0; k < items.length; k += scanner.ITEM_SIZE) {
      expect(items[k]).toBe(1);
      got.push(items[k + 2]!, items[k + 3]!);
    }
    const want = lines.flatMap(
      (l) => (JSON.parse(l) as { geometry: { coordinates: number[] } }).geometry.coordinates,
    );
    const wrong = got.map((v, i) => [numbers[i], v, want[i]] as const).filter(([, v, w]) => !Object.is(v, w));
    expect(wrong).toEqual([]);
  });

  it('survives damaged lines: takes only what JSON.parse reads as the same point, leaves the rest', () => {
    const rnd = random('fuzz');
    const base = variedLines(rnd, 300);
    const lines: Uint8Array[] = [];
    for (let i = 0; i < 20000; i++) {
      const b = encoder.encode(base[i % base.length]!);
      const damaged = b.slice(0, rnd() < 0.3 ? Math.floor(rnd() * b.length) : b.length);
      for (let k = Math.floor(rnd() * 4); k > 0; k--)
        damaged[Math.floor(rnd() * damaged.length)] = Math.floor(rnd() * 256);
      lines.push(damaged.filter((c) => c !== 10));
    }
    const scanner = nativeScanner()!;
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let taken = 0;
    for (let i = 0; i < lines.length; i += 50) {
      const group = lines.slice(i, i + 50);
      const chunk = new Uint8Array(group.reduce((n, l) => n + l.length + 1, 0));
      const starts: number[] = [];
      let pos = 0;
      for (const l of group) {
        starts.push(pos);
        chunk.set(l, pos);
        pos += l.length;
        chunk[pos++] = 10;
      }
      const { items } = scanner.scanPoints(chunk);
      for (let k = 0; k < items.length; k += scanner.ITEM_SIZE) {
        if (items[k] !== 1) continue;
        taken++;
        const line = group[items[k + 1]!]!;
        // what the scanner took is valid UTF-8 and JSON, a Feature whose geometry is that point
        const f = JSON.parse(decoder.decode(line)) as {
          type: string;
          geometry: { type: string; coordinates: number[] };
        };
        expect([f.type, f.geometry.type]).toEqual(['Feature', 'Point']);
        expect([items[k + 2], items[k + 3]]).toEqual(f.geometry.coordinates.slice(0, 2));
      }
    }
    expect(taken).toBeGreaterThan(1000); // undamaged and harmlessly damaged lines are still taken
  });
  it('writes the tile ids of pipeline/pmtiles/tileid.ts at every zoom, 0 to 26 (edges and random tiles)', () => {
    // one record per point (buffer 0, the point at its tile's centre), straight through writeRecords
    const scanner = nativeScanner()!;
    const rnd = random('tile ids');
    const ranges = new Int32Array(27 * 4);
    const points: number[] = [];
    const want: number[] = [];
    for (let z = 0; z <= 26; z++) {
      const n = 2 ** z;
      ranges.set([0, 0, n - 1, n - 1], 4 * z);
      const tiles: [number, number][] = [];
      const edges = [0, 1, n >>> 1, Math.max(0, (n >>> 1) - 1), n - 2, n - 1].filter((v) => v >= 0 && v < n);
      for (const x of edges) for (const y of edges) tiles.push([x, y]);
      for (let i = 0; i < 400; i++) tiles.push([Math.floor(rnd() * n), Math.floor(rnd() * n)]);
      for (const [x, y] of tiles) {
        points.push((x + 0.5) / n, (y + 0.5) / n, z, z, points.length, NaN, 0, 0);
        want.push(zxyToTileId(z, x, y));
      }
    }
    const batch = scanner.writeRecords(
      new Float64Array(points),
      new Float64Array(0),
      new Float64Array(0),
      new Uint32Array(0),
      new Uint8Array(0),
      encoder.encode('p'),
      ranges,
      new Float64Array(0),
      4096,
      0,
    );
    expect(Array.from(batch.tileIds)).toEqual(want.sort((a, b) => a - b));
  });

  it('rounds points at half quantisation units as Math.round does, in a tile and in its neighbours buffers', () => {
    // world x exactly a half unit of zoom 14's tiles (extent 4096) either side of a tile edge: -2.5 in one tile is
    // 4093.5 in the one before (Math.round: -2 and 4094), and at lower zooms quarter, eighth… units
    const lonOf = (x: number) => (x - 0.5) * 360;
    const n = 2 ** 14;
    const a = 9000;
    const lines: string[] = [];
    for (const j of [-66, -65, -64, -63, -3, -2, -1, 0, 1, 2, 63, 64, 65])
      for (const lat of ['0', '1e-300', '-1e-300'])
        lines.push(point('{"a":1}', '', `[${lonOf((a + (j + 0.5) / 4096) / n)}, ${lat}]`));
    for (const engine of [{}, { tiling: { ...DEFAULT_TILING, buffer: 256 } }]) {
      const { native, js, scanned } = both(lines.join('\n'), context({}, engine));
      expect(scanned).toBe(lines.length);
      expect(native).toEqual(js);
    }
  });
});
