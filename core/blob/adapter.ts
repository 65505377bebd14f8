// The `blob` adapter: the one narrow interface every object store (local folder, any S3 API) provides.
import type { Readable } from 'node:stream';

/** What can be stored: bytes in memory, a stream (consumed once), or a file on disk. */
export type BlobBody = Uint8Array | Readable | { file: string };

/** Object tags: at most 10, keys 1–128 and values 0–256 characters (S3's limits, checked on both stores). */
export type BlobTags = Record<string, string>;

export interface PutOptions {
  contentType?: string;
  /** The tags of the new object. A put replaces any earlier object under the key, tags included. */
  tags?: BlobTags;
}

export interface PutResult {
  key: string;
  /** Bytes stored. */
  size: number;
  /** Hex sha256 of the bytes stored, computed while they streamed. */
  sha256: string;
  /** The store's entity tag, quoted as in HTTP. */
  etag?: string;
}

/** An inclusive byte range, as in HTTP: `end` defaults to the last byte and is clamped to it. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface GetResult {
  /** The bytes: the whole object, or only the range asked for. */
  body: Readable;
  /** Bytes in `body`. */
  size: number;
  /** Bytes in the whole object. */
  totalSize: number;
  /** Which bytes `body` holds (inclusive), when a range was asked for. */
  contentRange?: { start: number; end: number; total: number };
  contentType?: string;
  etag?: string;
}

export interface HeadResult {
  size: number;
  etag?: string;
  contentType?: string;
  lastModified?: Date;
}

export interface ListEntry {
  key: string;
  size: number;
}

export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** Where the objects live, for messages: a folder, or `s3://bucket` at an endpoint. */
  readonly location: string;
  /** Stores `body` under `key`, streaming (multipart on S3 for large bodies). */
  put(key: string, body: BlobBody, opts?: PutOptions): Promise<PutResult>;
  /** Reads an object or a byte range of it; `NotFound` when missing, `RangeNotSatisfiable` past its end. */
  get(key: string, range?: ByteRange): Promise<GetResult>;
  /** The object's size and metadata, or undefined when it does not exist. */
  head(key: string): Promise<HeadResult | undefined>;
  /**
   * Every object whose key starts with `prefix`, fetched page by page, in byte order of the keys (S3's order; the
   * s3rver test server deviates when a name is a prefix of a sibling's, e.g. `a/x` listed before `a-b`).
   */
  list(prefix: string): AsyncIterable<ListEntry>;
  /** The object's tags; `NotFound` when missing. */
  getTags(key: string): Promise<BlobTags>;
  /** Replaces all of the object's tags; `NotFound` when missing. */
  putTags(key: string, tags: BlobTags): Promise<void>;
  /** Removes the object and its tags; removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
