// What `weft token create` and `weft partner add` do: register a role (optional), mint a session token or a
// partner key, and leave an audit row (which never holds the secret).
import { writeAudit } from '../../core/audit.js';
import type { Db } from '../../core/db/adapter.js';
import { executeCommand } from '../../core/domain/execute.js';
import { UserError } from '../../core/errors.js';
import { insertPartner, insertToken, parseOrigin, roleExists } from './credentials.js';

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
