// Shared helpers for the MVT tests: the shared data folder, a seeded random generator, independent ring math.
import { Random } from '../../core/seed/prng.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PbfReader } from 'pbf';
import { VectorTile } from '@mapbox/vector-tile';

/** `<repo>/../shared/data/<sub>`, or null (with the reason printed) when it is absent. */
export function sharedData(sub: string): string | null {
  const dir = fileURLToPath(new URL(`../../../shared/data/${sub}`, import.meta.url));
  if (existsSync(dir)) return dir;
  console.log(`skipping: ${dir} is absent`);
  return null;
}

/** A deterministic PRNG (the project's mulberry32) returning floats in [0, 1). */
export function seeded(seed: number): () => number {
  const r = new Random(seed);
  return () => r.next();
}

export interface XY {
  x: number;
  y: number;
}

/** Twice the signed area by the surveyor's formula, as the spec defines it (positive = exterior). */
export function surveyorArea2(ring: XY[]): number {
  let sum = 0;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i]!;
    const b = ring[(i + 1) % ring.length]!;
    sum += a.x * b.y - b.x * a.y;
  }
  return sum;
}

/** Reads a tile with the reference decoder (@mapbox/vector-tile). */
export function referenceTile(bytes: Uint8Array): VectorTile {
  return new VectorTile(new PbfReader(bytes));
}

/** Counts, with the pbf reader, the keys and values stored in each layer (name → counts) and their value fields. */
export function rawLayerTables(bytes: Uint8Array): Map<string, { keys: string[]; valueFields: number[] }> {
  const out = new Map<string, { keys: string[]; valueFields: number[] }>();
  new PbfReader(bytes).readFields((tag, _res, pbf) => {
    if (tag !== 3) return;
    const layer = { name: '', keys: [] as string[], valueFields: [] as number[] };
    pbf.readMessage((t, l, p) => {
      if (t === 1) l.name = p.readString();
      else if (t === 3) l.keys.push(p.readString());
      else if (t === 4) {
        // one entry per Value message: its (first) field number; pbf skips the unread field content
        const fields: number[] = [];
        p.readMessage((vt) => void fields.push(vt), null);
        l.valueFields.push(fields.length === 1 ? fields[0]! : -fields.length);
      }
    }, layer);
    out.set(layer.name, { keys: layer.keys, valueFields: layer.valueFields });
  }, null);
  return out;
}
