// Counting and hashing a blob body (sha256) while it streams to a store, whatever form the body has.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { UserError } from '../errors.js';
import type { BlobBody } from './adapter.js';

/** A pass-through stream that hashes and counts the bytes flowing through it. */
export class DigestStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  /** Bytes and hex sha256 seen so far; call once the stream has ended. */
  result(): { size: number; sha256: string } {
    return { size: this.bytes, sha256: this.hash.digest('hex') };
  }
}

/** Hex sha256 of bytes in memory. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The body as a readable stream; a file must exist and be a regular file. */
export async function bodyStream(key: string, body: Exclude<BlobBody, Uint8Array>): Promise<Readable> {
  if (body instanceof Readable) return body;
  if (body && typeof body === 'object' && typeof body.file === 'string') {
    const info = await stat(body.file).catch(() => undefined);
    if (!info?.isFile())
      throw new UserError(`cannot store blob '${key}': '${body.file}' is not a readable file`, 'bad_input');
    return createReadStream(body.file);
  }
  throw new UserError(`cannot store blob '${key}': the body is not bytes, a stream or { file }`, 'bad_input');
}

/** True when the body is bytes in memory. */
export function isBytes(body: BlobBody): body is Uint8Array {
  return body instanceof Uint8Array;
}
