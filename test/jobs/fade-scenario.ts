// The fade job's story on any database: a thread is live while fresh, faded once seven days passed, exactly once
// however often the job runs; a renewed thread is not faded; a node is hidden only when all its threads are gone.
import { expect } from 'vitest';
import { listAudit } from '../../core/audit.js';
import type { Db } from '../../core/db/adapter.js';
import { fade } from '../../core/fade.js';
import { runFadeJob } from '../../jobs/fade.js';
import { at, countEvents, createNodes, DAY, engage, registerRoles } from './support.js';

export async function fadeScenario(db: Db): Promise<void> {
  const t0 = new Date('2025-03-01T10:00:00.000Z');
  await registerRoles(db, ['ana', 'ben'], t0);
  await createNodes(db, ['fountain'], 'ana', t0);
  const [tA, tB] = await engage(
    db,
    [
      ['ana', 'fountain'],
      ['ben', 'fountain'],
    ],
    t0,
  );
  const thread = async (id: string) =>
    (
      await db.query<{ faded: boolean; last: Date }>(
        'SELECT faded, last_activity_at AS last FROM proj_threads WHERE thread_id = $1',
        [id],
      )
    ).rows[0]!;
  const nodeHidden = async () =>
    (await db.query<{ hidden: boolean }>(`SELECT hidden FROM proj_nodes WHERE node_id = 'fountain'`)).rows[0]!
      .hidden;

  // fresh: fade 1, nothing to do
  expect(fade(t0, (await thread(tA!)).last)).toBe(1);
  const runs: { T: Date; faded: number; hidden: number }[] = [];
  const run = async (T: Date) => {
    const r = await runFadeJob({ db, now: T });
    runs.push({ T, faded: r.fadedThreads, hidden: r.hiddenNodes });
    return r;
  };
  expect(await run(at(t0, 1))).toMatchObject({ fadedThreads: 0, hiddenNodes: 0 });
  // ben renews his thread on day 5
  await engage(db, [['ben', 'fountain']], at(t0, 5));
  // half-way: fade 0.5 after 3.5 days, still not faded by the job
  expect(fade(at(t0, 3.5), (await thread(tA!)).last)).toBe(0.5);
  expect(await run(new Date(t0.getTime() + 7 * DAY - 1))).toMatchObject({ fadedThreads: 0 });
  expect((await thread(tA!)).faded).toBe(false);

  // seven days: ana's thread fades, ben's renewed one does not, the node keeps its live thread
  expect(await run(at(t0, 7))).toMatchObject({ fadedThreads: 1, hiddenNodes: 0 });
  expect((await thread(tA!)).faded).toBe(true);
  expect((await thread(tB!)).faded).toBe(false);
  expect(await nodeHidden()).toBe(false);

  // however often it runs afterwards: exactly one ThreadFaded for ana's thread
  for (const d of [7, 7, 8, 11.9])
    expect(await run(at(t0, d))).toMatchObject({ fadedThreads: 0, hiddenNodes: 0 });
  expect(await countEvents(db, 'ThreadFaded', `thread:${tA}`)).toBe(1);
  expect(await countEvents(db, 'ThreadFaded', `thread:${tB}`)).toBe(0);

  // seven days after the renewal: ben's thread fades and the node, with no live thread left, is hidden
  expect(await run(at(t0, 12))).toMatchObject({ fadedThreads: 1, hiddenNodes: 1 });
  for (const d of [12, 13, 30])
    expect(await run(at(t0, d))).toMatchObject({ fadedThreads: 0, hiddenNodes: 0 });
  expect(await countEvents(db, 'ThreadFaded')).toBe(2);
  expect(await countEvents(db, 'NodeHidden')).toBe(1);
  expect(await nodeHidden()).toBe(true);
  const faded = await db.query<{ payload: { lastActivityAt: string }; occurred_at: Date }>(
    `SELECT payload, occurred_at FROM events WHERE type = 'ThreadFaded' AND stream_id = $1`,
    [`thread:${tB}`],
  );
  expect(faded.rows[0]!.payload.lastActivityAt).toBe(at(t0, 5).toISOString());
  expect(faded.rows[0]!.occurred_at.toISOString()).toBe(at(t0, 12).toISOString());

  // every run left one audit row with its T and counts, in order
  const rows = (await listAudit(db, { action: 'job.fade' })).reverse();
  expect(rows.map((r) => [r.subject, r.details.fadedThreads, r.details.hiddenNodes])).toEqual(
    runs.map((r) => [r.T.toISOString(), r.faded, r.hidden]),
  );
}
