// `weft audit`: the audit log since a time (or a duration ago), oldest first, as a table or one JSON object a line.
import type { Queryable } from '../core/db/adapter.js';
import type { AuditRow } from '../core/audit.js';
import { parseInterval } from './scheduler.js';

/** `--since`: an ISO 8601 time or a duration ago ("24h", "7d"); undefined when neither. */
export function parseSince(text: string, now: Date = new Date()): Date | undefined {
  const ago = parseInterval(text);
  if (ago !== undefined) return new Date(now.getTime() - ago);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The newest `limit` entries at or after `since` (optionally of actions starting with `action`), oldest first. */
export async function auditSince(
  q: Queryable,
  options: { since?: Date; action?: string; limit?: number } = {},
): Promise<AuditRow[]> {
  const { rows } = await q.query<{
    id: number;
    at: Date;
    actor: string;
    action: string;
    subject: string | null;
    details: Record<string, unknown>;
  }>(
    `SELECT * FROM (
       SELECT id, at, actor, action, subject, details FROM audit_log
       WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::text IS NULL OR action = $2 OR action LIKE $2 || '.%')
       ORDER BY id DESC LIMIT $3) newest
     ORDER BY id`,
    [options.since?.toISOString() ?? null, options.action ?? null, options.limit ?? 100],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id), subject: r.subject ?? '', at: r.at.toISOString() }));
}

const DETAILS_WIDTH = 100;

/** Rows as an aligned table; details as compact JSON, cut at a readable width. */
export function auditTable(rows: readonly AuditRow[]): string {
  if (!rows.length) return 'no audit entries\n';
  const table = [['AT', 'ACTOR', 'ACTION', 'SUBJECT', 'DETAILS']];
  for (const r of rows) {
    const json = JSON.stringify(r.details);
    table.push([
      r.at,
      r.actor,
      r.action,
      r.subject,
      json.length > DETAILS_WIDTH ? `${json.slice(0, DETAILS_WIDTH - 1)}…` : json,
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return (
    table
      .map((row) =>
        row
          .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
