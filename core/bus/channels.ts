// Channel names every broker accepts as they are (dot-separated tokens, i.e. NATS subjects), and how a prefix
// subscription is spelled for each broker.
import { BusError } from './adapter.js';

const MAX_CHANNEL_LENGTH = 255;
// A token: no whitespace or control characters, no NATS wildcards, no dot.
const TOKEN = /^[^\s\x00-\x1f\x7f.*>]+$/;

function badName(what: string, name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return `${what} must be a non-empty string`;
  if (name.length > MAX_CHANNEL_LENGTH) return `${what} is longer than ${MAX_CHANNEL_LENGTH} characters`;
  const token = name.split('.').find((t) => !TOKEN.test(t));
  if (token === undefined) return undefined;
  if (token === '') return `${what} '${name}' has an empty token (two dots, or a dot at an end)`;
  return `${what} '${name}' has a bad token '${token}' (no whitespace, '*' or '>')`;
}

/** Throws BusError `bad_channel` unless `channel` is a portable channel name. */
export function checkChannel(channel: string): void {
  const problem = badName('bus channel', channel);
  if (problem) throw new BusError(problem, 'bad_channel');
}

/** Throws BusError `bad_channel` unless `prefix` is a channel name followed by a dot. */
export function checkPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || !prefix.endsWith('.')) {
    throw new BusError(`bus prefix '${String(prefix)}' must end with a dot (e.g. 'deltas.')`, 'bad_channel');
  }
  const problem = badName('bus prefix', prefix.slice(0, -1));
  if (problem) throw new BusError(problem, 'bad_channel');
}

/** The Redis PSUBSCRIBE glob for a prefix, glob characters escaped. */
export function redisPattern(prefix: string): string {
  return prefix.replace(/[\\*?[\]]/g, (c) => `\\${c}`) + '*';
}

/** The NATS subject for a prefix: `deltas.` → `deltas.>`. */
export function natsPrefixSubject(prefix: string): string {
  return `${prefix}>`;
}

/** `scheme://host:port` of a URL without credentials, path or query, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unparsable url)';
  }
}
