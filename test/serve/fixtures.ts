// Test helper for the serving tests: small real PMTiles archives made with the tiling engine (a few hundred
// features near Monaco, in a corner of the region so that tiles inside its bounds are empty too), and releases
// published (and promoted) into a blob store through the real release pipeline.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import type { BlobStore } from '../../core/blob/adapter.js';
import type { Bus } from '../../core/bus/adapter.js';
import type { Db } from '../../core/db/adapter.js';
import { loadRegion } from '../../pipeline/region.js';
import type { ReleaseLayer, ReleaseManifest } from '../../pipeline/releases/manifest.js';
import { promoteRelease, type PromoteResult } from '../../pipeline/releases/promote.js';
import { publishRelease, type PublishResult } from '../../pipeline/releases/publish.js';
import { runEngine, type InputChunk } from '../../pipeline/tiler/engine.js';
import type { SourceFeature } from '../../pipeline/tiler/types.js';
import { random } from '../helpers/random.js';

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The region every fixture release belongs to (a shipped region file). */
export const FIXTURE_REGION = 'monaco';

export interface ArchiveOptions {
  /** makes the archive's content distinct (feature names and positions depend on it) */
  seed?: string;
  /** features per layer (default 120; three layers) */
  features?: number;
  minzoom?: number;
  /** default 14 */
  maxzoom?: number;
  /** base archives carry the OSM attribution and Shortbread-like layer names; activity archives nodes/threads */
  kind?: 'base' | 'activity';
  /** written as `published_at` into an activity archive's metadata (publish takes T from it) */
  publishedAt?: Date;
}

/**
 * Features of one archive, all in the region's south-western quarter: the region's bounds are written as the
 * archive's bounds, so high-zoom tiles in the other quarters are inside the bounds and empty (HTTP 204).
 */
function fixtureFeatures(
  kind: 'base' | 'activity',
  seed: string,
  n: number,
): Record<string, SourceFeature[]> {
  const [w, s, e, north] = loadRegion(FIXTURE_REGION).bbox;
  const rnd = random(`${kind}:${seed}`);
  const lon = () => w + rnd() * (e - w) * 0.4;
  const lat = () => s + rnd() * (north - s) * 0.4;
  const layers: Record<string, SourceFeature[]> =
    kind === 'base' ? { places: [], streets: [], water: [] } : { nodes: [], threads: [] };
  const names = Object.keys(layers);
  for (let i = 0; i < n; i++) {
    const id = i + 1;
    const point: SourceFeature = {
      id,
      geometry: { type: 'Point', coordinates: [lon(), lat()] },
      properties: { name: `${seed}-${i}`, rank: i % 7 },
    };
    const x = lon();
    const y = lat();
    const line: SourceFeature = {
      id,
      geometry: {
        type: 'LineString',
        coordinates: [
          [x, y],
          [x + 0.002 * rnd(), y + 0.002 * rnd()],
          [x + 0.004 * rnd(), y - 0.001 * rnd()],
        ],
      },
      properties: { kind: i % 3 === 0 ? 'primary' : 'residential', seed },
    };
    layers[names[0]!]!.push(point);
    layers[names[1]!]!.push(line);
    if (names[2]) {
      const d = 0.0005 + 0.001 * rnd();
      layers[names[2]]!.push({
        id,
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [x, y],
              [x + d, y],
              [x + d, y + d],
              [x, y + d],
              [x, y],
            ],
          ],
        },
        properties: { kind: 'water' },
      });
    }
  }
  return layers;
}

