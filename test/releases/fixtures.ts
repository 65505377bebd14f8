// Test fixtures for releases: small real PMTiles archives made with `weft tile`'s engine, a blob store that breaks
// after N puts, tag snapshots, and stores (local folder, s3rver) with independent ways to read their bytes and tags.
import { GetObjectCommand, GetObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { BlobBody, BlobStore, BlobTags, PutOptions, PutResult } from '../../core/blob/adapter.js';
import { LocalBlobStore } from '../../core/blob/local.js';
import { S3BlobStore } from '../../core/blob/s3.js';
import { tileCommand } from '../../pipeline/tile-command.js';
import type { RunningS3 } from '../blob/s3rver.js';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A tiny vector archive of `n` points near Monaco, distinct per (name, n). */
export async function makeArchive(dir: string, name: string, n: number): Promise<string> {
  const features = Array.from({ length: n }, (_, i) => ({
    type: 'Feature',
    properties: { name: `${name}-${i}` },
    geometry: { type: 'Point', coordinates: [7.41 + i * 0.001, 43.73 + i * 0.0005] },
  }));
  const input = join(dir, `${name}.geojson`);
  writeFileSync(input, JSON.stringify({ type: 'FeatureCollection', features }));
  const output = join(dir, `${name}.pmtiles`);
  await tileCommand([input], {
    output,
    minzoom: 0,
    maxzoom: 6,
    budget: 500_000,
    workers: 1,
    quiet: true,
    layer: name.startsWith('activity') ? 'nodes' : 'places',
  });
  return output;
}

/** A store that delegates to another and fails every put after the first `okPuts`. */
export class BreakingStore implements BlobStore {
  readonly kind;
  readonly location;
  puts = 0;
  constructor(
    private readonly inner: BlobStore,
    private readonly okPuts: number,
  ) {
    this.kind = inner.kind;
    this.location = inner.location;
  }
  async put(key: string, body: BlobBody, opts?: PutOptions): Promise<PutResult> {
    if (++this.puts > this.okPuts) throw new Error(`simulated outage on put #${this.puts} (${key})`);
    return this.inner.put(key, body, opts);
  }
  get: BlobStore['get'] = (k, r) => this.inner.get(k, r);
  head: BlobStore['head'] = (k) => this.inner.head(k);
  list: BlobStore['list'] = (p) => this.inner.list(p);
  getTags: BlobStore['getTags'] = (k) => this.inner.getTags(k);
  putTags: BlobStore['putTags'] = (k, t) => this.inner.putTags(k, t);
  delete: BlobStore['delete'] = (k) => this.inner.delete(k);
  close: BlobStore['close'] = async () => {};
}

/** Every object's tags, by key. */
export async function tagSnapshot(store: BlobStore): Promise<Record<string, BlobTags>> {
  const out: Record<string, BlobTags> = {};
  for await (const e of store.list('')) out[e.key] = await store.getTags(e.key);
  return out;
}

/** A store under test with ways to look at it that do not go through our adapter. */
export interface Subject {
  store: BlobStore;
  /** the stored bytes, read without the adapter (the file on disk, or a plain S3 client) */
  rawBytes(key: string): Promise<Buffer>;
  /** the stored tags, read without the adapter */
  rawTags(key: string): Promise<BlobTags>;
  /** overwrites the stored bytes behind the adapter's back (same key) */
  tamper(key: string, bytes: Buffer): Promise<void>;
  close(): Promise<void>;
}

export function localSubject(root: string): Subject {
  const store = new LocalBlobStore(root);
  return {
    store,
    rawBytes: async (key) => readFileSync(join(root, key)),
    rawTags: async (key) =>
      (JSON.parse(readFileSync(join(root, '.weft/meta', `${key}.json`), 'utf8')) as { tags: BlobTags }).tags,
    tamper: async (key, bytes) => writeFileSync(join(root, key), bytes),
    close: async () => {},
  };
}

export async function s3Subject(server: RunningS3, bucket: string): Promise<Subject> {
  const store = new S3BlobStore({
    endpoint: server.endpoint,
    bucket,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
  });
  await store.ensureBucket();
  const raw = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  return {
    store,
    rawBytes: async (key) => {
      const res = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return buffer(res.Body as NodeJS.ReadableStream);
    },
    rawTags: async (key) => {
      const res = await raw.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      return Object.fromEntries((res.TagSet ?? []).map((t) => [t.Key!, t.Value!]));
    },
    tamper: async (key, bytes) => {
      // Replacing an object drops its tags: put them back so that only the bytes differ.
      const tags = await store.getTags(key);
      await store.put(key, bytes, { tags });
    },
    close: async () => {
      raw.destroy();
      await store.close();
    },
  };
}
