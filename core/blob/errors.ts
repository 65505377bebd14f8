// The blob store's errors: a missing object, a range past its end, a store that failed.
import { UserError } from '../errors.js';
import type { ByteRange } from './adapter.js';

/** No object under the key. */
export class NotFound extends UserError {
  readonly key: string;
  constructor(key: string, location: string) {
    super(`blob '${key}' not found in ${location}`, 'not_found');
    this.name = 'NotFound';
    this.key = key;
  }
}

/** A byte range that starts at or after the object's end (HTTP 416). */
export class RangeNotSatisfiable extends UserError {
  readonly key: string;
  readonly size: number | undefined;
  constructor(key: string, range: ByteRange, size: number | undefined) {
    const asked = `bytes ${range.start}-${range.end ?? ''}`;
    const of = size === undefined ? 'the object' : `an object of ${size} bytes`;
    super(`range ${asked} of blob '${key}' is not satisfiable: it starts past the end of ${of}`, 'range');
    this.name = 'RangeNotSatisfiable';
    this.key = key;
    this.size = size;
  }
}

/** The store itself failed (unreachable endpoint, missing bucket, a full disk, …). */
export class BlobStoreError extends UserError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'blob_store');
    this.name = 'BlobStoreError';
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
