// The blob store on any S3 API (MinIO, AWS, s3rver) through @aws-sdk/client-s3, path-style; multipart uploads through
// @aws-sdk/lib-storage; tags through Get/PutObjectTagging. Nothing here depends on bucket versioning.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {
  BlobBody,
  BlobStore,
  BlobTags,
  ByteRange,
  GetResult,
  HeadResult,
  ListEntry,
  PutOptions,
  PutResult,
} from './adapter.js';
import { errorMessage } from '../errors.js';
import { bodyStream, DigestStream, isBytes, sha256Hex } from './digest.js';
import { BlobStoreError, NotFound, RangeNotSatisfiable } from './errors.js';
import { checkKey, checkPrefix, checkRange, checkTags } from './keys.js';

export interface S3Options {
  endpoint: string;
  bucket: string;
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO and s3rver need; default true. */
  forcePathStyle?: boolean;
  /** Multipart part size in bytes (S3's minimum, 5 MiB, is the default); bodies larger than one part go multipart. */
  partSize?: number;
  /** Parts uploaded at once; default 4. */
  queueSize?: number;
  /** Keys per ListObjectsV2 page; default 1000 (S3's maximum). */
  listPageSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

interface S3Failure {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function failure(err: unknown): { name: string; status?: number; message: string } {
  const e = (err ?? {}) as S3Failure;
  return { name: e.Code ?? e.name ?? 'Error', status: e.$metadata?.httpStatusCode, message: e.message ?? '' };
}

export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly location: string;
  readonly bucket: string;
  /** The SDK client, configured for any S3 API (exposed so that tests can watch its requests). */
  readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly listPageSize: number;

  constructor(opts: S3Options) {
    this.bucket = opts.bucket;
    this.location = `s3://${opts.bucket} at ${opts.endpoint}`;
    this.partSize = Math.max(opts.partSize ?? MIN_PART_SIZE, MIN_PART_SIZE);
    this.queueSize = opts.queueSize ?? 4;
    this.listPageSize = opts.listPageSize ?? 1000;
    // The SDK warns on every start that its 2027 releases will need Node 22; the project supports Node 20.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region ?? 'us-east-1',
      forcePathStyle: opts.forcePathStyle ?? true,
      credentials: {
        accessKeyId: opts.accessKeyId,
        secretAccessKey: opts.secretAccessKey,
        sessionToken: opts.sessionToken,
      },
      // Checksums only where S3 requires them: other S3 servers reject or ignore the newer default trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** A clear error for a failed call; `NotFound`/`RangeNotSatisfiable` for the failures callers handle. */
  private fail(op: string, key: string, err: unknown, range?: ByteRange): Error {
    const f = failure(err);
    if (f.name === 'NoSuchBucket')
      return new BlobStoreError(`S3 bucket '${this.bucket}' does not exist (${this.location})`, {
        cause: err,
      });
    if (f.name === 'NoSuchKey' || (f.status === 404 && f.name === 'NotFound'))
      return new NotFound(key, this.location);
    if (range && (f.name === 'InvalidRange' || f.status === 416))
      return new RangeNotSatisfiable(key, range, undefined);
    const detail = f.message && f.message !== f.name ? `${f.name}: ${f.message}` : f.name;
    return new BlobStoreError(`S3 ${op} of blob '${key}' in ${this.location} failed: ${detail}`, {
      cause: err,
    });
  }

  /** Creates the bucket when it does not exist yet (for tests and first runs against a fresh MinIO). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      if (failure(err).status !== 404) throw this.fail('head-bucket', '', err);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const f = failure(err);
      if (f.name !== 'BucketAlreadyOwnedByYou') throw this.fail('create-bucket', '', err);
    }
  }

  async put(key: string, body: BlobBody, opts: PutOptions = {}): Promise<PutResult> {
    checkKey(key);
    const tags = checkTags(key, opts.tags ?? {});
    // The tags ride along with the upload (S3 tags the object as it appears) and are set again after it, below.
    const Tagging =
      Object.entries(tags)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join('&') || undefined;
    const params = { Bucket: this.bucket, Key: key, ContentType: opts.contentType, Tagging };
    const upload = (Body: Uint8Array | Readable) =>
      new Upload({
        client: this.client,
        params: { ...params, Body },
        partSize: this.partSize,
        queueSize: this.queueSize,
      });
    let size: number;
    let sha256: string;
    let etag: string | undefined;
    if (isBytes(body)) {
      try {
        etag = (await upload(body).done()).ETag;
      } catch (err) {
        throw this.fail('put', key, err);
      }
      ({ size, sha256 } = { size: body.byteLength, sha256: sha256Hex(body) });
    } else {
      const digest = new DigestStream();
      const source = await bodyStream(key, body);
      let sourceErr: unknown;
      source.once('error', (e: unknown) => (sourceErr ??= e));
      // Errors are judged below (the source's own, or the upload's): the pipe's promise only tells when it is over.
      const piped = pipeline(source, digest).catch(() => undefined);
      const readFailed = () =>
        new BlobStoreError(`cannot store blob '${key}' in ${this.location}: ${errorMessage(sourceErr)}`, {
          cause: sourceErr,
        });
      try {
        etag = (await upload(digest).done()).ETag;
      } catch (err) {
        digest.destroy();
        await piped;
        // A failing source is the better explanation than the upload it broke.
        throw sourceErr ? readFailed() : this.fail('put', key, err);
      }
      await piped;
      if (sourceErr) throw readFailed();
      ({ size, sha256 } = digest.result());
    }
    // A new object has exactly the tags given, none by default. s3rver ignores the upload's `Tagging` and keeps the
    // tags of a replaced (even a deleted) object, so they are always set once more, to the empty set if need be.
    await this.putTags(key, tags);
    return { key, size, sha256, etag };
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    checkKey(key);
    if (range) checkRange(key, range);
    const Range = range ? `bytes=${range.start}-${range.end ?? ''}` : undefined;
    let res;
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range }));
    } catch (err) {
      const e = this.fail('get', key, err, range);
      // S3 answers 416 without the object's size: look it up so the message can say it.
      if (e instanceof RangeNotSatisfiable && range) {
        const size = (await this.head(key).catch(() => undefined))?.size;
        throw new RangeNotSatisfiable(key, range, size);
      }
      throw e;
    }
    const body = (res.Body as Readable | undefined) ?? Readable.from([]);
    const size = res.ContentLength ?? 0;
    const parsed = range ? parseContentRange(res.ContentRange) : undefined;
    if (range && !parsed) {
      body.destroy();
      throw new BlobStoreError(
        `S3 get of blob '${key}' ignored the range ${Range}: no Content-Range in the reply`,
      );
    }
    if (range && parsed) return this.checkedRange(key, range, parsed, body, res.ContentType, res.ETag);
    return { body, size, totalSize: size, contentType: res.ContentType, etag: res.ETag };
  }

  /** The ranged reply, held to what was asked: some servers (s3rver) get edge cases wrong. */
  private checkedRange(
    key: string,
    range: ByteRange,
    got: { start: number; end: number; total: number },
    body: Readable,
    contentType: string | undefined,
    etag: string | undefined,
  ): GetResult {
    const total = got.total;
    if (range.start >= total) {
      // s3rver answers a range of an empty object with 206 and `bytes 0-0/0` where S3 says 416.
      body.destroy();
      throw new RangeNotSatisfiable(key, range, total);
    }
    const end = Math.min(range.end ?? total - 1, total - 1);
    if (got.start !== range.start || got.end < end) {
      body.destroy();
      throw new BlobStoreError(
        `S3 get of blob '${key}' asked for bytes ${range.start}-${end} and got ${got.start}-${got.end}/${total}`,
      );
    }
    // s3rver reads `bytes=0-0` as `bytes=0-`: keep only the bytes asked for.
    const wanted = end - range.start + 1;
    const trimmed = got.end > end ? takeBytes(body, wanted) : body;
    return {
      body: trimmed,
      size: wanted,
      totalSize: total,
      contentRange: { start: range.start, end, total },
      contentType,
      etag,
    };
  }

  async head(key: string): Promise<HeadResult | undefined> {
    checkKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: res.ContentLength ?? 0,
        etag: res.ETag,
        contentType: res.ContentType,
        lastModified: res.LastModified,
      };
    } catch (err) {
      const e = this.fail('head', key, err);
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  }

