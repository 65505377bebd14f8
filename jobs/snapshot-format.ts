// The snapshot file: `snapshots/YYYY-MM-DD.json.zst` is zstd-compressed NDJSON — one signed header line, then that
// day's events in the export format (core/transfer.ts), one per line. The header names the previous day's snapshot
// by the sha256 of its stored bytes (the chain) and the sha256 of the event lines; its ed25519 signature covers the
// canonical JSON of every other header member. Pure functions: build, parse and check, no I/O.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import { signBytes, verifyBytes, type SnapshotKey } from './snapshot-key.js';

export const SNAPSHOT_FORMAT = 'weft.snapshot/1';
export const SNAPSHOT_PREFIX = 'snapshots/';
export const SNAPSHOT_CONTENT_TYPE = 'application/zstd';

const DAY_MS = 86_400_000;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const sha256Text = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const position = z.number().int().nonnegative();

const headerSchema = z
  .object({
    format: z.literal(SNAPSHOT_FORMAT),
    date: z.string().regex(DAY_RE, 'must be YYYY-MM-DD'),
    previous: z
      .object({ date: z.string().regex(DAY_RE, 'must be YYYY-MM-DD'), sha256: sha256Text })
      .strict()
      .nullable(),
    after: position,
    last: position,
    events: position,
    eventsSha256: sha256Text,
    keyId: sha256Text,
    signature: z.string().min(1),
  })
  .strict();

export type SnapshotHeader = z.infer<typeof headerSchema>;
export type UnsignedHeader = Omit<SnapshotHeader, 'signature'>;

/** What is wrong with one snapshot, in one line that names it (its key or file). */
export class SnapshotProblem extends UserError {
  constructor(
    /** the snapshot's key or file */
    readonly snapshot: string,
    readonly reason: string,
  ) {
    super(`snapshot ${snapshot}: ${reason}`, 'bad_snapshot');
    this.name = 'SnapshotProblem';
  }
}

// ---- days -------------------------------------------------------------------------------------------------

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Midnight UTC starting `day`. */
export function dayStart(day: string): Date {
  if (
    !DAY_RE.test(day) ||
    Number.isNaN(Date.parse(`${day}T00:00:00Z`)) ||
    dayOf(new Date(`${day}T00:00:00Z`)) !== day
  )
    throw new RangeError(`not a day (YYYY-MM-DD): ${day}`);
  return new Date(`${day}T00:00:00Z`);
}

/** The day after `day`. */
export function nextDay(day: string): string {
  return dayOf(new Date(dayStart(day).getTime() + DAY_MS));
}

/** The day before `day`. */
export function previousDay(day: string): string {
  return dayOf(new Date(dayStart(day).getTime() - DAY_MS));
}

/** The snapshot of `day`: `snapshots/YYYY-MM-DD.json.zst`. */
export function snapshotKey(day: string): string {
  return `${SNAPSHOT_PREFIX}${day}.json.zst`;
}

/** The day of a snapshot key, or undefined for any other key. */
export function dayOfSnapshotKey(key: string): string | undefined {
  const m = /^snapshots\/(\d{4}-\d{2}-\d{2})\.json\.zst$/.exec(key);
  return m ? m[1] : undefined;
}

// ---- bytes ------------------------------------------------------------------------------------------------

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What the signature covers: the header without its signature, as canonical JSON. */
export function signedBytes(header: UnsignedHeader): Buffer {
  return Buffer.from(canonicalJson(header), 'utf8');
}

/** The header line as stored: members in a fixed order, the signature last. */
function headerLine(h: SnapshotHeader): string {
  return JSON.stringify({
    format: h.format,
    date: h.date,
    previous: h.previous && { date: h.previous.date, sha256: h.previous.sha256 },
    after: h.after,
    last: h.last,
    events: h.events,
    eventsSha256: h.eventsSha256,
    keyId: h.keyId,
    signature: h.signature,
  });
}

/**
 * The uncompressed snapshot: the signed header line and the event lines (each ending in a newline, as
 * `eventToLine` + "\n" writes them). The same inputs and key give the same bytes (ed25519 is deterministic).
 */
