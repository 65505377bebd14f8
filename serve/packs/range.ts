// HTTP conditional and range requests for pack downloads, as pure functions: one `Range` (RFC 9110 §14) →
// a byte span, unsatisfiable, or the whole body; `If-Range` and `If-None-Match` against a strong ETag.

export type RangeAnswer =
  { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const FULL: RangeAnswer = { kind: 'full' };
const MAX_DIGITS = 15; // below 2^53

/**
 * What a `Range` header asks of a body of `size` bytes. A single range `a-b`, `a-` or `-n` gives `partial` (the end
 * clamped to the last byte) or `unsatisfiable` (starting at or past the end, or `-0`); anything else — no header,
 * another unit, a malformed or multi-range set — is answered with the whole body.
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return FULL;
  const m = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (!m) return FULL;
  const specs = m[1]!.split(',').map((s) => s.trim());
  if (specs.length !== 1) return FULL;
  const r = /^(\d*)\s*-\s*(\d*)$/.exec(specs[0]!);
  if (!r) return FULL;
  const [, a, b] = r as unknown as [string, string, string];
  if ((a === '' && b === '') || a.length > MAX_DIGITS || b.length > MAX_DIGITS) return FULL;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Number(b);
  if (b !== '' && end < start) return FULL;
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

/** Whether a `Range` may be honoured: no `If-Range`, or one naming exactly this (strong) ETag. Dates never match. */
export function ifRangeAllows(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  return header.trim() === etag;
}

/** Whether `If-None-Match` names this ETag (weak comparison, as RFC 9110 asks) or is `*`. */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  const want = strip(etag);
  return header.split(',').some((t) => t.trim() === '*' || strip(t) === want);
}
