// The audit log: what automation and operators did (migrations, rebuilds, imports, seeds, fades, promotions).
import type { Queryable } from './db/adapter.js';

export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string;
  details?: Record<string, unknown>;
}

export interface AuditRow extends Required<AuditEntry> {
  id: number;
  at: string;
}

export async function writeAudit(q: Queryable, entry: AuditEntry): Promise<void> {
  await q.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4)', [
    entry.actor,
    entry.action,
    entry.subject ?? null,
    JSON.stringify(entry.details ?? {}),
  ]);
}

/** The newest entries first, optionally of one action. */
export async function listAudit(
  q: Queryable,
  options: { action?: string; limit?: number } = {},
): Promise<AuditRow[]> {
  const { rows } = await q.query<{
    id: number;
    at: Date;
    actor: string;
    action: string;
    subject: string | null;
    details: Record<string, unknown>;
  }>(
    `SELECT id, at, actor, action, subject, details FROM audit_log
     WHERE ($1::text IS NULL OR action = $1) ORDER BY id DESC LIMIT $2`,
    [options.action ?? null, options.limit ?? 100],
  );
  return rows.map((r) => ({ ...r, subject: r.subject ?? '', at: r.at.toISOString() }));
}
