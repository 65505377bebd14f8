// Streaming sha256 and size of files and stored objects, and the check of a release's objects against its manifest.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../core/blob/adapter.js';
import { NotFound } from '../../core/blob/errors.js';
import type { ReleaseFile } from './manifest.js';

export interface Digest {
  size: number;
  sha256: string;
}

async function digestStream(stream: Readable): Promise<Digest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Size and sha256 of a local file, read as a stream. */
export function digestFile(path: string): Promise<Digest> {
  return digestStream(createReadStream(path));
}

/** Size and sha256 of a stored object, read as a stream; undefined when it does not exist. */
export async function digestObject(blob: BlobStore, key: string): Promise<Digest | undefined> {
  try {
    return await digestStream((await blob.get(key)).body);
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
}

/** Why the stored object differs from what the manifest says, or undefined when its bytes match. */
export async function objectProblem(blob: BlobStore, file: ReleaseFile): Promise<string | undefined> {
  const got = await digestObject(blob, file.key);
  if (!got) return `object '${file.key}' is missing from ${blob.location}`;
  if (got.size !== file.size)
    return `object '${file.key}' has ${got.size} bytes, the manifest says ${file.size}`;
  if (got.sha256 !== file.sha256)
    return `object '${file.key}' has sha256 ${got.sha256}, the manifest says ${file.sha256}`;
  return undefined;
}
