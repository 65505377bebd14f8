// The region a seed fills: read from regions/<id>.json when present, else from a small built-in table.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError, errorMessage } from '../errors.js';
import { regionsDir } from '../paths.js';
import { describeIssues, lat, lon } from '../domain/schemas.js';

export type BBox = [west: number, south: number, east: number, north: number];

export interface SeedRegion {
  id: string;
  name: string;
  bbox: BBox;
  center: [number, number, number];
}

const BUILTIN: Record<string, SeedRegion> = {
  monaco: {
    id: 'monaco',
    name: 'Monaco',
    bbox: [7.409205, 43.72335, 7.448637, 43.75169],
    center: [7.4246, 43.7384, 14],
  },
  liechtenstein: {
    id: 'liechtenstein',
    name: 'Liechtenstein',
    bbox: [9.471078, 47.04774, 9.636217, 47.27128],
    center: [9.5215, 47.141, 11],
  },
};

// only the fields the seed needs; the region file's full schema belongs to the pipeline
const regionFile = z.looseObject({
  id: z.string().min(1),
  name: z.string().min(1),
  bbox: z
    .tuple([lon, lat, lon, lat])
    .refine(([w, s, e, n]) => w < e && s < n, 'must be [west, south, east, north]'),
  center: z.tuple([lon, lat]).rest(z.number()).optional(),
});

export function loadSeedRegion(id: string, dir = regionsDir()): SeedRegion {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(id)) throw new UserError(`--region: "${id}" is not a region id`);
  const file = path.join(dir, `${id}.json`);
  if (existsSync(file)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UserError(`${file}: not valid JSON (${errorMessage(err)})`);
    }
    const r = regionFile.safeParse(json);
    if (!r.success) throw new UserError(`${file}: ${describeIssues(r.error.issues)}`);
    const [w, s, e, n] = r.data.bbox;
    const c = r.data.center;
    return {
      id: r.data.id,
      name: r.data.name,
      bbox: [w, s, e, n],
      center: c ? [c[0], c[1], c[2] ?? 12] : [(w + e) / 2, (s + n) / 2, 12],
    };
  }
  const builtin = BUILTIN[id];
  if (!builtin) {
    throw new UserError(`--region: unknown region "${id}" (no ${file}, and no built-in bbox for it)`);
  }
  return builtin;
}
