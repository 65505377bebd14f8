// Privacy of free-form exported JSON (the audit log's details): address-like keys dropped, IP addresses in
// strings replaced by "[ip]". Pure: node:net's isIP is passed in.

export type IsIp = (s: string) => number;

/** Whole keys (letters and digits only, lower case) that name a network address or a client. */
const ADDRESS_KEYS = new Set([
  'ipaddress',
  'ipaddr',
  'remoteaddress',
  'remoteaddr',
  'clientaddress',
  'forwardedfor',
  'xforwardedfor',
  'xrealip',
  'realip',
  'forwarded',
  'useragent',
]);
/** Words that make any key an address key: clientIp, source_ip, ipv6… */
const ADDRESS_WORDS = new Set(['ip', 'ips', 'ipv4', 'ipv6']);

/** Whether a JSON key names an address (ip, clientIp, remote_address, x-forwarded-for, userAgent…). */
export function isAddressKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((w) => ADDRESS_WORDS.has(w)) || ADDRESS_KEYS.has(words.join(''));
}

const TOKEN = /[0-9A-Za-z:.%]+/g;
const IPV4_INSIDE = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\.?\d)/g;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;

/** The string with every IPv4 and IPv6 address (optionally with a port or zone) replaced by "[ip]". */
export function redactAddresses(s: string, isIP: IsIp): string {
  return s.replace(TOKEN, (token) => {
    const bare = token.replace(/\.+$/, '');
    const tail = token.slice(bare.length);
    const withPort = IPV4_WITH_PORT.exec(bare);
    if (isIP(bare) || (withPort && isIP(withPort[1]!))) return `[ip]${tail}`;
    return token.replace(IPV4_INSIDE, (m) => (isIP(m) ? '[ip]' : m));
  });
}

/** A copy of a JSON value without address-like keys and with addresses in strings redacted. */
export function withoutAddresses(value: unknown, isIP: IsIp): unknown {
  if (typeof value === 'string') return redactAddresses(value, isIP);
  if (Array.isArray(value)) return value.map((v) => withoutAddresses(v, isIP));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (!isAddressKey(k)) out[k] = withoutAddresses(v, isIP);
    }
    return out;
  }
  return value;
}
