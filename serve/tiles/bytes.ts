// Where a served archive's bytes come from: memory (a local archive that fits the budget, checked against its
// sha256 once), a kept-open file handle (a larger local archive), or ranged GETs on the blob store (S3: every read
// is a ranged request, never a whole download).
import { createHash } from 'node:crypto';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { BlobStore } from '../../core/blob/adapter.js';
import { LocalBlobStore } from '../../core/blob/local.js';
import { errorMessage, UserError } from '../../core/errors.js';
import type { ProdArchive } from '../releases.js';

export interface ArchiveBytes {
  readonly kind: 'memory' | 'file' | 'blob';
  /** the whole archive, when it is held in memory */
  readonly memory: Buffer | undefined;
  /** `length` bytes from `offset` (exactly, or an error) */
  read(offset: number, length: number): Promise<Buffer>;
  /** bytes `start`–`end` (inclusive) as a stream; the stream must be consumed or destroyed */
  stream(start: number, end: number): Promise<Readable>;
  /** releases the file handle once no stream uses it */
  close(): void;
}

/** An archive that does not match its manifest (size or sha256): its bytes are never served. */
export class ArchiveDamaged extends UserError {
  constructor(archive: ProdArchive, what: string) {
    super(`the prod archive ${archive.key} does not match its release manifest: ${what}`, 'archive_damaged');
    this.name = 'ArchiveDamaged';
  }
}

function memoryBytes(bytes: Buffer): ArchiveBytes {
  return {
    kind: 'memory',
    memory: bytes,
    async read(offset, length) {
      if (offset + length > bytes.length) throw new RangeError(`read past the end of the archive`);
      return bytes.subarray(offset, offset + length);
    },
    async stream(start, end) {
      return Readable.from([bytes.subarray(start, end + 1)]);
    },
    close() {},
  };
}

const CHUNK_BYTES = 64 * 1024;

/**
 * Bytes `start`–`end` of an open file as a stream, read in chunks with positional reads. (FileHandle's own
 * createReadStream adds a 'close' listener to the handle per stream and never removes it: a leak on a handle that
 * stays open for the life of a release.) `done` runs once when the stream ends or is destroyed.
 */
function rangeStream(handle: FileHandle, start: number, end: number, done: () => void): Readable {
  let pos = start;
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      const n = Math.min(CHUNK_BYTES, end + 1 - pos);
      if (n <= 0) {
        this.push(null);
        return;
      }
      const buf = Buffer.allocUnsafe(n);
      handle.read(buf, 0, n, pos).then(
        ({ bytesRead }) => {
          if (bytesRead === 0) {
            this.destroy(new RangeError(`short read at byte ${pos} of the archive`));
            return;
          }
          pos += bytesRead;
          this.push(bytesRead === n ? buf : buf.subarray(0, bytesRead));
        },
        (err: unknown) => this.destroy(err as Error),
      );
    },
    destroy(err, callback) {
      done();
      callback(err);
    },
  });
}

function fileBytes(handle: FileHandle): ArchiveBytes {
  let users = 0;
  let closing = false;
  const maybeClose = () => {
    if (closing && users === 0) void handle.close().catch(() => {});
  };
  return {
    kind: 'file',
    memory: undefined,
    async read(offset, length) {
      users++;
      try {
        const buf = Buffer.allocUnsafe(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(buf, done, length - done, offset + done);
          if (bytesRead === 0) throw new RangeError(`short read at byte ${offset + done} of the archive`);
          done += bytesRead;
        }
        return buf;
      } finally {
        users--;
        maybeClose();
      }
    },
    async stream(start, end) {
      users++;
      let released = false;
      return rangeStream(handle, start, end, () => {
        if (released) return;
        released = true;
        users--;
        maybeClose();
      });
    },
    close() {
      closing = true;
      maybeClose();
    },
  };
}

function blobBytes(blob: BlobStore, key: string): ArchiveBytes {
  return {
    kind: 'blob',
    memory: undefined,
    async read(offset, length) {
      const res = await blob.get(key, { start: offset, end: offset + length - 1 });
      const bytes = await buffer(res.body);
      if (bytes.length !== length)
        throw new RangeError(`short read at byte ${offset} of ${key}: ${bytes.length} of ${length} bytes`);
      return bytes;
    },
    async stream(start, end) {
      return (await blob.get(key, { start, end })).body;
    },
    close() {},
  };
}

export interface OpenBytesOptions {
  /** hold the archive in memory when the local store has it (the caller reserved the memory) */
  inMemory: boolean;
}

/**
 * Opens the bytes of a prod archive. On the local store: read into memory and checked against the manifest's
 * sha256 when asked to, else a kept-open file handle whose size is checked. On S3: ranged GETs.
 */
export async function openArchiveBytes(
  blob: BlobStore,
  archive: ProdArchive,
  opts: OpenBytesOptions,
): Promise<ArchiveBytes> {
  if (!(blob instanceof LocalBlobStore)) {
    const head = await blob.head(archive.key);
    if (!head) throw new ArchiveDamaged(archive, 'the object is missing from the blob store');
    if (head.size !== archive.size)
      throw new ArchiveDamaged(archive, `${head.size} bytes stored, ${archive.size} in the manifest`);
    return blobBytes(blob, archive.key);
  }
  // The local store keeps each object as the file <root>/<key> (core/blob/local.ts).
  const file = path.join(blob.location, ...archive.key.split('/'));
  try {
    if (opts.inMemory) {
      const bytes = await readFile(file);
      if (bytes.length !== archive.size)
        throw new ArchiveDamaged(archive, `${bytes.length} bytes stored, ${archive.size} in the manifest`);
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== archive.sha256) throw new ArchiveDamaged(archive, `its sha256 is ${sha}`);
      return memoryBytes(bytes);
    }
    const handle = await open(file, 'r');
    const size = (await handle.stat()).size;
    if (size !== archive.size) {
      await handle.close();
      throw new ArchiveDamaged(archive, `${size} bytes stored, ${archive.size} in the manifest`);
    }
    return fileBytes(handle);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ArchiveDamaged(archive, 'the object is missing from the blob store');
    throw new UserError(`cannot read the prod archive ${archive.key}: ${errorMessage(err)}`, 'blob_store');
  }
}
