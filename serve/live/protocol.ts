// The live protocol's inputs, checked: subscription parameters (query string or `subscribe` frame) and client
// frames. Pure; errors are ProtocolErrors with the code of the error frame (or the HTTP 400) they become.
import { z } from 'zod';
import { ID_PATTERN } from '../../core/domain/ids.js';
import { describeIssues } from '../../core/domain/schemas.js';
import { UserError } from '../../core/errors.js';
import type { BBox } from './deltas.js';

export class ProtocolError extends UserError {
  constructor(code: 'bad_frame' | 'bad_request' | 'unknown_type', message: string) {
    super(message, code);
    this.name = 'ProtocolError';
  }
}

export interface Subscription {
  region: string;
  bbox?: BBox;
  /** resume after this position */
  since?: number;
}

const REGION = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const region = z.string().regex(REGION, 'must be a region id (lowercase letters, digits, "_" or "-")');
const position = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const bbox = z
  .tuple([
    z.number().min(-180).max(180),
    z.number().min(-90).max(90),
    z.number().min(-180).max(180),
    z.number().min(-90).max(90),
  ])
  .refine(
    (b) => b[0] <= b[2] && b[1] <= b[3],
    'must be [west, south, east, north] with west ≤ east, south ≤ north',
  );
const nodeId = z.string().regex(ID_PATTERN, 'must be a node id');

const frames = {
  subscribe: z
    .object({ type: z.literal('subscribe'), region, bbox: bbox.optional(), since: position.optional() })
    .strict(),
  look: z.object({ type: z.literal('look'), nodeId }).strict(),
  unlook: z.object({ type: z.literal('unlook'), nodeId }).strict(),
  ping: z.object({ type: z.literal('ping') }).strict(),
};

export type ClientFrame =
  | z.output<typeof frames.subscribe>
  | z.output<typeof frames.look>
  | z.output<typeof frames.unlook>
  | z.output<typeof frames.ping>;

/** A client's text frame → its message; throws ProtocolError (bad_frame, unknown_type, bad_request). */
export function parseClientFrame(text: string): ClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad_frame', 'a frame must be one JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ProtocolError('bad_frame', 'a frame must be one JSON object');
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ProtocolError('bad_frame', 'a frame needs a string "type"');
  if (!Object.hasOwn(frames, type))
    throw new ProtocolError(
      'unknown_type',
      `unknown frame type "${type.slice(0, 40)}" (expected ${Object.keys(frames).join(', ')})`,
    );
  const r = frames[type as keyof typeof frames].safeParse(value);
  if (!r.success) throw new ProtocolError('bad_request', describeIssues(r.error.issues));
  return r.data;
}

/** `w,s,e,n` → a bbox. */
export function parseBBoxParam(text: string): BBox {
  const parts = text.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
  const r = bbox.safeParse(parts);
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n)) || !r.success)
    throw new ProtocolError('bad_request', 'bbox must be w,s,e,n in degrees (west ≤ east, south ≤ north)');
  return r.data;
}

export function parsePositionParam(name: string, text: string): number {
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw new ProtocolError('bad_request', `${name} must be an event position (a whole number ≥ 0)`);
  return Number(text);
}

/** A subscription from query parameters; undefined when there is no region (bbox and since need one). */
export function parseSubscriptionQuery(query: URLSearchParams): Subscription | undefined {
  const r = query.get('region');
  const b = query.get('bbox');
  const s = query.get('since');
  if (r === null) {
    if (b !== null || s !== null) throw new ProtocolError('bad_request', 'bbox and since need a region');
    return undefined;
  }
  if (!REGION.test(r)) throw new ProtocolError('bad_request', 'region must be a region id');
  const sub: Subscription = { region: r };
  if (b !== null) sub.bbox = parseBBoxParam(b);
  if (s !== null && s !== '') sub.since = parsePositionParam('since', s);
  return sub;
}
