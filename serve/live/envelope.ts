// What the outbox publisher sends on the bus: per region channel `deltas.region:<id>`, a JSON envelope with one
// or many encoded deltas (each with its position, extent and commit time), so every server fans the same text
// out without translating again. `presence.region:<id>` carries presence changes between servers.
import type { BusMessage } from '../../core/bus/adapter.js';
import type { BBox } from './deltas.js';
import type { EncodedDelta } from './translate.js';

export const DELTAS_PREFIX = 'deltas.';
export const PRESENCE_PREFIX = 'presence.';
const REGION_TOPIC = 'region:';

export const deltasChannel = (region: string) => `${DELTAS_PREFIX}${REGION_TOPIC}${region}`;
export const presenceChannel = (region: string) => `${PRESENCE_PREFIX}${REGION_TOPIC}${region}`;

/** The region of a `deltas.region:<id>` or `presence.region:<id>` channel. */
export function regionOfChannel(channel: string): string | undefined {
  const dot = channel.indexOf('.');
  const topic = channel.slice(dot + 1);
  return topic.startsWith(REGION_TOPIC) ? topic.slice(REGION_TOPIC.length) || undefined : undefined;
}

interface WireDelta {
  /** position */
  p: number;
  /** extent */
  b: BBox | null;
  /** commit time, ms since the epoch */
  c: number;
  /** the message text; null when it was too large for the bus (receivers read it from the store) */
  t: string | null;
}

/** A region's deltas split into envelopes of at most ~maxBytes (a larger delta travels alone). */
export function encodeEnvelopes(
  deltas: readonly EncodedDelta[],
  committedAt: (position: number) => number,
  maxBytes: number,
  /** positions to send without their text (too large for the bus) */
  withoutText: ReadonlySet<number> = new Set(),
): string[] {
  const out: string[] = [];
  let parts: string[] = [];
  let size = 0;
  const flush = () => {
    if (parts.length) out.push(`{"v":1,"deltas":[${parts.join(',')}]}`);
    parts = [];
    size = 0;
  };
  for (const d of deltas) {
    const t = withoutText.has(d.position) ? null : d.text;
    const wire: WireDelta = { p: d.position, b: d.bbox, c: committedAt(d.position), t };
    const part = JSON.stringify(wire);
    if (size + part.length > maxBytes) flush();
    parts.push(part);
    size += part.length + 1;
  }
  flush();
  return out;
}

/** An envelope telling receivers to read the region's subscribers up to `position` from the store. */
export function storeMarker(position: number, committedAt: number): string {
  const wire: WireDelta = { p: position, b: null, c: committedAt, t: null };
  return `{"v":1,"deltas":[${JSON.stringify(wire)}]}`;
}

export interface ReceivedDelta extends EncodedDelta {
  committedAt: number;
  /** The text did not fit on the bus: subscribers must read this position from the store. */
  tooLarge: boolean;
}

/** The deltas of an envelope received on `deltas.region:<id>`; throws on anything else. */
export function decodeEnvelope(region: string, message: BusMessage): ReceivedDelta[] {
  const text = typeof message === 'string' ? message : message.toString('utf8');
  const env = JSON.parse(text) as { v?: unknown; deltas?: unknown };
  if (env.v !== 1 || !Array.isArray(env.deltas)) throw new Error('not a v1 delta envelope');
  return (env.deltas as WireDelta[]).map((w) => {
    if (typeof w.p !== 'number' || (typeof w.t !== 'string' && w.t !== null))
      throw new Error('bad delta in envelope');
    return {
      region,
      position: w.p,
      bbox: w.b ?? null,
      text: w.t ?? '',
      committedAt: w.c,
      tooLarge: w.t === null,
    };
  });
}
