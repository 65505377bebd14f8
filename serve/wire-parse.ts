// The raw front's request-head parser (serve/wire.ts): a strict reader of plain HTTP/1.1 GET/HEAD heads. It
// accepts only what it fully understands — origin-form targets, `HTTP/1.1`, token header names, values of visible
// ASCII, one Host, no body or connection change (Content-Length, Transfer-Encoding, Upgrade, Expect) — and says
// "hand over" for anything else, so that node:http's own parser answers it exactly as it would without the front.

/** The request headers the hot path reads (undefined when absent). */
export interface WireHeaders {
  ifNoneMatch: string | undefined;
  range: string | undefined;
  ifRange: string | undefined;
  forwardedFor: string | undefined;
}

/** One complete, understood request head. */
export interface WireRequest {
  method: 'GET' | 'HEAD';
  /** the request target as sent (path and query) */
  target: string;
  headers: WireHeaders;
  /** `Connection: close`: answer, then close */
  close: boolean;
  /** the offset just past the head (the next request starts there) */
  next: number;
}

/** Not a whole head yet (wait for more bytes). */
export const INCOMPLETE = 0;
/** Something the front must not handle: node:http takes the connection. */
export const HAND_OVER = 1;
export type ParseResult = WireRequest | typeof INCOMPLETE | typeof HAND_OVER;

/** node:http's default limit on a request head (--max-http-header-size). */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Heads longer than this are handed over (node decides what is too long; the front never needs long heads). */
const MAX_UNDERSTOOD_HEAD = 8 * 1024;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/** RFC 9110 tchar. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

// Header-name ids (bit flags, so that a repeated header is seen).
const H_HOST = 1;
const H_RANGE = 2;
const H_IF_RANGE = 4;
const H_INM = 8;
const H_CONNECTION = 16;
const H_XFF = 32;
const H_REFUSE = -1;

/** Whether b[s, s+lit.length) is `lit` (lower case letters and '-') in any case. */
function nameIs(b: Buffer, s: number, lit: string): boolean {
  for (let k = 0; k < lit.length; k++) if ((b[s + k]! | 0x20) !== lit.charCodeAt(k)) return false;
  return true;
}

/** The id of a header name the front reads or refuses; 0 for one it ignores. */
function headerId(b: Buffer, s: number, e: number): number {
  switch (e - s) {
    case 4:
      return nameIs(b, s, 'host') ? H_HOST : 0;
    case 5:
      return nameIs(b, s, 'range') ? H_RANGE : 0;
    case 6:
      return nameIs(b, s, 'expect') ? H_REFUSE : 0;
    case 7:
      return nameIs(b, s, 'upgrade') ? H_REFUSE : 0;
    case 8:
      return nameIs(b, s, 'if-range') ? H_IF_RANGE : 0;
    case 10:
      return nameIs(b, s, 'connection') ? H_CONNECTION : 0;
    case 13:
      return nameIs(b, s, 'if-none-match') ? H_INM : 0;
    case 14:
      return nameIs(b, s, 'content-length') ? H_REFUSE : 0;
    case 15:
      return nameIs(b, s, 'x-forwarded-for') ? H_XFF : 0;
    case 16:
      return nameIs(b, s, 'proxy-connection') ? H_REFUSE : 0;
    case 17:
      return nameIs(b, s, 'transfer-encoding') ? H_REFUSE : 0;
    default:
      return 0;
  }
}

/**
 * Whether the bytes b[from, to) of a head still being received can belong to a head the front understands:
 * visible ASCII, SP, HTAB, and CR LF pairs only (a bare CR or LF, a control byte or non-ASCII is handed over at
 * once, as are the first bytes when they do not start `GET /` or `HEAD /`).
 */
export function plausiblePrefix(b: Buffer, start: number, from: number, to: number): boolean {
  const method = b[start] === 72 /* H */ ? 'HEAD /' : 'GET /';
  for (let i = Math.max(from, start); i < to && i - start < method.length; i++)
    if (b[i] !== method.charCodeAt(i - start)) return false;
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c >= SP && c < 127) continue;
    if (c === HTAB) continue;
    if (c === CR) {
      if (i + 1 < to && b[i + 1] !== LF) return false;
      continue;
    }
    if (c === LF) {
      if (i === start || b[i - 1] !== CR) return false;
      continue;
    }
    return false;
  }
  return true;
}

