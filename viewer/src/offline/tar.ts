// Reads the index of a POSIX (ustar) tar — a region pack — from any random-access byte reader (a File/Blob in the
// browser): every regular file's name, data offset and size, reading only the 512-byte headers. Pure.

export const BLOCK = 512;

export interface TarEntry {
  name: string;
  /** where the entry's data starts in the tar */
  offset: number;
  size: number;
}

/** Reads `length` bytes at `offset` (fewer only at the end of the tar). */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

function text(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return new TextDecoder().decode(block.subarray(start, end));
}

function octal(block: Uint8Array, start: number, length: number, field: string): number {
  const t = text(block, start, length).trim();
  if (t === '') return 0;
  if (!/^[0-7]+$/.test(t)) throw new TarFormatError(`tar header field ${field} is not octal: '${t}'`);
  return parseInt(t, 8);
}

function isZero(block: Uint8Array): boolean {
  for (const b of block) if (b !== 0) return false;
  return true;
}

/** Checks a header's checksum (the sum of its bytes with the checksum field taken as spaces). */
function checksumOk(block: Uint8Array): boolean {
  let stored: number;
  try {
    stored = octal(block, 148, 8, 'chksum');
  } catch {
    return false;
  }
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === stored;
}

/**
 * The regular files of the tar in order (directories, links and pax/GNU extension headers are skipped; a pax or
 * GNU long name applies to the next entry). Stops at the end-of-archive zero block or the end of the bytes.
 */
export async function readTarIndex(read: ReadAt, totalSize: number): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= totalSize) {
    const block = await read(offset, BLOCK);
    if (block.length < BLOCK) throw new TarFormatError(`the tar ends inside a header at byte ${offset}`);
    if (isZero(block)) break;
    if (!checksumOk(block))
      throw new TarFormatError(`bad tar header checksum at byte ${offset}: not a tar file?`);
    const size = octal(block, 124, 12, 'size');
    const type = String.fromCharCode(block[156] || 48);
    const magic = text(block, 257, 6);
    const prefix = magic === 'ustar' ? text(block, 345, 155) : '';
    const base = text(block, 0, 100);
    const dataOffset = offset + BLOCK;
    if (dataOffset + size > totalSize)
      throw new TarFormatError(`tar entry '${base}' runs past the end of the file (truncated download?)`);
    if (type === 'L' || type === 'x') {
      const data = new TextDecoder().decode(await read(dataOffset, size));
      if (type === 'L') longName = data.replace(/\0+$/, '');
      else {
        const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data);
        if (m) longName = m[1];
      }
    } else {
      if (type === '0' || type === '\0' || type === '7')
        entries.push({ name: longName ?? (prefix ? `${prefix}/${base}` : base), offset: dataOffset, size });
      longName = undefined;
    }
    offset = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}
