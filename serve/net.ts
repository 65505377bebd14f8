// Client addresses: which address a request came from, and the network it belongs to (/24 for IPv4, /48 for
// IPv6) — what logs keep and what rate limits count.
import { isIPv4, isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** The client's address: the socket's peer, or the first X-Forwarded-For hop when the proxy is trusted. */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const fwd = req.headers['x-forwarded-for'];
  return peerIp(req.socket.remoteAddress, Array.isArray(fwd) ? fwd[0] : fwd, trustProxy);
}

/** clientIp from the socket's peer address and the X-Forwarded-For value (the raw front has no request object). */
export function peerIp(
  remoteAddress: string | undefined,
  forwardedFor: string | undefined,
  trustProxy: boolean,
): string {
  if (trustProxy) {
    const first = forwardedFor?.split(',')[0]?.trim();
    if (first && (isIPv4(first) || isIPv6(first))) return unmapV4(first);
  }
  return unmapV4(remoteAddress ?? '0.0.0.0');
}

function unmapV4(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

/** Expands an IPv6 address to its eight 16-bit groups. */
function ipv6Groups(ip: string): number[] {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').filter(Boolean) : []);
  let h = part(head);
  let t = part(tail);
  const last = (t.length ? t : h).at(-1);
  // an embedded IPv4 tail (::ffff:1.2.3.4 style) counts as two groups
  if (last && last.includes('.')) {
    const b = last.split('.').map(Number);
    const v4 = [((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16)];
    if (t.length) t = [...t.slice(0, -1), ...v4];
    else h = [...h.slice(0, -1), ...v4];
  }
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array<string>(fill).fill('0'), ...t].map((g) => Number.parseInt(g, 16) || 0);
}

/** The client's network: `a.b.c.0/24` for IPv4, `x:y:z::/48` for IPv6 (what logs show and limits count). */
export function networkOf(ip: string): string {
  const v4 = unmapV4(ip);
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIPv6(ip)) {
    const g = ipv6Groups(ip.split('%')[0]!);
    return `${g
      .slice(0, 3)
      .map((n) => n.toString(16))
      .join(':')}::/48`;
  }
  return 'unknown';
}
