// The write API's credentials: session tokens (opaque, only their sha256 stored) and partner keys (HMAC secrets),
// how they are minted and looked up, and which roles a partner may act for. Used by the server and the CLI.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../../core/db/adapter.js';
import { UserError } from '../../core/errors.js';
import { streamId } from '../../core/domain/ids.js';

export const TOKEN_PREFIX = 'wft_';
export const PARTNER_KEY_PREFIX = 'wfp_';
/** Random bytes in a token or key (base64url: 43 characters). */
const SECRET_BYTES = 32;
const SECRET_TEXT = /^[A-Za-z0-9_-]{43}$/;

export const PARTNER_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** A new opaque secret with a readable prefix: `wft_…` (session token) or `wfp_…` (partner key). */
export function newSecret(prefix: string): string {
  return prefix + randomBytes(SECRET_BYTES).toString('base64url');
}

/** What is stored for a token: sha256 of its whole text, hex. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** True when the text has a session token's shape (checked before any database lookup). */
export function looksLikeToken(text: string): boolean {
  return text.startsWith(TOKEN_PREFIX) && SECRET_TEXT.test(text.slice(TOKEN_PREFIX.length));
}

/** The actor recorded on events a partner writes. */
export function partnerActor(name: string): string {
  return `partner:${name}`;
}

/** The canonical form of a browser origin (scheme://host[:port]); throws a UserError for anything else. */
export function parseOrigin(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UserError(`--origin: not a URL: '${text}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UserError(`--origin: must be http(s), got '${text}'`);
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username)
    throw new UserError(`--origin: an origin has no path, query or user: '${text}' (try '${u.origin}')`);
  return u.origin;
}

export interface TokenRole {
  roleId: string;
  /** undefined when the role is unknown to the projections (should not happen) */
  regionId?: string;
  name?: string;
}

/** The role a session token belongs to, or undefined for an unknown or revoked token. */
export async function findToken(q: Queryable, token: string): Promise<TokenRole | undefined> {
  const { rows } = await q.query<{ role_id: string; region_id: string | null; name: string | null }>(
    `SELECT t.role_id, r.region_id, r.name FROM session_tokens t LEFT JOIN proj_roles r ON r.role_id = t.role_id
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL`,
    [tokenHash(token)],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { roleId: r.role_id, regionId: r.region_id ?? undefined, name: r.name ?? undefined };
}

/** Stores a new token for an existing role and returns it (the only time its text exists). */
export async function insertToken(q: Queryable, roleId: string, createdBy: string): Promise<string> {
  const token = newSecret(TOKEN_PREFIX);
  await q.query('INSERT INTO session_tokens (token_hash, role_id, created_by) VALUES ($1, $2, $3)', [
    tokenHash(token),
    roleId,
    createdBy,
  ]);
  return token;
}

export interface Partner {
  name: string;
  secret: string;
  origins: string[];
}

export async function findPartner(q: Queryable, name: string): Promise<Partner | undefined> {
  if (!PARTNER_NAME.test(name)) return undefined;
  const { rows } = await q.query<{ name: string; secret: string; origins: string[] }>(
    'SELECT name, secret, origins FROM partners WHERE name = $1 AND revoked_at IS NULL',
    [name],
  );
  return rows[0];
}

/** Stores a new partner with a fresh key and returns the key (the only time it is shown). */
export async function insertPartner(
  q: Queryable,
  name: string,
  origins: string[],
  createdBy: string,
): Promise<string> {
  if (!PARTNER_NAME.test(name))
    throw new UserError(
      `partner name '${name}': must be 1–40 of a-z, 0-9, '_', '-' starting with a letter or digit`,
    );
  if (!origins.length) throw new UserError('a partner needs at least one --origin');
  const key = newSecret(PARTNER_KEY_PREFIX);
  // a removed partner's name may be added again (with a new key); an active one may not
  const { rows } = await q.query(
    `INSERT INTO partners (name, secret, origins, created_by) VALUES ($1, $2, $3::text[], $4)
     ON CONFLICT (name) DO UPDATE SET secret = EXCLUDED.secret, origins = EXCLUDED.origins,
       created_at = now(), created_by = EXCLUDED.created_by, revoked_at = NULL
     WHERE partners.revoked_at IS NOT NULL
     RETURNING name`,
    [name, key, [...new Set(origins)], createdBy],
  );
  if (!rows.length) throw new UserError(`partner '${name}' exists already`, 'conflict');
  return key;
}

/** Revokes one session token, given its text; returns its role, or undefined when no active token matches. */
export async function revokeToken(q: Queryable, token: string): Promise<string | undefined> {
  const { rows } = await q.query<{ role_id: string }>(
    'UPDATE session_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING role_id',
    [tokenHash(token)],
  );
  return rows[0]?.role_id;
}

/** Revokes every active session token of a role; returns how many there were. */
export async function revokeRoleTokens(q: Queryable, roleId: string): Promise<number> {
  const { rows } = await q.query(
    'UPDATE session_tokens SET revoked_at = now() WHERE role_id = $1 AND revoked_at IS NULL RETURNING 1',
    [roleId],
  );
  return rows.length;
}

/** Revokes a partner: its key no longer verifies and its origins leave CORS. False when no active partner has the name. */
export async function revokePartner(q: Queryable, name: string): Promise<boolean> {
  const { rows } = await q.query(
    'UPDATE partners SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING 1',
    [name],
  );
  return rows.length > 0;
}

/** Every origin of every active partner (for CORS). */
export async function partnerOrigins(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ origin: string }>(
    'SELECT DISTINCT unnest(origins) AS origin FROM partners WHERE revoked_at IS NULL',
  );
  return rows.map((r) => r.origin);
}

/** True when the partner registered this role (its RoleRegistered event was written by the partner). */
export async function partnerOwnsRole(q: Queryable, partner: string, roleId: string): Promise<boolean> {
  const { rows } = await q.query(
    `SELECT 1 FROM events WHERE stream_id = $1 AND stream_version = 1 AND type = 'RoleRegistered'
       AND metadata->>'actor' = $2`,
    [streamId('role', roleId), partnerActor(partner)],
  );
  return rows.length > 0;
}

/** True when the role exists (in the projections). */
export async function roleExists(q: Queryable, roleId: string): Promise<boolean> {
  const { rows } = await q.query('SELECT 1 FROM proj_roles WHERE role_id = $1', [roleId]);
  return rows.length > 0;
}