export function buildSnapshot(
  key: SnapshotKey,
  fields: { date: string; previous: SnapshotHeader['previous']; after: number; last: number },
  eventLines: string,
): { header: SnapshotHeader; bytes: Buffer } {
  const body = Buffer.from(eventLines, 'utf8');
  const unsigned: UnsignedHeader = {
    format: SNAPSHOT_FORMAT,
    date: fields.date,
    previous: fields.previous,
    after: fields.after,
    last: fields.last,
    events: fields.last - fields.after,
    eventsSha256: sha256Hex(body),
    keyId: key.keyId,
  };
  const header: SnapshotHeader = { ...unsigned, signature: signBytes(key, signedBytes(unsigned)) };
  return { header, bytes: Buffer.concat([Buffer.from(`${headerLine(header)}\n`, 'utf8'), body]) };
}

export interface ParsedSnapshot {
  header: SnapshotHeader;
  /** The event lines' bytes, exactly as stored (after the header line). */
  body: Buffer;
}

/** Splits and checks the header line's shape; throws SnapshotProblem naming `name`. */
export function parseSnapshot(bytes: Buffer, name: string): ParsedSnapshot {
  const nl = bytes.indexOf(0x0a);
  if (nl < 0) throw new SnapshotProblem(name, 'no header line (the file has no newline)');
  let json: unknown;
  try {
    json = JSON.parse(bytes.subarray(0, nl).toString('utf8'));
  } catch (err) {
    throw new SnapshotProblem(name, `line 1: the header is not JSON (${(err as Error).message})`);
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new SnapshotProblem(name, `line 1: header field "${field}": ${issue.message}`);
  }
  return { header: parsed.data, body: bytes.subarray(nl + 1) };
}

/**
 * Checks one snapshot on its own: the configured key signed it, the signature covers this header, the event lines
 * hash to the signed eventsSha256, and they are `events` lines of consecutive positions after `after`. Returns the
 * parsed snapshot; throws SnapshotProblem naming `name` and the first thing wrong.
 */
export function checkSnapshot(bytes: Buffer, name: string, key: SnapshotKey): ParsedSnapshot {
  const snap = parseSnapshot(bytes, name);
  const { header, body } = snap;
  if (header.keyId !== key.keyId)
    throw new SnapshotProblem(
      name,
      `signed by key ${header.keyId.slice(0, 16)}…, not by the configured key ${key.keyId.slice(0, 16)}… (${key.source})`,
    );
  const { signature, ...unsigned } = header;
  if (!verifyBytes(key, signedBytes(unsigned), signature))
    throw new SnapshotProblem(
      name,
      'the header signature does not verify: the header was altered or re-signed',
    );
  const bodySha = sha256Hex(body);
  if (bodySha !== header.eventsSha256)
    throw new SnapshotProblem(
      name,
      `the event lines hash to sha256 ${bodySha}, the signed header says ${header.eventsSha256}: the events were altered`,
    );
  if (header.last - header.after !== header.events)
    throw new SnapshotProblem(
      name,
      `header: ${header.events} events do not span positions ${header.after}…${header.last}`,
    );
  const text = body.toString('utf8');
  const lines = text === '' ? [] : text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  if (lines.length !== header.events)
    throw new SnapshotProblem(name, `${lines.length} event lines, the header says ${header.events}`);
  let expected = header.after + 1;
  for (const [i, line] of lines.entries()) {
    let pos: unknown;
    try {
      pos = (JSON.parse(line) as { position?: unknown }).position;
    } catch (err) {
      throw new SnapshotProblem(name, `line ${i + 2}: not JSON (${(err as Error).message})`);
    }
    if (pos !== expected)
      throw new SnapshotProblem(name, `line ${i + 2}: position ${String(pos)}, expected ${expected}`);
    expected += 1;
  }
  return snap;
}

/** The event lines of a checked snapshot. */
export function eventLinesOf(snap: ParsedSnapshot): string[] {
  const text = snap.body.toString('utf8');
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}
