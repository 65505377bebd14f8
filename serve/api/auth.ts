// Who is asking: a participant with a session token (Authorization: Bearer wft_…), or a partner site with a
// signed request (X-Weft-Partner, X-Weft-Timestamp, X-Weft-Signature). Every failure is a 401 with a stable code.
// A verified token is kept in process for TOKEN_CACHE_MS (a burst of writes looks it up once), so a revoked
// token is refused within that time on every server.
import type { IncomingMessage } from 'node:http';
import type { Queryable } from '../../core/db/adapter.js';
import { HttpError } from '../http.js';
import {
  findPartner,
  findToken,
  looksLikeToken,
  partnerActor,
  tokenHash,
  type Partner,
  type TokenRole,
} from './credentials.js';
import type { ReplayCache } from './replay.js';
import {
  PARTNER_HEADER,
  SIGNATURE_HEADER,
  SIGNATURE_WINDOW_S,
  TIMESTAMP_HEADER,
  parseTimestamp,
  signRequest,
  signatureMatches,
  withinWindow,
} from './signature.js';

export type Principal =
  | { kind: 'role'; actor: string; roleId: string; regionId?: string; name?: string }
  | { kind: 'partner'; actor: string; partner: Partner };

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const unauthorized = (code: string, message: string) =>
  new HttpError(401, code, message, { 'WWW-Authenticate': 'Bearer realm="weft"' });

/** A request that names a partner is authenticated by its signature (and only so). */
export function isPartnerRequest(req: IncomingMessage): boolean {
  return header(req, PARTNER_HEADER) !== undefined;
}

/** How long a server keeps a verified session token: a revoked one is refused at most this long after. */
export const TOKEN_CACHE_MS = 2000;

/**
 * Verified session tokens (by their sha256) and their roles, each kept `ttlMs` from its lookup; at most `max`
 * (the oldest go first). Unknown and revoked tokens are never kept: they are looked up every time.
 */
export class TokenCache {
  private readonly entries = new Map<string, { role: TokenRole; until: number }>();

  constructor(
    private readonly ttlMs = TOKEN_CACHE_MS,
    private readonly max = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(hash: string): TokenRole | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (this.now() < e.until) return e.role;
    this.entries.delete(hash);
    return undefined;
  }

  set(hash: string, role: TokenRole): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(hash);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(hash, { role, until: this.now() + this.ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The participant behind a session token; 401 unauthorized (none sent) or bad_token (unknown, revoked). With a
 * cache, a token verified less than its ttl ago is not looked up again.
 */
export async function authenticateBearer(
  db: Queryable,
  req: IncomingMessage,
  cache?: TokenCache,
): Promise<Principal> {
  const auth = header(req, 'authorization');
  if (!auth) throw unauthorized('unauthorized', 'send Authorization: Bearer <session token>');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  if (!m) throw unauthorized('unauthorized', 'the Authorization header must be "Bearer <session token>"');
  const token = m[1]!;
  if (!looksLikeToken(token)) throw unauthorized('bad_token', 'this is not a weft session token');
  const hash = cache ? tokenHash(token) : '';
  let found = cache?.get(hash);
  if (!found) {
    found = await findToken(db, token);
    if (!found) throw unauthorized('bad_token', 'unknown or revoked session token');
    cache?.set(hash, found);
  }
  return { kind: 'role', actor: found.roleId, ...found };
}

export interface PartnerCheck {
  db: Queryable;
  replay: ReplayCache;
  nowMs: number;
}

/**
 * A partner's signed request: the headers are present and well-formed, the timestamp within ±300 s, the
 * signature right over (timestamp, method, path?query, sha256 of the body), and not seen before.
 */
export async function authenticatePartner(
  req: IncomingMessage,
  target: string,
  body: Buffer,
  check: PartnerCheck,
): Promise<Principal> {
  const name = header(req, PARTNER_HEADER) ?? '';
  const ts = header(req, TIMESTAMP_HEADER);
  const sig = header(req, SIGNATURE_HEADER);
  if (ts === undefined || sig === undefined)
    throw unauthorized('bad_signature', 'a partner request needs X-Weft-Timestamp and X-Weft-Signature');
  const seconds = parseTimestamp(ts);
  if (seconds === undefined)
    throw unauthorized('bad_signature', 'X-Weft-Timestamp must be unix time in whole seconds');
  if (!withinWindow(seconds, check.nowMs))
    throw unauthorized(
      'stale_timestamp',
      `X-Weft-Timestamp is more than ${SIGNATURE_WINDOW_S} s from the server's clock; sign again with the current time`,
    );
  const partner = await findPartner(check.db, name);
  if (!partner) throw unauthorized('unknown_partner', `no active partner '${name}'`);
  const expected = signRequest(partner.secret, { timestamp: ts, method: req.method ?? 'GET', target, body });
  if (!signatureMatches(expected, sig))
    throw unauthorized('bad_signature', 'the signature does not match this request (see docs/API.md)');
  if (!(await check.replay.first(`${partner.name}:${expected}`)))
    throw unauthorized('replayed', 'this signature was used already; sign each request anew');
  return { kind: 'partner', actor: partnerActor(partner.name), partner };
}