/** Builds one small archive into `dir` with the tiling engine (one worker); returns its path. */
export async function makeArchive(dir: string, name: string, opts: ArchiveOptions = {}): Promise<string> {
  const kind = opts.kind ?? (name.startsWith('activity') ? 'activity' : 'base');
  const seed = opts.seed ?? name;
  const minzoom = opts.minzoom ?? 0;
  const maxzoom = opts.maxzoom ?? 14;
  const region = loadRegion(FIXTURE_REGION);
  const layers = fixtureFeatures(kind, seed, opts.features ?? 120);
  async function* chunks(): AsyncGenerator<InputChunk> {
    for (const [source, features] of Object.entries(layers))
      yield { kind: 'features', features, input: `${name}:${source}`, source, firstIndex: 0 };
  }
  const output = path.join(dir, `${name}.pmtiles`);
  await runEngine(chunks(), {
    output,
    profile: {
      module: new URL('../../pipeline/profiles/geojson.ts', import.meta.url).href,
      options: { minzoom, maxzoom, dropRate: 1 },
    },
    minzoom,
    maxzoom,
    workers: 1,
    bounds: region.bbox,
    center: [region.center[0], region.center[1], Math.min(maxzoom, 12)],
    metadata: {
      name: `${region.name} ${kind} (${seed})`,
      format: 'pbf',
      generator: 'weft test fixture',
      ...(kind === 'base'
        ? { attribution: '© OpenStreetMap contributors' }
        : {
            attribution: 'weft participants',
            ...(opts.publishedAt ? { published_at: opts.publishedAt.toISOString() } : {}),
          }),
    },
  });
  return output;
}

export interface FixtureArchives {
  base: string;
  activity: string;
}

/** A base and an activity archive with content distinct per seed. */
export async function makeArchives(dir: string, seed: string, features = 120): Promise<FixtureArchives> {
  return {
    base: await makeArchive(dir, `base-${seed}`, { seed, features, kind: 'base' }),
    activity: await makeArchive(dir, `activity-${seed}`, {
      seed,
      features: Math.ceil(features / 2),
      kind: 'activity',
    }),
  };
}

export interface ReleaseOptions {
  blob: BlobStore;
  db: Db;
  archives: FixtureArchives;
  /** publish time T (default: now); give distinct times to distinct releases made in one second */
  at?: Date;
  region?: string;
}

export interface FixtureRelease {
  release: string;
  manifest: ReleaseManifest;
  publish: PublishResult;
  /** each layer's archive: blob key, sha256, size and the bytes (read from the archive file) */
  files: Record<ReleaseLayer, { key: string; sha256: string; size: number; bytes: Buffer; path: string }>;
}

function describeRelease(publish: PublishResult, archives: FixtureArchives): FixtureRelease {
  const files = {} as FixtureRelease['files'];
  for (const f of publish.manifest.files) {
    const file = archives[f.layer];
    files[f.layer] = { key: f.key, sha256: f.sha256, size: f.size, bytes: readFileSync(file), path: file };
  }
  return { release: publish.release, manifest: publish.manifest, publish, files };
}

/** Publishes the archives as a release (stage staging) with the real pipeline; nothing is promoted. */
export async function publishFixture(opts: ReleaseOptions): Promise<FixtureRelease> {
  const publish = await publishRelease({
    blob: opts.blob,
    db: opts.db,
    region: opts.region ?? FIXTURE_REGION,
    at: opts.at ?? new Date(),
    base: opts.archives.base,
    activity: opts.archives.activity,
    actor: 'test',
  });
  return describeRelease(publish, opts.archives);
}

/**
 * Promotes a published release (verifies and tags it prod). With `bus`, the promotion is announced on it as
 * `weft promote` does, so servers on that bus switch at once; without, they find it at their next re-check.
 */
export async function promoteFixture(
  opts: { blob: BlobStore; db: Db; bus?: Bus; region?: string },
  release: string,
): Promise<PromoteResult> {
  return promoteRelease({
    blob: opts.blob,
    db: opts.db,
    region: opts.region ?? FIXTURE_REGION,
    release,
    actor: 'test',
    bus: opts.bus,
  });
}

/** Publishes and promotes in one go: the release the server should now serve. */
export async function releaseFixture(opts: ReleaseOptions & { bus?: Bus }): Promise<FixtureRelease> {
  const r = await publishFixture(opts);
  await promoteFixture(opts, r.release);
  return r;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** the body exactly as sent (no decompression, unlike fetch) */
  body: Buffer;
}

/** One HTTP request over a fresh connection, the body as raw bytes (Content-Encoding left as sent). */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Polls `check` every 25 ms until it is true; throws after `ms`. */
export async function waitFor(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The tile z/x/y containing lon/lat (Web Mercator), computed here independently of the server. */
export function tileAt(z: number, lon: number, lat: number): [number, number, number] {
  const n = 2 ** z;
  const r = (lat * Math.PI) / 180;
  return [
    z,
    Math.floor(((lon + 180) / 360) * n),
    Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n),
  ];
}
