// Deterministic synthetic GeoJSONSeq inputs for the tiling benchmarks: clustered points, lines and polygons over a
// country-sized box (a seeded PRNG, so every run tiles the same bytes).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Random } from '../core/seed/prng.js';

export interface GenerateOptions {
  points: number;
  lines: number;
  polygons: number;
  /** [w, s, e, n] */
  bbox?: [number, number, number, number];
  seed?: number;
}

const KINDS = ['cafe', 'school', 'park', 'shop', 'bus_stop', 'pharmacy', 'bench', 'tree'];

export async function generateSeq(path: string, opts: GenerateOptions): Promise<number> {
  const [w, s, e, n] = opts.bbox ?? [6, 47, 11, 52];
  const random = new Random(opts.seed ?? 42);
  const rnd = (): number => random.next();
  // 200 town centres; features cluster around them like real settlements
  const towns = Array.from({ length: 200 }, () => [
    w + rnd() * (e - w),
    s + rnd() * (n - s),
    0.02 + rnd() * 0.15,
  ]);
  const near = (): [number, number] => {
    const t = towns[Math.floor(rnd() * towns.length)]!;
    const r = t[2]! * Math.sqrt(-2 * Math.log(rnd() + 1e-12));
    const a = rnd() * 2 * Math.PI;
    const lon = Math.min(e, Math.max(w, t[0]! + r * Math.cos(a)));
    const lat = Math.min(n, Math.max(s, t[1]! + r * Math.sin(a) * 0.7));
    return [round(lon), round(lat)];
  };
  const out = createWriteStream(path);
  let count = 0;
  let buf = '';
  const write = async (obj: unknown): Promise<void> => {
    buf += JSON.stringify(obj) + '\n';
    count++;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  };
  for (let i = 0; i < opts.points; i++) {
    await write({
      type: 'Feature',
      id: i,
      properties: { kind: KINDS[i % KINDS.length], name: `Place ${i % 5000}`, rank: i % 17 },
      geometry: { type: 'Point', coordinates: near() },
    });
  }
  for (let i = 0; i < opts.lines; i++) {
    let [x, y] = near();
    const coords: number[][] = [[x, y]];
    const steps = 5 + Math.floor(rnd() * 40);
    let heading = rnd() * 2 * Math.PI;
    for (let k = 0; k < steps; k++) {
      heading += (rnd() - 0.5) * 0.8;
      x = round(x + Math.cos(heading) * 0.0008);
      y = round(y + Math.sin(heading) * 0.0006);
      coords.push([x, y]);
    }
    await write({
      type: 'Feature',
      properties: { kind: i % 3 ? 'residential' : 'primary', name: `Street ${i % 3000}` },
      geometry: { type: 'LineString', coordinates: coords },
    });
  }
  for (let i = 0; i < opts.polygons; i++) {
    const [cx, cy] = near();
    const r = 0.0001 + rnd() * 0.0008;
    const ring: number[][] = [];
    const sides = 4 + Math.floor(rnd() * 12);
    for (let k = 0; k < sides; k++) {
      const a = (k / sides) * 2 * Math.PI;
      ring.push([round(cx + Math.cos(a) * r), round(cy + Math.sin(a) * r * 0.7)]);
    }
    ring.push(ring[0]!);
    const rings = [ring];
    if (i % 10 === 0) {
      const hole = ring.map(([x, y]) => [round(cx + (x! - cx) * 0.3), round(cy + (y! - cy) * 0.3)]).reverse();
      rings.push(hole);
    }
    await write({
      type: 'Feature',
      properties: { kind: i % 2 ? 'building' : 'park', levels: 1 + (i % 5) },
      geometry: { type: 'Polygon', coordinates: rings },
    });
  }
  out.write(buf);
  out.end();
  await once(out, 'finish');
  return count;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
