// The container of a region pack: POSIX ustar (uncompressed tar), written deterministically — fixed mode, owner and
// mtime — so that a phone, a browser or `tar` reads it without a library. Pure functions over 512-byte blocks.

export const BLOCK = 512;
/** Two zero blocks end a tar archive. */
export const TRAILER_BYTES = 2 * BLOCK;
/** The largest size an 11-digit octal size field holds (8 GiB − 1). */
export const MAX_ENTRY_BYTES = 8 ** 11 - 1;
const NAME_BYTES = 100;

export interface TarHeader {
  name: string;
  size: number;
  /** seconds since the epoch */
  mtime: number;
}

/** Bytes of zero padding after `size` data bytes to reach the next block boundary. */
export function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Whether `name` fits the plain ustar name field: ASCII, relative, no `..`, at most 100 bytes. */
export function entryNameProblem(name: string): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(name)) return 'must be printable ASCII without spaces';
  if (name.length > NAME_BYTES) return `is longer than ${NAME_BYTES} bytes`;
  if (name.startsWith('/') || name.split('/').some((s) => s === '' || s === '.' || s === '..'))
    return 'must be a relative path without empty, "." or ".." segments';
  return undefined;
}

function putText(block: Uint8Array, offset: number, length: number, text: string): void {
  for (let i = 0; i < text.length && i < length; i++) block[offset + i] = text.charCodeAt(i);
}

/** A zero-padded octal number of `digits` digits followed by NUL (the ustar numeric field). */
function putOctal(block: Uint8Array, offset: number, digits: number, value: number): void {
  putText(block, offset, digits, value.toString(8).padStart(digits, '0'));
  block[offset + digits] = 0;
}

function checksumOf(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

/** The 512-byte ustar header of a regular file: mode 0644, uid/gid 0, no owner names. */
export function encodeHeader(h: TarHeader): Uint8Array {
  const problem = entryNameProblem(h.name);
  if (problem) throw new Error(`tar entry name '${h.name}' ${problem}`);
  if (!Number.isInteger(h.size) || h.size < 0 || h.size > MAX_ENTRY_BYTES)
    throw new Error(`tar entry '${h.name}': size ${h.size} does not fit a ustar header`);
  if (!Number.isInteger(h.mtime) || h.mtime < 0 || h.mtime > MAX_ENTRY_BYTES)
    throw new Error(`tar entry '${h.name}': mtime ${h.mtime} does not fit a ustar header`);
  const b = new Uint8Array(BLOCK);
  putText(b, 0, NAME_BYTES, h.name);
  putOctal(b, 100, 7, 0o644); // mode
  putOctal(b, 108, 7, 0); // uid
  putOctal(b, 116, 7, 0); // gid
  putOctal(b, 124, 11, h.size);
  putOctal(b, 136, 11, h.mtime);
  b[156] = 0x30; // typeflag '0': regular file
  putText(b, 257, 6, 'ustar'); // magic "ustar\0"
  putText(b, 263, 2, '00'); // version
  putOctal(b, 329, 7, 0); // devmajor
  putOctal(b, 337, 7, 0); // devminor
  // checksum: six octal digits, NUL, space
  putOctal(b, 148, 6, checksumOf(b));
  b[155] = 0x20;
  return b;
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function readText(block: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && block[end] !== 0) end++;
  return String.fromCharCode(...block.subarray(offset, end));
}

function readOctal(block: Uint8Array, offset: number, length: number, field: string): number {
  const text = readText(block, offset, length).trim();
  if (!/^[0-7]+$/.test(text)) throw new TarError(`its ${field} field is not an octal number`);
  return parseInt(text, 8);
}

/** A header block that is not a readable ustar header. */
export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarError';
  }
}

export interface ParsedHeader extends TarHeader {
  /** '0' (or NUL) for a regular file; anything else is another kind of entry */
  typeflag: string;
}

/** Reads one header block; throws TarError when its magic or checksum is wrong. */
export function decodeHeader(block: Uint8Array): ParsedHeader {
  if (block.length !== BLOCK) throw new TarError(`a header needs ${BLOCK} bytes, got ${block.length}`);
  if (readText(block, 257, 6) !== 'ustar') throw new TarError('it is not a ustar header (no "ustar" magic)');
  const stored = readOctal(block, 148, 8, 'checksum');
  if (stored !== checksumOf(block))
    throw new TarError(`its checksum is ${stored}, the header's bytes sum to ${checksumOf(block)}`);
  const prefix = readText(block, 345, 155);
  const name = readText(block, 0, NAME_BYTES);
  const flag = block[156]!;
  return {
    name: prefix ? `${prefix}/${name}` : name,
    size: readOctal(block, 124, 12, 'size'),
    mtime: readOctal(block, 136, 12, 'mtime'),
    typeflag: flag === 0 ? '0' : String.fromCharCode(flag),
  };
}
