// Answers in the API's one error shape — `{"error":{"code","message"}}` with a stable code — and the status for
// each code, shared by the hot path (plain node:http) and the Express routes.
import type { ServerResponse } from 'node:http';
import { UserError, errorMessage } from '../core/errors.js';
import { BASE_HEADERS } from './headers.js';

/** An error with an HTTP status; `code` is the stable machine-readable part. */
export class HttpError extends UserError {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message, code);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

/** The status for a UserError code raised below the server (domain, event store, blob store, bus). */
const STATUS_OF_CODE: Record<string, number> = {
  bad_input: 400,
  rejected: 422,
  conflict: 409,
  not_found: 404,
  range: 416,
  unauthorized: 401,
  forbidden: 403,
  too_large: 413,
  rate_limited: 429,
  db_unavailable: 503,
  bus_unavailable: 503,
  blob_store: 503,
  unavailable: 503,
};

/** Connection failures from pg / PGlite: the database is down or unreachable, not a bug. */
function isDbDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (
    e.code &&
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '08001',
      '08003',
    ].includes(e.code)
  )
    return true;
  return /Connection terminated|connect ECONNREFUSED|Client has encountered a connection error|PGlite is closed|not currently accepting connections/i.test(
    e.message ?? '',
  );
}

export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
}

/** Classifies any thrown value; unknown errors become 500 `internal` (their message is logged, not sent). */
export function describeError(err: unknown): ErrorBody & { internal: boolean } {
  if (err instanceof HttpError)
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      headers: err.headers,
      internal: false,
    };
  if (isDbDown(err))
    return {
      status: 503,
      code: 'db_unavailable',
      message: 'the database is unavailable; nothing was written, retry later',
      headers: { 'Retry-After': '5' },
      internal: false,
    };
  if (err instanceof UserError) {
    const status = STATUS_OF_CODE[err.code] ?? 400;
    return { status, code: err.code, message: err.message, headers: {}, internal: false };
  }
  return { status: 500, code: 'internal', message: 'internal error', headers: {}, internal: true };
}

/** Sends a JSON body with a status (no caching unless headers say so). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(res.req?.method === 'HEAD' ? undefined : text);
}

/** Sends the error shape for `err`; returns the classification (for logs). */
export function sendError(res: ServerResponse, err: unknown): ReturnType<typeof describeError> {
  const d = describeError(err);
  if (res.headersSent) {
    res.destroy();
    return d;
  }
  sendJson(res, d.status, { error: { code: d.code, message: d.message } }, d.headers);
  return d;
}

export { errorMessage };