  async *list(prefix: string): AsyncIterable<ListEntry> {
    checkPrefix(prefix);
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix || undefined,
            MaxKeys: this.listPageSize,
            ContinuationToken: token,
          }),
        );
      } catch (err) {
        throw this.fail('list', prefix, err);
      }
      for (const o of page.Contents ?? []) if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async getTags(key: string): Promise<BlobTags> {
    checkKey(key);
    try {
      const res = await this.client.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key: key }));
      return Object.fromEntries((res.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    } catch (err) {
      throw this.fail('get-tags', key, err);
    }
  }

  async putTags(key: string, tags: BlobTags): Promise<void> {
    checkKey(key);
    checkTags(key, tags);
    const TagSet = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    try {
      await this.client.send(
        new PutObjectTaggingCommand({ Bucket: this.bucket, Key: key, Tagging: { TagSet } }),
      );
    } catch (err) {
      throw this.fail('put-tags', key, err);
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      const e = this.fail('delete', key, err);
      if (!(e instanceof NotFound)) throw e;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** The first `n` bytes of `source`, which is closed once they are read. */
function takeBytes(source: Readable, n: number): Readable {
  async function* take() {
    let left = n;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (chunk.length >= left) {
        yield chunk.subarray(0, left);
        return; // leaving the loop destroys the source
      }
      yield chunk;
      left -= chunk.length;
    }
  }
  return Readable.from(take(), { objectMode: false });
}

/** `bytes 0-4/11` → { start: 0, end: 4, total: 11 }. */
export function parseContentRange(
  header: string | undefined,
): { start: number; end: number; total: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header?.trim() ?? '');
  return m ? { start: Number(m[1]), end: Number(m[2]), total: Number(m[3]) } : undefined;
}
