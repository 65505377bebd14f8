// Checks of what callers hand a blob store: keys, list prefixes, byte ranges and tags — the same rules on every store.
import { UserError } from '../errors.js';
import type { BlobTags, ByteRange } from './adapter.js';

/** The local store keeps its own files under this first segment; no key may use it. */
export const RESERVED_SEGMENT = '.weft';

const MAX_KEY_BYTES = 1024;
const CONTROL = /[\u0000-\u001f\u007f]/;

function segmentProblem(segments: string[], allowEmptyLast: boolean): string | undefined {
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '' && !(allowEmptyLast && i === segments.length - 1))
      return 'it has an empty path segment (`//`)';
    if (s === '.' || s === '..') return `it has a '${s}' path segment`;
  }
  if (segments[0] === RESERVED_SEGMENT) return `its first segment '${RESERVED_SEGMENT}' is reserved`;
  return undefined;
}

function pathProblem(text: string): string | undefined {
  if (text.startsWith('/')) return 'it starts with `/`';
  if (text.includes('\\')) return 'it contains a backslash';
  if (CONTROL.test(text)) return 'it contains a control character';
  if (Buffer.byteLength(text, 'utf8') > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`;
  return undefined;
}

/** Returns `key` when it is a valid object key: relative, `/`-separated, no `.`/`..`/empty segments. */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || key === '') throw new UserError('invalid blob key: it is empty', 'bad_key');
  const problem =
    pathProblem(key) ?? (key.endsWith('/') ? 'it ends with `/`' : segmentProblem(key.split('/'), false));
  if (problem) throw new UserError(`invalid blob key '${key}': ${problem}`, 'bad_key');
  return key;
}

/** Returns `prefix` when it can start keys: empty, or a key's beginning (it may end with `/`). */
export function checkPrefix(prefix: string): string {
  if (typeof prefix !== 'string') throw new UserError('invalid blob prefix: not a string', 'bad_key');
  if (prefix === '') return prefix;
  const segments = prefix.split('/');
  // The last segment of a prefix may be any beginning of a name, except one that already spells `.` or `..`.
  const problem = pathProblem(prefix) ?? segmentProblem(segments, true);
  if (problem) throw new UserError(`invalid blob prefix '${prefix}': ${problem}`, 'bad_key');
  return prefix;
}

/** Checks an inclusive byte range's shape (not against the object's size). */
export function checkRange(key: string, range: ByteRange): ByteRange {
  const { start, end } = range;
  const shown = `bytes ${start}-${end ?? ''}`;
  if (!Number.isSafeInteger(start) || start < 0)
    throw new UserError(`invalid range ${shown} for blob '${key}': start must be an integer ≥ 0`, 'range');
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start))
    throw new UserError(`invalid range ${shown} for blob '${key}': end must be an integer ≥ start`, 'range');
  return range;
}

const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Checks tags against S3's rules so that both stores accept exactly the same tags. */
export function checkTags(key: string, tags: BlobTags): BlobTags {
  const entries = Object.entries(tags);
  const bad = (why: string) => new UserError(`invalid tags for blob '${key}': ${why}`, 'bad_tags');
  if (entries.length > 10) throw bad(`${entries.length} tags, at most 10 allowed`);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw bad(`tag '${k}' has a value that is not a string`);
    if (k.length < 1 || k.length > 128) throw bad(`tag key '${k}' must be 1–128 characters`);
    if (v.length > 256) throw bad(`tag '${k}' has a value longer than 256 characters`);
    if (!TAG_TEXT.test(k) || !TAG_TEXT.test(v))
      throw bad(`tag '${k}=${v}' has characters outside letters, digits, spaces and _ . : / = + - @`);
  }
  return tags;
}
