// Reading a pack file: walks its tar headers (never loading the archives), names where each entry's bytes are, says
// where the container is broken or cut short, and gives ranged and whole reads of an entry.
import { createHash } from 'node:crypto';
import type { RangeSource } from '../pmtiles/reader.js';
import { BLOCK, TRAILER_BYTES, TarError, decodeHeader, isZeroBlock, paddingFor } from './tar.js';

export interface IndexedEntry {
  name: string;
  typeflag: string;
  headerOffset: number;
  dataOffset: number;
  size: number;
  mtime: number;
  /** false when the file ends before the entry's last byte */
  complete: boolean;
}

export interface PackIndex {
  fileSize: number;
  entries: IndexedEntry[];
  /** container problems, one line each (truncation, a broken header, data after the end) */
  problems: string[];
  /** the file ends before the tar end-of-archive marker */
  truncated: boolean;
}

const CHUNK = 1 << 20;

async function readExactly(source: RangeSource, offset: number, length: number): Promise<Uint8Array> {
  const bytes = await source.read(offset, length);
  if (bytes.length !== length)
    throw new Error(`short read: ${bytes.length} of ${length} bytes at byte ${offset}`);
  return bytes;
}

/** Walks the tar headers of the pack read through `source`. */
export async function indexPack(source: RangeSource): Promise<PackIndex> {
  const fileSize = await source.size();
  const entries: IndexedEntry[] = [];
  const problems: string[] = [];
  let truncated = false;
  const cut = (what: string) => {
    truncated = true;
    problems.push(`truncated: the file ends after ${fileSize} bytes, ${what}`);
  };
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > fileSize) {
      cut(
        offset === fileSize
          ? `without the end-of-archive marker${entries.length ? ` after ${entries.at(-1)!.name}` : ''}`
          : `inside the header at byte ${offset}`,
      );
      break;
    }
    const block = await readExactly(source, offset, BLOCK);
    if (isZeroBlock(block)) {
      if (offset + TRAILER_BYTES > fileSize) {
        cut('inside the end-of-archive marker');
        break;
      }
      if (!isZeroBlock(await readExactly(source, offset + BLOCK, BLOCK)))
        problems.push(`a zero block at byte ${offset} is followed by data, not the end of the archive`);
      else if (await hasDataFrom(source, offset + TRAILER_BYTES, fileSize))
        problems.push(`data follows the end-of-archive marker at byte ${offset + TRAILER_BYTES}`);
      break;
    }
    let header;
    try {
      header = decodeHeader(block);
    } catch (err) {
      if (!(err instanceof TarError)) throw err;
      problems.push(`the entry header at byte ${offset} is broken: ${err.message}`);
      break;
    }
    const dataOffset = offset + BLOCK;
    const complete = dataOffset + header.size <= fileSize;
    entries.push({
      name: header.name,
      typeflag: header.typeflag,
      headerOffset: offset,
      dataOffset,
      size: header.size,
      mtime: header.mtime,
      complete,
    });
    if (!complete) {
      const have = Math.max(0, fileSize - dataOffset);
      cut(`inside ${header.name} (${have} of its ${header.size} bytes, ${header.size - have} missing)`);
      break;
    }
    offset = dataOffset + header.size + paddingFor(header.size);
  }
  return { fileSize, entries, problems, truncated };
}

async function hasDataFrom(source: RangeSource, from: number, size: number): Promise<boolean> {
  for (let at = from; at < size; at += CHUNK) {
    const bytes = await readExactly(source, at, Math.min(CHUNK, size - at));
    if (!isZeroBlock(bytes)) return true;
  }
  return false;
}

/** A RangeSource over one entry's bytes (e.g. to read an archive inside a pack without extracting it). */
export function entrySource(source: RangeSource, entry: IndexedEntry): RangeSource {
  return {
    key: `${source.key}:${entry.name}`,
    size: async () => entry.size,
    read: async (offset: number, length: number) => {
      const n = Math.max(0, Math.min(length, entry.size - offset));
      return n === 0 ? new Uint8Array(0) : source.read(entry.dataOffset + offset, n);
    },
  };
}

/** The entry's bytes, whole (for the small files: manifests, styles). */
export function readEntry(source: RangeSource, entry: IndexedEntry): Promise<Uint8Array> {
  return readExactly(source, entry.dataOffset, entry.size);
}

/** The sha256 of the entry's bytes, read in 1 MiB chunks. */
export async function hashEntry(source: RangeSource, entry: IndexedEntry): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < entry.size; at += CHUNK)
    hash.update(await readExactly(source, entry.dataOffset + at, Math.min(CHUNK, entry.size - at)));
  return hash.digest('hex');
}
