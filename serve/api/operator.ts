// What `weft token create|revoke` and `weft partner add|remove` do: register a role (optional), mint or revoke a
// session token or a partner key, and leave an audit row (which never holds the secret).
import { writeAudit } from '../../core/audit.js';
import type { Db } from '../../core/db/adapter.js';
import { executeCommand } from '../../core/domain/execute.js';
import { UserError } from '../../core/errors.js';
import {
  insertPartner,
  insertToken,
  looksLikeToken,
  parseOrigin,
  revokePartner,
  revokeRoleTokens,
  revokeToken,
  roleExists,
} from './credentials.js';

export type TokenFor = { roleId: string } | { regionId: string; name: string; area: [number, number] };

export interface MintedToken {
  token: string;
  roleId: string;
  /** true when the role was registered now */
  registered: boolean;
}

/** Mints a session token for an existing role, or registers a new role (RegisterRole) and mints one for it. */
export async function mintToken(db: Db, forWhom: TokenFor, actor = 'operator:cli'): Promise<MintedToken> {
  let roleId: string;
  let registered = false;
  if ('roleId' in forWhom) {
    roleId = forWhom.roleId;
    if (!(await roleExists(db, roleId))) throw new UserError(`--role: no role '${roleId}' in ${db.location}`);
  } else {
    const r = await executeCommand(db, {
      command: { type: 'RegisterRole', regionId: forWhom.regionId, name: forWhom.name, area: forWhom.area },
      actor,
    });
    roleId = r.ids.roleId!;
    registered = true;
  }
  const token = await db.transaction(async (tx) => {
    const t = await insertToken(tx, roleId, actor);
    await writeAudit(tx, { actor, action: 'token.create', subject: roleId, details: { registered } });
    return t;
  });
  return { token, roleId, registered };
}

/** Registers a partner site with its browser origins; returns its key (shown once). */
export async function addPartner(
  db: Db,
  name: string,
  origins: string[],
  actor = 'operator:cli',
): Promise<{ key: string; origins: string[] }> {
  const canonical = [...new Set(origins.map(parseOrigin))];
  const key = await db.transaction(async (tx) => {
    const k = await insertPartner(tx, name, canonical, actor);
    await writeAudit(tx, { actor, action: 'partner.add', subject: name, details: { origins: canonical } });
    return k;
  });
  return { key, origins: canonical };
}

/**
 * Revokes one session token (by its text) or every token of a role; the server refuses them from its next
 * request on. Returns the role and how many tokens were revoked.
 */
export async function revokeTokens(
  db: Db,
  which: { token: string } | { roleId: string },
  actor = 'operator:cli',
): Promise<{ roleId: string; revoked: number }> {
  return db.transaction(async (tx) => {
    let roleId: string;
    let revoked: number;
    if ('token' in which) {
      if (!looksLikeToken(which.token)) throw new UserError('not a session token (they look like wft_…)');
      const role = await revokeToken(tx, which.token);
      if (role === undefined)
        throw new UserError('no active session token matches (unknown or revoked already)');
      roleId = role;
      revoked = 1;
    } else {
      roleId = which.roleId;
      if (!(await roleExists(tx, roleId)))
        throw new UserError(`--role: no role '${roleId}' in ${db.location}`);
      revoked = await revokeRoleTokens(tx, roleId);
    }
    await writeAudit(tx, { actor, action: 'token.revoke', subject: roleId, details: { revoked } });
    return { roleId, revoked };
  });
}

/** Removes a partner site: its key stops verifying at once, its origins leave CORS within the server's refresh. */
export async function removePartner(db: Db, name: string, actor = 'operator:cli'): Promise<void> {
  await db.transaction(async (tx) => {
    if (!(await revokePartner(tx, name))) throw new UserError(`no active partner '${name}'`);
    await writeAudit(tx, { actor, action: 'partner.remove', subject: name, details: {} });
  });
}