/**
 * Parses the head starting at b[start] (bytes up to `end`). INCOMPLETE says nothing about the bytes so far: the
 * caller checks them with plausiblePrefix as they arrive.
 */
export function parseHead(b: Buffer, start: number, end: number): ParseResult {
  const headEnd = b.indexOf('\r\n\r\n', start, 'latin1');
  if (headEnd < 0 || headEnd + 4 > end) return end - start > MAX_HEAD_BYTES ? HAND_OVER : INCOMPLETE;
  if (headEnd + 4 - start > MAX_UNDERSTOOD_HEAD) return HAND_OVER;

  // request line: GET|HEAD SP origin-form SP HTTP/1.1 CRLF
  let method: 'GET' | 'HEAD';
  let i: number;
  if (b[start] === 71 && b[start + 1] === 69 && b[start + 2] === 84 && b[start + 3] === SP) {
    method = 'GET';
    i = start + 4;
  } else if (
    b[start] === 72 &&
    b[start + 1] === 69 &&
    b[start + 2] === 65 &&
    b[start + 3] === 68 &&
    b[start + 4] === SP
  ) {
    method = 'HEAD';
    i = start + 5;
  } else return HAND_OVER;
  const targetStart = i;
  if (b[i] !== 47 /* / */) return HAND_OVER;
  for (; i < headEnd; i++) {
    const c = b[i]!;
    if (c === SP) break;
    if (c <= SP || c >= 127) return HAND_OVER;
  }
  const targetEnd = i;
  // " HTTP/1.1\r\n"
  if (
    b[i] !== SP ||
    b[i + 1] !== 72 ||
    b[i + 2] !== 84 ||
    b[i + 3] !== 84 ||
    b[i + 4] !== 80 ||
    b[i + 5] !== 47 ||
    b[i + 6] !== 49 ||
    b[i + 7] !== 46 ||
    b[i + 8] !== 49 ||
    b[i + 9] !== CR ||
    b[i + 10] !== LF
  )
    return HAND_OVER;
  i += 11;

  let seen = 0;
  let ifNoneMatch: string | undefined;
  let range: string | undefined;
  let ifRange: string | undefined;
  let forwardedFor: string | undefined;
  let close = false;
  // header lines up to headEnd + 2 (the last line's CRLF)
  const stop = headEnd + 2;
  while (i < stop) {
    const nameStart = i;
    while (i < stop && TOKEN[b[i]!] === 1) i++;
    if (i === nameStart || b[i] !== COLON) return HAND_OVER; // empty name, obs-fold, space before ':', bad byte
    const id = headerId(b, nameStart, i);
    if (id === H_REFUSE) return HAND_OVER;
    i++;
    while (b[i] === SP || b[i] === HTAB) i++;
    const valueStart = i;
    let valueEnd = i;
    for (; ; i++) {
      const c = b[i]!;
      if (c === CR) break;
      if (c >= SP && c < 127) {
        if (c !== SP) valueEnd = i + 1;
      } else if (c !== HTAB) return HAND_OVER;
    }
    if (b[i + 1] !== LF) return HAND_OVER;
    i += 2;
    if (id === 0) continue;
    if ((seen & id) !== 0) return HAND_OVER; // a repeated header node:http would join or refuse
    seen |= id;
    if (id === H_HOST) continue;
    const value = b.toString('latin1', valueStart, valueEnd);
    if (id === H_INM) ifNoneMatch = value;
    else if (id === H_RANGE) range = value;
    else if (id === H_IF_RANGE) ifRange = value;
    else if (id === H_XFF) forwardedFor = value;
    else {
      // Connection: a list of tokens; `upgrade` belongs to node:http, `close` ends the connection after the answer
      for (const part of value.toLowerCase().split(',')) {
        const t = part.trim();
        if (t === 'close') close = true;
        else if (t === 'upgrade') return HAND_OVER;
      }
    }
  }
  if ((seen & H_HOST) === 0) return HAND_OVER; // node:http answers 400 to an HTTP/1.1 request without Host
  return {
    method,
    target: b.toString('latin1', targetStart, targetEnd),
    headers: { ifNoneMatch, range, ifRange, forwardedFor },
    close,
    next: headEnd + 4,
  };
}
