// The blob contract on a real S3 server (s3rver from npm), plus what only S3 shows: multipart uploads, Range headers,
// tags visible to any S3 client, pagination requests and clear errors for a missing bucket or a dead endpoint.
import {
  GetObjectTaggingCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStoreError } from '../../core/blob/errors.js';
import { S3BlobStore } from '../../core/blob/s3.js';
import { tempDir } from '../helpers/tmp.js';
import { blobContract } from './contract.js';
import { startS3rver, type RunningS3 } from './s3rver.js';

const dir = tempDir('weft-blob-s3-');
let server: RunningS3;
const stores: S3BlobStore[] = [];

/** Every request a store sends: the command's name and its Range header. */
interface Seen {
  command: string;
  range?: string;
}

function openStore(
  bucket: string,
  opts: { listPageSize?: number } = {},
): { store: S3BlobStore; seen: Seen[] } {
  const store = new S3BlobStore({
    endpoint: server.endpoint,
    bucket,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    partSize: 5 * 1024 * 1024,
    ...opts,
  });
  const seen: Seen[] = [];
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      seen.push({ command: context.commandName as string, range: headers.range ?? headers.Range });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'weftRecordRequests' },
  );
  stores.push(store);
  return { store, seen };
}

/** A plain SDK client, configured by hand, to look at the server without our adapter. */
function rawClient(): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
}

beforeAll(async () => {
  server = await startS3rver(join(dir, 'server'));
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server?.stop();
});

blobContract('S3 (s3rver)', async () => {
  const { store } = openStore('weft-contract', { listPageSize: 7 });
  await store.ensureBucket();
  return { store, listPageSize: 7, scratch: tempDir('weft-blob-scratch-') };
});

describe('S3 store against s3rver', () => {
  let store: S3BlobStore;
  let seen: Seen[];
  beforeAll(async () => {
    ({ store, seen } = openStore('weft-s3-only', { listPageSize: 4 }));
    await store.ensureBucket();
  });

  it('creates its bucket once; a second ensureBucket is harmless', async () => {
    await store.ensureBucket();
    const raw = rawClient();
    const head = await raw.send(new HeadBucketCommand({ Bucket: 'weft-s3-only' }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    raw.destroy();
  });

  it('uploads a large body in 5 MiB parts and a small one in a single PUT', async () => {
    seen.length = 0;
    const big = Buffer.alloc(11 * 1024 * 1024, 0xab);
    const put = await store.put('multi/big.bin', big);
    const commands = seen.map((s) => s.command);
    expect(commands.filter((c) => c === 'UploadPartCommand')).toHaveLength(3);
    expect(commands).toContain('CreateMultipartUploadCommand');
    expect(commands).toContain('CompleteMultipartUploadCommand');
    expect(commands).not.toContain('PutObjectCommand');
    expect((await store.head('multi/big.bin'))?.size).toBe(big.length);
    expect(put.size).toBe(big.length);

    seen.length = 0;
    await store.put('multi/small.bin', Buffer.from('small'));
    // One PUT, then the tags are set (to none) so that a replaced object's tags cannot linger.
    expect(seen.map((s) => s.command)).toEqual(['PutObjectCommand', 'PutObjectTaggingCommand']);
  });

  it('aborts a multipart upload whose body fails after the first part, leaving no object', async () => {
    async function* failing() {
      for (let i = 0; i < 7; i++) yield Buffer.alloc(1024 * 1024, i);
      throw new Error('disk went away');
    }
    seen.length = 0;
    await expect(store.put('multi/broken.bin', Readable.from(failing()))).rejects.toThrow(
      /cannot store blob 'multi\/broken\.bin' in s3:\/\/weft-s3-only .*: disk went away/,
    );
    const commands = seen.map((s) => s.command);
    expect(commands).toContain('CreateMultipartUploadCommand');
    expect(commands).toContain('AbortMultipartUploadCommand');
    expect(commands).not.toContain('CompleteMultipartUploadCommand');
    expect(await store.head('multi/broken.bin')).toBeUndefined();
  });

  it('passes byte ranges to the server as a Range header (no whole download)', async () => {
    await store.put('range/r.bin', Buffer.from('0123456789'));
    seen.length = 0;
    const res = await store.get('range/r.bin', { start: 3, end: 5 });
    expect((await buffer(res.body)).toString()).toBe('345');
    expect(seen).toEqual([{ command: 'GetObjectCommand', range: 'bytes=3-5' }]);
    seen.length = 0;
    await buffer((await store.get('range/r.bin', { start: 7 })).body);
    expect(seen).toEqual([{ command: 'GetObjectCommand', range: 'bytes=7-' }]);
    // s3rver answers `bytes=0-0` with the whole object; the store still hands back exactly one byte.
    seen.length = 0;
    const one = await store.get('range/r.bin', { start: 0, end: 0 });
    expect((await buffer(one.body)).toString()).toBe('0');
    expect(one).toMatchObject({ size: 1, contentRange: { start: 0, end: 0, total: 10 } });
    expect(seen).toEqual([{ command: 'GetObjectCommand', range: 'bytes=0-0' }]);
  });

  it('makes promotion visible to any S3 client through object tags alone', async () => {
    await store.put('rel/a/base.pmtiles', Buffer.from('a'), { tags: { stage: 'staging' } });
    await store.put('rel/b/base.pmtiles', Buffer.from('b'), { tags: { stage: 'staging' } });
    await store.putTags('rel/a/base.pmtiles', { stage: 'prod' });
    const raw = rawClient();
    const tagsOf = async (Key: string) =>
      (await raw.send(new GetObjectTaggingCommand({ Bucket: 'weft-s3-only', Key }))).TagSet;
    expect(await tagsOf('rel/a/base.pmtiles')).toEqual([{ Key: 'stage', Value: 'prod' }]);
    expect(await tagsOf('rel/b/base.pmtiles')).toEqual([{ Key: 'stage', Value: 'staging' }]);
    raw.destroy();
  });

  it('lists page by page with continuation tokens', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `paged/${i}`);
    await Promise.all(keys.map((k) => store.put(k, Buffer.from(k))));
    seen.length = 0;
    const listed: string[] = [];
    for await (const e of store.list('paged/')) listed.push(e.key);
    expect(listed).toEqual(keys);
    expect(seen.filter((s) => s.command === 'ListObjectsV2Command')).toHaveLength(3); // 4 + 4 + 2
  });

  it('names a missing bucket and an unreachable endpoint', async () => {
    const { store: nobucket } = openStore('no-such-bucket');
    await expect(nobucket.get('x')).rejects.toThrow("S3 bucket 'no-such-bucket' does not exist");
    await expect(nobucket.put('x', Buffer.from('x'))).rejects.toBeInstanceOf(BlobStoreError);
    // A streamed body: the server's answer is the reason given, not the stream cut short after it.
    await expect(nobucket.put('x', Readable.from([Buffer.from('x')]))).rejects.toThrow(
      "S3 bucket 'no-such-bucket' does not exist",
    );

    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dead = new S3BlobStore({
      endpoint: `http://127.0.0.1:${port}`,
      bucket: 'b',
      accessKeyId: 'k',
      secretAccessKey: 's',
    });
    stores.push(dead);
    await expect(dead.head('some/key')).rejects.toThrow(
      new RegExp(`S3 head of blob 'some/key' in s3://b at http://127.0.0.1:${port} failed: .*ECONNREFUSED`),
    );
  });
});
