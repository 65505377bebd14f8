// Test support for the jobs: a tiny weave written through the real command path at chosen times, and counts of
// events read straight from the events table.
import type { Db, Queryable } from '../../core/db/adapter.js';
import { executeCommands, type ExecContext } from '../../core/domain/execute.js';
import { threadIdFor } from '../../core/domain/ids.js';

export const DAY = 86_400_000;
export const at = (base: Date, days: number) => new Date(base.getTime() + days * DAY);

/** Records every event at its command's time, as a simulated history (like the seed). */
export const HISTORY: ExecContext = { recordedAt: 'occurred', salt: 'test-salt' };

export async function registerRoles(
  db: Db,
  ids: string[],
  when: Date,
  ctx: ExecContext = HISTORY,
): Promise<void> {
  await executeCommands(
    db,
    ids.map((roleId, i) => ({
      actor: roleId,
      at: when,
      command: {
        type: 'RegisterRole',
        roleId,
        regionId: 'monaco',
        name: `Role ${i}`,
        area: [7.42, 43.73 + i * 1e-4],
      },
    })),
    ctx,
  );
}

export async function createNodes(
  db: Db,
  ids: string[],
  author: string,
  when: Date,
  ctx: ExecContext = HISTORY,
): Promise<void> {
  await executeCommands(
    db,
    ids.map((nodeId, i) => ({
      actor: author,
      at: when,
      command: {
        type: 'CreateNode',
        nodeId,
        regionId: 'monaco',
        title: `Place ${i}`,
        point: [7.41 + i * 1e-4, 43.74],
        authorRoleId: author,
      },
    })),
    ctx,
  );
}

/** Engages (spins or renews) the threads from each role to its node; returns the thread ids. */
export async function engage(
  db: Db,
  pairs: [roleId: string, nodeId: string][],
  when: Date,
  ctx: ExecContext = HISTORY,
): Promise<string[]> {
  await executeCommands(
    db,
    pairs.map(([roleId, nodeId]) => ({
      actor: roleId,
      at: when,
      command: { type: 'EngageThread', roleId, nodeId },
    })),
    ctx,
  );
  return pairs.map(([r, n]) => threadIdFor(r, n));
}

/** How many events of `type` the store holds (optionally of one stream). */
export async function countEvents(q: Queryable, type: string, streamId?: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM events WHERE type = $1 AND ($2::text IS NULL OR stream_id = $2)',
    [type, streamId ?? null],
  );
  return rows[0]!.n;
}

/** Stream ids that hold more than one event of `type`. */
export async function duplicated(q: Queryable, type: string): Promise<string[]> {
  const { rows } = await q.query<{ stream_id: string }>(
    'SELECT stream_id FROM events WHERE type = $1 GROUP BY stream_id HAVING count(*) > 1',
    [type],
  );
  return rows.map((r) => r.stream_id);
}
