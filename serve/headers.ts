// The headers the server's answers share: the base security headers every response carries (Express gets them,
// and more, from helmet; the hot path writes them from these constants) and public CORS for read-only resources.
import { STATUS_CODES } from 'node:http';

/** Headers every response carries. */
export const BASE_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Referrer-Policy': 'no-referrer',
};

/** Read-only public resources (tiles, styles, packs, fonts) may be fetched from any origin. */
export const PUBLIC_CORS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'ETag, Content-Range, Content-Length, Accept-Ranges, Content-Encoding',
};

/** A public read answered on the hot path: the base headers and public CORS. */
export const PUBLIC_HEADERS: Record<string, string> = { ...BASE_HEADERS, ...PUBLIC_CORS };

/** PUBLIC_HEADERS as a flat list for `writeHead(status, [name, value, …])`. */
export const PUBLIC_HEADER_LIST: string[] = Object.entries(PUBLIC_HEADERS).flat();

/**
 * A response head as node:http writes it for `writeHead(status, list)`, up to and including the last of `list`'s
 * header lines (node's own Date/Connection/Keep-Alive lines and the blank line follow): for the raw front.
 */
export function headText(status: number, list: readonly string[]): string {
  let s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
  for (let i = 0; i < list.length; i += 2) s += `${list[i]}: ${list[i + 1]}\r\n`;
  return s;
}
