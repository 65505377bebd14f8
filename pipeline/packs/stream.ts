// Writes a pack (or any byte range of it) as a stream: literal parts from memory, archive parts as ranged reads from
// the blob store, chunk by chunk — an archive is never held in memory. Also writes a whole pack to a file.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../core/blob/adapter.js';
import { sliceLayout, type PackLayout, type Segment } from './layout.js';

export interface PackStreamOptions {
  /** first byte (default 0) */
  start?: number;
  /** last byte, inclusive (default the pack's last byte) */
  end?: number;
  /** hash every archive read whole and fail the stream when it differs from the release's sha256 */
  checkArchives?: boolean;
}

/** The blob store held different bytes than the release names (a damaged or replaced object). */
export class PackSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackSourceError';
  }
}

async function* blobBytes(blob: BlobStore, seg: Extract<Segment, { kind: 'blob' }>, check: boolean) {
  const want = seg.end - seg.start + 1;
  const res = await blob.get(seg.key, { start: seg.start, end: seg.end });
  if (res.totalSize !== seg.size) {
    res.body.destroy();
    throw new PackSourceError(
      `archive '${seg.key}' is ${res.totalSize} bytes in the blob store, the release says ${seg.size}`,
    );
  }
  const hash =
    check && seg.sha256 && seg.start === 0 && seg.end === seg.size - 1 ? createHash('sha256') : undefined;
  let got = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    const room = want - got;
    const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
    got += piece.length;
    hash?.update(piece);
    if (piece.length) yield piece;
    if (got >= want) break;
  }
  if (got !== want)
    throw new PackSourceError(
      `archive '${seg.key}' ended after ${got} of ${want} bytes from byte ${seg.start}`,
    );
  if (hash) {
    const digest = hash.digest('hex');
    if (digest !== seg.sha256)
      throw new PackSourceError(
        `archive '${seg.key}' in the blob store has sha256 ${digest}, the release says ${seg.sha256}`,
      );
  }
}

async function* packBytes(blob: BlobStore, segments: Segment[], check: boolean) {
  for (const seg of segments) {
    if (seg.kind === 'bytes') yield seg.bytes;
    else yield* blobBytes(blob, seg, check);
  }
}

/** Bytes `start`…`end` of the pack laid out by `layout`, streamed. */
export function packStream(blob: BlobStore, layout: PackLayout, options: PackStreamOptions = {}): Readable {
  const start = options.start ?? 0;
  const end = options.end ?? layout.size - 1;
  const segments = sliceLayout(layout, start, end);
  return Readable.from(packBytes(blob, segments, options.checkArchives ?? false), { objectMode: false });
}

/** Writes the whole pack to `file` (through a temporary file beside it, renamed when complete). */
export async function writePackFile(blob: BlobStore, layout: PackLayout, file: string): Promise<void> {
  const tmp = path.join(
    path.dirname(path.resolve(file)),
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    await pipeline(packStream(blob, layout, { checkArchives: true }), createWriteStream(tmp));
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
