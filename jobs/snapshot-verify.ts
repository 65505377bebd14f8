// `weft snapshot verify`: one snapshot (a file, a key in the store, or a day) — its signature, its hashes and its
// link to the previous day's snapshot when the store has it — or with --all the store's whole chain.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { BlobStore } from '../core/blob/adapter.js';
import { UserError } from '../core/errors.js';
import {
  chainError,
  linkProblem,
  listSnapshots,
  verifyChain,
  openSnapshotBytes,
  readSnapshot,
  type ReadSnapshot,
} from './snapshot-chain.js';
import { snapshotKey, SnapshotProblem } from './snapshot-format.js';
import type { SnapshotKey } from './snapshot-key.js';

export interface VerifyOutput {
  say: (line: string) => void;
  note: (line: string) => void;
}

function describe(name: string, s: ReadSnapshot): string {
  const span = s.header.events ? `positions ${s.header.after + 1}…${s.header.last}` : 'no events';
  return (
    `ok ${name}: ${s.header.date}, ${s.header.events} events (${span}), sha256 ${s.sha256}, ` +
    `signed by ${s.header.keyId.slice(0, 16)}…`
  );
}

/** Checks one snapshot; throws SnapshotProblem naming it when anything is wrong. */
export async function verifySnapshotTarget(
  target: string,
  blob: BlobStore,
  key: SnapshotKey,
  out: VerifyOutput,
): Promise<ReadSnapshot> {
  let snap: ReadSnapshot;
  if (existsSync(target)) {
    snap = await openSnapshotBytes(await readFile(target), target, key);
  } else {
    const storeKey = /^\d{4}-\d{2}-\d{2}$/.test(target) ? snapshotKey(target) : target;
    if (!(await blob.head(storeKey)))
      throw new UserError(
        `snapshot ${target}: no such file, and no '${storeKey}' in ${blob.location}`,
        'not_found',
      );
    snap = await readSnapshot(blob, storeKey, key);
  }
  const prev = snap.header.previous;
  if (prev) {
    const prevKey = snapshotKey(prev.date);
    if (await blob.head(prevKey)) {
      const p = await readSnapshot(blob, prevKey, key);
      const problem = linkProblem(snap.header, {
        day: prev.date,
        key: prevKey,
        sha256: p.sha256,
        size: p.size,
        after: p.header.after,
        last: p.header.last,
        events: p.header.events,
      });
      if (problem) throw new SnapshotProblem(target, problem);
    } else {
      out.note(
        `note: the previous snapshot ${prevKey} is not in ${blob.location}; the chain link was not checked`,
      );
    }
  }
  out.say(describe(target, snap));
  return snap;
}

/** Verifies the store's chain; prints one line per good snapshot and every problem, throws the first problem. */
export async function verifyStoreChain(
  blob: BlobStore,
  key: SnapshotKey,
  out: VerifyOutput,
): Promise<number> {
  const all = await listSnapshots(blob);
  if (!all.length)
    throw new UserError(`no snapshots in ${blob.location} (nothing under snapshots/)`, 'not_found');
  const report = await verifyChain(blob, key, {
    onSnapshot: (l) => out.say(`ok ${l.key}: ${l.events} events, sha256 ${l.sha256}`),
  });
  if (report.problems.length) {
    for (const p of report.problems) out.say(`FAIL ${p.message}`);
    throw chainError(report.problems);
  }
  out.say(`the chain of ${report.verified.length} snapshots (${all[0]!.day}…${all.at(-1)!.day}) is whole`);
  return report.verified.length;
}
