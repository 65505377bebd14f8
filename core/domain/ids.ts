// Identifiers: aggregate ids, stream ids ("<type>:<id>") and the thread id derived from role and node.
import { createHash, randomUUID } from 'node:crypto';

export type StreamType = 'role' | 'node' | 'thread' | 'proposal';

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function streamId(type: StreamType, id: string): string {
  return `${type}:${id}`;
}

/** One thread per role and node: its id is derived from both. */
export function threadIdFor(roleId: string, nodeId: string): string {
  return `t-${createHash('sha256').update(`${roleId}\u0000${nodeId}`).digest('hex').slice(0, 24)}`;
}

/** A new random id with a readable prefix (r-, n-, p-). */
export function newId(prefix: string): string {
  return `${prefix}-${randomUUID().replaceAll('-', '').slice(0, 20)}`;
}
