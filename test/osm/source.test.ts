// Source resolution: cache, then search path, then download (sha256-checked); a clear error says where it looked.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { osmSearchPath, resolveOsmSource } from '../../pipeline/osm/source.js';
import { type Region, parseRegion } from '../../pipeline/region.js';
import { repo, somesPbf } from './fixtures.js';

const bytes = readFileSync(somesPbf);
const sha = createHash('sha256').update(bytes).digest('hex');
let server: Server;
let base = '';
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/somes.osm.pbf') {
      res.writeHead(200, { 'content-length': bytes.length });
      res.end(bytes);
    } else {
      res.writeHead(404).end('not here');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function region(url: string, extra: Record<string, unknown> = {}): Region {
  return parseRegion({
    id: 'somes',
    name: 'Somes',
    bbox: [174.85, -41.27, 174.88, -41.24],
    source: { url, ...extra },
  });
}

function dirs() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'weft-src-'));
  const cache = path.join(root, 'cache');
  const a = path.join(root, 'a');
  const b = path.join(root, 'b');
  for (const d of [cache, a, b]) mkdirSync(d);
  return { cache, a, b };
}

describe('OSM source resolution', () => {
  it('prefers the cache, then the search path in order', async () => {
    const { cache, a, b } = dirs();
    const r = region(`${base}/somes.osm.pbf`);
    writeFileSync(path.join(b, 'somes.osm.pbf'), bytes);
    expect(await resolveOsmSource(r, { cacheDir: cache, searchPath: [a, b] })).toEqual({
      path: path.join(b, 'somes.osm.pbf'),
      origin: 'search-path',
    });
    writeFileSync(path.join(a, 'somes.osm.pbf'), bytes);
    expect((await resolveOsmSource(r, { cacheDir: cache, searchPath: [a, b] })).path).toBe(
      path.join(a, 'somes.osm.pbf'),
    );
    writeFileSync(path.join(cache, 'somes.osm.pbf'), bytes);
    expect(await resolveOsmSource(r, { cacheDir: cache, searchPath: [a, b] })).toMatchObject({
      origin: 'cache',
    });
  });

  it('skips a file whose sha256 does not match the pinned one', async () => {
    const { cache, a } = dirs();
    writeFileSync(path.join(cache, 'somes.osm.pbf'), 'stale bytes');
    writeFileSync(path.join(a, 'somes.osm.pbf'), bytes);
    const r = region(`${base}/somes.osm.pbf`, { sha256: sha });
    expect(await resolveOsmSource(r, { cacheDir: cache, searchPath: [a], download: false })).toEqual({
      path: path.join(a, 'somes.osm.pbf'),
      origin: 'search-path',
      sha256: sha,
    });
  });

  it('downloads into the cache once, checking the sha256', async () => {
    const { cache, a } = dirs();
    const r = region(`${base}/somes.osm.pbf`, { sha256: sha });
    const before = requests;
    const got = await resolveOsmSource(r, { cacheDir: cache, searchPath: [a] });
    expect(got).toEqual({ path: path.join(cache, 'somes.osm.pbf'), origin: 'download', sha256: sha });
    expect(readFileSync(got.path).equals(bytes)).toBe(true);
    expect(await resolveOsmSource(r, { cacheDir: cache, searchPath: [a] })).toMatchObject({
      origin: 'cache',
    });
    expect(requests - before).toBe(1);
  });

  it('rejects a download with the wrong sha256 and leaves nothing in the cache', async () => {
    const { cache } = dirs();
    const r = region(`${base}/somes.osm.pbf`, { sha256: '0'.repeat(64) });
    await expect(resolveOsmSource(r, { cacheDir: cache, searchPath: [] })).rejects.toThrow(
      /does not match the pinned 0000/,
    );
    expect(readdirSync(cache)).toEqual([]);
  });

  it('says where it looked when the extract is nowhere', async () => {
    const { cache, a, b } = dirs();
    const r = region(`${base}/missing.osm.pbf`);
    const err = await resolveOsmSource(r, { cacheDir: cache, searchPath: [a, b] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const message = (err as Error).message;
    expect(message).toContain('OSM extract "missing.osm.pbf" for region "somes" not found');
    for (const dir of [cache, a, b]) expect(message).toContain(path.join(dir, 'missing.osm.pbf'));
    expect(message).toContain(`download of ${base}/missing.osm.pbf (HTTP 404`);
    expect(message).not.toContain('\n');
    expect(existsSync(path.join(cache, 'missing.osm.pbf'))).toBe(false);
  });

  it('reports an unreachable URL and the offline switch', async () => {
    const { cache } = dirs();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = region(`http://127.0.0.1:${port}/somes.osm.pbf`);
    await expect(resolveOsmSource(r, { cacheDir: cache, searchPath: [] })).rejects.toThrow(/ECONNREFUSED/);
    await expect(resolveOsmSource(r, { cacheDir: cache, searchPath: [], download: false })).rejects.toThrow(
      /skipped: offline/,
    );
  });

  it('reads WEFT_OSM_PATH, and defaults to ../shared/data/osm when it exists', () => {
    expect(osmSearchPath({ WEFT_OSM_PATH: `/x${path.delimiter}/y${path.delimiter}` })).toEqual(['/x', '/y']);
    expect(osmSearchPath({ WEFT_OSM_PATH: '' })).toEqual([]);
    const shared = path.resolve(repo, '..', 'shared', 'data', 'osm');
    expect(osmSearchPath({})).toEqual(existsSync(shared) ? [shared] : []);
  });
});
