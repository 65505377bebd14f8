// Writing the hot path's answers on a plain node:http response: cached tile answers (200/204/404/304), archive
// bytes with Range/If-Range/If-None-Match (206/200/304/416), and errors in the API's shape with public CORS.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.js';
import { describeError, sendJson } from '../http.js';
import { PUBLIC_HEADER_LIST, PUBLIC_HEADERS } from '../headers.js';
import type { OpenArchive, ServedArchive, TileAnswer } from './archive.js';
import { decideRange, ifRangeAllows, noneMatch } from '../conditional.js';

/** Content-addressed archive URLs never change. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The unversioned archive URL changes with each promotion: always revalidate (a 304 is cheap). */
export const REVALIDATE = 'public, no-cache';
/** Ranges up to this size are read into memory and sent in one piece; larger ones are streamed. */
const READ_WHOLE_BYTES = 64 * 1024;

/** Sends a cached tile answer, or 304 when If-None-Match matches its ETag. */
export function writeTile(req: IncomingMessage, res: ServerResponse, a: TileAnswer): void {
  if (a.etag !== undefined) {
    const inm = req.headers['if-none-match'];
    if (inm !== undefined && noneMatch(inm, a.etag)) {
      res.writeHead(304, a.notModified);
      res.end();
      return;
    }
  }
  res.writeHead(a.status, a.headers);
  if (a.body === undefined || req.method === 'HEAD') res.end();
  else res.end(a.body);
}

/** Sends an error in the API's shape with public CORS; internal errors are logged. */
export function sendPublicError(res: ServerResponse, err: unknown, logger: Logger): void {
  const d = describeError(err);
  if (d.internal) logger.error({ err, component: 'tiles' }, `request failed: ${errorMessage(err)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(
    res,
    d.status,
    { error: { code: d.code, message: d.message } },
    { ...d.headers, ...PUBLIC_HEADERS },
  );
}

/** The header lists of an archive's responses, made once per archive and cache policy. */
export interface ArchiveHeaders {
  ok: string[];
  notModified: string[];
}

export function archiveHeaders(etag: string, cacheControl: string): ArchiveHeaders {
  return {
    ok: [
      'Content-Type',
      'application/vnd.pmtiles',
      'Accept-Ranges',
      'bytes',
      'ETag',
      etag,
      'Cache-Control',
      cacheControl,
      ...PUBLIC_HEADER_LIST,
    ],
    notModified: [
      'ETag',
      etag,
      'Cache-Control',
      cacheControl,
      'Accept-Ranges',
      'bytes',
      ...PUBLIC_HEADER_LIST,
    ],
  };
}

/** What a GET/HEAD of an archive calls for: 304, 416 (with its body), or 200/206 of bytes start–end. */
export type ArchiveDecision =
  | { status: 304 }
  | { status: 416; list: string[]; body: string }
  | { status: 200 | 206; start: number; end: number };

const NOT_MODIFIED: ArchiveDecision = Object.freeze({ status: 304 });

/**
 * Decides on GET/HEAD of an archive: 304 on If-None-Match, else one range (206) when a GET's Range asks for one
 * and If-Range (if any) names this archive's ETag, 416 past the end, else the whole archive (200).
 */
export function decideArchive(
  method: string | undefined,
  ifNoneMatch: string | undefined,
  range: string | undefined,
  ifRange: string | undefined,
  a: ServedArchive,
): ArchiveDecision {
  if (ifNoneMatch !== undefined && noneMatch(ifNoneMatch, a.etag)) return NOT_MODIFIED;
  const size = a.archive.size;
  if (range !== undefined && method === 'GET' && ifRangeAllows(ifRange, a.etag)) {
    const d = decideRange(range, size);
    if (d.kind === 'unsatisfiable') {
      const body = JSON.stringify({
        error: {
          code: 'range_not_satisfiable',
          message: `range ${range} is not satisfiable: the archive has ${size} bytes`,
        },
      });
      const list = [
        'Content-Range',
        `bytes */${size}`,
        'Content-Type',
        'application/json; charset=utf-8',
        'Content-Length',
        String(Buffer.byteLength(body)),
        'Accept-Ranges',
        'bytes',
        'ETag',
        a.etag,
        ...PUBLIC_HEADER_LIST,
      ];
      return { status: 416, list, body };
    }
    if (d.kind === 'partial') return { status: 206, start: d.start, end: d.end };
  }
  return { status: 200, start: 0, end: size - 1 };
}

/**
 * Answers GET/HEAD of an opened archive as decideArchive says. Synchronous when the archive is in memory; returns
 * a promise while bytes stream from a file or the blob store.
 */
export function writeArchive(
  req: IncomingMessage,
  res: ServerResponse,
  a: ServedArchive,
  o: OpenArchive,
  headers: ArchiveHeaders,
): void | Promise<void> {
  const h = req.headers;
  const d = decideArchive(req.method, h['if-none-match'], h.range, h['if-range'] as string | undefined, a);
  if (d.status === 304) {
    res.writeHead(304, headers.notModified);
    res.end();
    return;
  }
  if (d.status === 416) {
    res.writeHead(416, d.list);
    res.end(d.body);
    return;
  }
  const { status, start, end } = d;
  const size = a.archive.size;
  const length = end - start + 1;
  const list =
    status === 206
      ? [...headers.ok, 'Content-Range', `bytes ${start}-${end}/${size}`, 'Content-Length', String(length)]
      : [...headers.ok, 'Content-Length', String(length)];
  if (req.method === 'HEAD') {
    res.writeHead(status, list);
    res.end();
    return;
  }
  const mem = o.bytes.memory;
  if (mem !== undefined) {
    res.writeHead(status, list);
    res.end(mem.subarray(start, end + 1));
    return;
  }
  return sendBytes(res, o, status, list, start, end);
}

async function sendBytes(
  res: ServerResponse,
  o: OpenArchive,
  status: number,
  list: string[],
  start: number,
  end: number,
): Promise<void> {
  const length = end - start + 1;
  if (length <= READ_WHOLE_BYTES) {
    const bytes = await o.bytes.read(start, length);
    res.writeHead(status, list);
    res.end(bytes);
    return;
  }
  const stream = await o.bytes.stream(start, end);
  res.writeHead(status, list);
  try {
    await pipeline(stream, res);
  } catch {
    // the client went away or the store broke off mid-body: the response is cut short, never padded
    stream.destroy();
    res.destroy();
  }
}
