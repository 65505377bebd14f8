// The URL clients reach this server at, for the absolute URLs in TileJSON, styles and the region list: the
// configured public URL, else the request's protocol and Host (X-Forwarded-Proto/-Host only behind a trusted proxy).
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ServeConfig } from '../config.js';
import { HttpError } from '../http.js';

/** A host name or IPv4 address, or a bracketed IPv6 address, with an optional port. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.split(',')[0]?.trim() || undefined;
}

/** `http(s)://host[:port]` without a trailing slash. */
export function publicBase(
  config: Pick<ServeConfig, 'publicUrl' | 'trustProxy'>,
  req: IncomingMessage,
): string {
  if (config.publicUrl) return config.publicUrl;
  let proto = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  let host = req.headers.host;
  if (config.trustProxy) {
    const fp = first(req.headers['x-forwarded-proto'])?.toLowerCase();
    if (fp === 'http' || fp === 'https') proto = fp;
    host = first(req.headers['x-forwarded-host']) ?? host;
  }
  if (!host || !HOST.test(host))
    throw new HttpError(
      400,
      'bad_host',
      'the Host header is missing or malformed, so no absolute URL can be made (or set WEFT_PUBLIC_URL)',
    );
  return `${proto}://${host}`;
}
