// HTTP conditional and range requests (RFC 9110 §13–14) for archives, tiles and packs, as pure functions: what a `Range` header asks of a
// representation of a given size, whether `If-Range` lets it apply, and whether `If-None-Match` matches an ETag.

/** The answer a Range header calls for: the full body (200), one byte range (206), or 416. */
export type RangeDecision =
  { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

export const FULL: RangeDecision = Object.freeze({ kind: 'full' });
const UNSATISFIABLE: RangeDecision = Object.freeze({ kind: 'unsatisfiable' });

const ONE_RANGE = /^bytes=[ \t]*(\d*)-(\d*)[ \t]*$/i;

/**
 * Decides on a Range header for a representation of `size` bytes. A single satisfiable range gives its inclusive
 * bytes (the end clamped to the last byte); a range starting at or past the end, or an empty suffix, is
 * unsatisfiable. A header that does not parse, names another unit, or asks for several ranges is ignored — the
 * full body is sent, as RFC 9110 allows, so a client never gets wrong bytes.
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return FULL;
  const m = ONE_RANGE.exec(header);
  if (!m) return FULL;
  const first = m[1]!;
  const last = m[2]!;
  if (first === '') {
    if (last === '') return FULL; // "bytes=-": malformed
    const n = Number(last);
    if (n === 0 || size === 0) return UNSATISFIABLE;
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  if (end < start) return FULL; // "bytes=5-2": malformed, ignored
  if (start >= size) return UNSATISFIABLE;
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

/**
 * Whether a Range header may apply given `If-Range`: only when it is absent or is exactly the current strong ETag
 * (a date or any other validator never matches: the full, current body is sent instead).
 */
export function ifRangeAllows(ifRange: string | undefined, etag: string): boolean {
  return ifRange === undefined || ifRange.trim() === etag;
}

/** Whether `If-None-Match` matches `etag` (weak comparison, `*` matches anything): then the answer is 304. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header === etag) return true;
  const bare = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const part of header.split(',')) {
    let t = part.trim();
    if (t === '*') return true;
    if (t.startsWith('W/')) t = t.slice(2);
    if (t === bare) return true;
  }
  return false;
}
