// Partner request signatures: HMAC-SHA256 with the partner's key over
// `timestamp + "\n" + METHOD + "\n" + path?query + "\n" + sha256hex(body)`, hex-encoded, and the clock window.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** How far a request's X-Weft-Timestamp may be from the server's clock, in seconds (either way). */
export const SIGNATURE_WINDOW_S = 300;

export const PARTNER_HEADER = 'x-weft-partner';
export const TIMESTAMP_HEADER = 'x-weft-timestamp';
export const SIGNATURE_HEADER = 'x-weft-signature';

export function sha256Hex(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The text a partner signs. `target` is the request's path and query exactly as sent (e.g. /api/nodes?x=1). */
export function signingString(
  timestamp: string,
  method: string,
  target: string,
  body: Buffer | string,
): string {
  return `${timestamp}\n${method.toUpperCase()}\n${target}\n${sha256Hex(body)}`;
}

/** The signature (lowercase hex) of a request. */
export function signRequest(
  key: string,
  request: { timestamp: string; method: string; target: string; body: Buffer | string },
): string {
  return createHmac('sha256', key)
    .update(signingString(request.timestamp, request.method, request.target, request.body))
    .digest('hex');
}

/** Compares a presented signature with the expected one in constant time (false for any malformed text). */
export function signatureMatches(expectedHex: string, presented: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(presented)) return false;
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(presented, 'hex'));
}

/** Parses X-Weft-Timestamp (unix seconds); undefined when it is not a plain integer. */
export function parseTimestamp(text: string): number | undefined {
  if (!/^\d{1,12}$/.test(text)) return undefined;
  return Number(text);
}

/** True when the timestamp is within ±SIGNATURE_WINDOW_S of now. */
export function withinWindow(timestampS: number, nowMs: number, windowS = SIGNATURE_WINDOW_S): boolean {
  return Math.abs(nowMs / 1000 - timestampS) <= windowS;
}

/** Headers for a signed request (for partners' code, tests and the docs' example). */
export function signedHeaders(
  partner: string,
  key: string,
  request: { method: string; target: string; body: Buffer | string },
  nowMs = Date.now(),
): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'X-Weft-Partner': partner,
    'X-Weft-Timestamp': timestamp,
    'X-Weft-Signature': signRequest(key, { ...request, timestamp }),
  };
}
