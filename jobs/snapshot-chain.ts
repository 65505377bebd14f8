// The snapshot chain in the blob store: list the daily snapshots, read and check one, and verify the whole chain —
// every signature and event hash, each snapshot naming the sha256 of the previous day's stored bytes, no day
// missing, positions continuing without a gap.
import { buffer } from 'node:stream/consumers';
import type { BlobStore } from '../core/blob/adapter.js';
import { NotFound } from '../core/blob/errors.js';
import { errorMessage } from '../core/errors.js';
import {
  checkSnapshot,
  dayOfSnapshotKey,
  previousDay,
  sha256Hex,
  snapshotKey,
  SnapshotProblem,
  SNAPSHOT_PREFIX,
  type ParsedSnapshot,
  type SnapshotHeader,
} from './snapshot-format.js';
import type { SnapshotKey } from './snapshot-key.js';
import { zstdDecompress } from './zstd.js';

export interface StoredSnapshot {
  day: string;
  key: string;
  size: number;
}

/** The snapshots in the store, oldest day first (other keys under snapshots/ are ignored). */
export async function listSnapshots(blob: BlobStore): Promise<StoredSnapshot[]> {
  const out: StoredSnapshot[] = [];
  for await (const e of blob.list(SNAPSHOT_PREFIX)) {
    const day = dayOfSnapshotKey(e.key);
    if (day) out.push({ day, key: e.key, size: e.size });
  }
  return out.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

export interface ReadSnapshot extends ParsedSnapshot {
  /** sha256 of the stored (compressed) bytes: what the next day's snapshot names. */
  sha256: string;
  size: number;
}

/** Decompresses and checks snapshot bytes (see checkSnapshot); `name` is used in every message. */
export async function openSnapshotBytes(
  compressed: Buffer,
  name: string,
  key: SnapshotKey,
): Promise<ReadSnapshot> {
  const sha256 = sha256Hex(compressed);
  let raw: Buffer;
  try {
    raw = await zstdDecompress(compressed, name);
  } catch (err) {
    throw new SnapshotProblem(
      name,
      `not a readable zstd file: ${errorMessage(err).replace(`${name}: `, '')}`,
    );
  }
  return { ...checkSnapshot(raw, name, key), sha256, size: compressed.length };
}

/** The stored bytes of a snapshot; SnapshotProblem naming the key when it is missing. */
async function fetchSnapshot(blob: BlobStore, key: string): Promise<Buffer> {
  try {
    return await buffer((await blob.get(key)).body);
  } catch (err) {
    if (err instanceof NotFound) throw new SnapshotProblem(key, `missing from ${blob.location}`);
    throw err;
  }
}

/** Checks stored bytes as the snapshot under `key`: on their own, and dated as the key says. */
async function openStored(bytes: Buffer, key: string, signingKey: SnapshotKey): Promise<ReadSnapshot> {
  const snap = await openSnapshotBytes(bytes, key, signingKey);
  const day = dayOfSnapshotKey(key);
  if (day && snap.header.date !== day)
    throw new SnapshotProblem(key, `its header is dated ${snap.header.date}, not ${day}`);
  return snap;
}

/** Reads one snapshot from the store and checks it on its own; SnapshotProblem naming the key when it fails. */
export async function readSnapshot(
  blob: BlobStore,
  key: string,
  signingKey: SnapshotKey,
): Promise<ReadSnapshot> {
  return openStored(await fetchSnapshot(blob, key), key, signingKey);
}

/** What a verified snapshot contributes to the chain. */
export interface ChainLink {
  day: string;
  key: string;
  sha256: string;
  size: number;
  after: number;
  last: number;
  events: number;
}

/**
 * Checks that `header` continues the chain after `prev` (undefined: it must be the first snapshot). Returns the
 * problem, or undefined.
 */
export function linkProblem(header: SnapshotHeader, prev: ChainLink | undefined): string | undefined {
  if (!prev) {
    if (header.previous)
      return (
        `it names the previous snapshot ${snapshotKey(header.previous.date)} (sha256 ${header.previous.sha256}), ` +
        `which is missing from the store`
      );
    if (header.after !== 0)
      return `it is the first snapshot but starts after position ${header.after}, not 0`;
    return undefined;
  }
  if (!header.previous)
    return `it starts a new chain (no previous snapshot), but ${prev.key} comes before it`;
  if (header.previous.date !== prev.day)
    return (
      `it names the previous snapshot ${snapshotKey(header.previous.date)} (sha256 ${header.previous.sha256}), ` +
      `which is missing from the store (the one before it is ${prev.key})`
    );
  if (header.previous.sha256 !== prev.sha256)
    return (
      `it names the previous snapshot ${prev.key} with sha256 ${header.previous.sha256}, but the stored ` +
      `${prev.key} has sha256 ${prev.sha256}: that snapshot was altered or replaced`
    );
  if (Number.isFinite(prev.last) && header.after !== prev.last)
    return `its events start after position ${header.after}, but ${prev.key} ends at position ${prev.last}`;
  return undefined;
}

export interface ChainReport {
  /** Snapshots that passed every check, oldest first, up to the first problem. */
  verified: ChainLink[];
  /** Problems, each naming its snapshot; empty when the chain is whole. */
  problems: SnapshotProblem[];
}

/**
 * Verifies every snapshot in the store (or those up to `until`, a day): each one's signature and hashes, and the
 * chain between them. Keeps going after a problem so that every broken snapshot is reported: a snapshot whose
 * own check fails still has its stored sha256 compared with what the next day's snapshot names.
 */
export async function verifyChain(
  blob: BlobStore,
  key: SnapshotKey,
  options: { until?: string; onSnapshot?: (link: ChainLink) => void } = {},
): Promise<ChainReport> {
  const report: ChainReport = { verified: [], problems: [] };
  /** The previous stored snapshot; positions unknown (NaN) when its own check failed. */
  let prev: ChainLink | undefined;
  let whole = true;
  const fail = (p: SnapshotProblem) => {
    report.problems.push(p);
    whole = false;
  };
  for (const s of await listSnapshots(blob)) {
    if (options.until && s.day > options.until) break;
    const bytes = await fetchSnapshot(blob, s.key);
    const link: ChainLink = {
      day: s.day,
      key: s.key,
      sha256: sha256Hex(bytes),
      size: bytes.length,
      after: Number.NaN,
      last: Number.NaN,
      events: Number.NaN,
    };
    let snap: ReadSnapshot | undefined;
    try {
      snap = await openStored(bytes, s.key, key);
    } catch (err) {
      if (!(err instanceof SnapshotProblem)) throw err;
      fail(err);
    }
    if (snap) {
      Object.assign(link, { after: snap.header.after, last: snap.header.last, events: snap.header.events });
      const problem =
        linkProblem(snap.header, prev) ??
        (snap.header.previous && snap.header.previous.date !== previousDay(s.day)
          ? `it follows ${snapshotKey(snap.header.previous.date)}, but a snapshot is written for every day`
          : undefined);
      if (problem) fail(new SnapshotProblem(s.key, problem));
      else if (whole) {
        report.verified.push(link);
        options.onSnapshot?.(link);
      }
    }
    prev = link;
  }
  return report;
}

/** One error for a broken chain: the first problem, naming the other broken snapshots after it. */
export function chainError(problems: readonly SnapshotProblem[]): SnapshotProblem {
  const [first, ...rest] = problems;
  if (!first) throw new Error('chainError needs at least one problem');
  if (!rest.length) return first;
  const others = [...new Set(rest.map((p) => p.snapshot))].filter((k) => k !== first.snapshot);
  return new SnapshotProblem(
    first.snapshot,
    others.length ? `${first.reason} (also failing: ${others.join(', ')})` : first.reason,
  );
}
