// Reads a request's JSON body: JSON content type (else 415), at most `limit` bytes (else 413, and reading stops),
// well-formed UTF-8 JSON (else 400 bad_json). An empty body reads as `{}` (e.g. spinning a thread).
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http.js';

export interface JsonBody {
  /** the bytes as received (what a partner's signature covers) */
  raw: Buffer;
  value: unknown;
}

/** `application/json` or `application/<something>+json`, charset (if any) UTF-8. */
export function isJsonContentType(header: string): boolean {
  const [type, ...params] = header.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type ?? '')) return false;
  for (const p of params) {
    const [k, v] = p.split('=').map((s) => s.trim());
    if (k === 'charset' && v?.replace(/"/g, '') !== 'utf-8' && v?.replace(/"/g, '') !== 'utf8') return false;
  }
  return true;
}

/** Whether the request announces a body (a positive Content-Length or a transfer coding). */
export function announcesBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding']) return true;
  const len = req.headers['content-length'];
  return len !== undefined && len !== '0';
}

function tooLarge(limit: number): HttpError {
  // Connection: close — the rest of the body is not read; the connection ends after this answer
  return new HttpError(413, 'too_large', `the request body is larger than ${limit} bytes`, {
    Connection: 'close',
  });
}

/** The raw body, stopping (and failing with 413) as soon as it exceeds `limit` bytes. */
export function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err: Error | undefined, body?: Buffer) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err) reject(err);
      else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        chunks.length = 0;
        settle(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle(undefined, Buffer.concat(chunks, size));
    const onError = () =>
      settle(new HttpError(400, 'bad_body', 'the request body could not be read', { Connection: 'close' }));
    const onClose = () => {
      if (!req.complete)
        settle(new HttpError(400, 'bad_body', 'the request body ended early', { Connection: 'close' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** 415 unless the body is announced as JSON (a request without a body needs no content type). */
export function checkJsonContentType(req: IncomingMessage): void {
  const type = req.headers['content-type'];
  if (type !== undefined ? !isJsonContentType(type) : announcesBody(req)) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `send the body as JSON with Content-Type: application/json${type ? ` (got '${type}')` : ''}`,
    );
  }
}

/** The JSON value of a body's bytes (an empty body is `{}`); 400 bad_json for anything else. */
export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return {};
  try {
    return JSON.parse(utf8.decode(raw));
  } catch (err) {
    throw new HttpError(400, 'bad_json', `the body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Content type, size and JSON checks, in that order; returns the parsed value with the raw bytes. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<JsonBody> {
  checkJsonContentType(req);
  const raw = await readRawBody(req, limit);
  return { raw, value: parseJson(raw) };
}
