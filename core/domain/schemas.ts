// The domain's events: zod schemas for every payload, the metadata, and the stored (exported) event shape.
import { z } from 'zod';
import { UserError } from '../errors.js';
import { MAX_INACCURACY_M } from '../privacy/home.js';
import { ID_PATTERN, streamId, threadIdFor, type StreamType } from './ids.js';

export const lon = z.number().min(-180).max(180);
export const lat = z.number().min(-85.05112878).max(85.05112878);
export const point = z.tuple([lon, lat]);
export const aggregateId = z
  .string()
  .regex(ID_PATTERN, 'must be 1–64 letters, digits, "_", "-" or "." starting with a letter or digit');
export const regionId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lowercase region id');
/** An ISO 8601 instant with offset, normalised to UTC with milliseconds. */
export const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

export const NODE_KINDS = ['place', 'topic', 'meeting', 'project', 'concern'] as const;
export const VOTE_CHOICES = ['yes', 'no', 'abstain'] as const;
export const HIDE_REASONS = ['faded', 'moderation'] as const;

export const nodeKind = z.enum(NODE_KINDS);
export const voteChoice = z.enum(VOTE_CHOICES);
const title = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

const threadRef = z
  .object({ threadId: z.string(), roleId: aggregateId, nodeId: aggregateId })
  .strict()
  .refine((p) => p.threadId === threadIdFor(p.roleId, p.nodeId), {
    path: ['threadId'],
    message: 'must be the thread id of roleId and nodeId',
  });

export const payloadSchemas = {
  RoleRegistered: z.object({ roleId: aggregateId, regionId, name: title(80), areaPoint: point }).strict(),
  RoleHomePlaced: z
    .object({
      roleId: aggregateId,
      publicPoint: point,
      inaccuracyM: z.number().int().min(0).max(MAX_INACCURACY_M),
      exactConsent: z.boolean(),
    })
    .strict()
    .refine((p) => p.inaccuracyM > 0 || p.exactConsent, {
      path: ['exactConsent'],
      message: 'must be true when inaccuracyM is 0',
    }),
  RoleHomeCleared: z.object({ roleId: aggregateId }).strict(),
  NodeCreated: z
    .object({
      nodeId: aggregateId,
      regionId,
      title: title(120),
      kind: nodeKind,
      point,
      authorRoleId: aggregateId,
    })
    .strict(),
  NodeHidden: z
    .object({ nodeId: aggregateId, reason: z.enum(HIDE_REASONS), note: z.string().max(500).optional() })
    .strict(),
  NodeRestored: z.object({ nodeId: aggregateId, note: z.string().max(500).optional() }).strict(),
  ThreadSpun: threadRef,
  ThreadRenewed: threadRef,
  ThreadFaded: z
    .object({ threadId: z.string(), roleId: aggregateId, nodeId: aggregateId, lastActivityAt: instant })
    .strict()
    .refine((p) => p.threadId === threadIdFor(p.roleId, p.nodeId), {
      path: ['threadId'],
      message: 'must be the thread id of roleId and nodeId',
    }),
  ProposalOpened: z
    .object({
      proposalId: aggregateId,
      nodeId: aggregateId,
      authorRoleId: aggregateId,
      title: title(160),
      body: z.string().max(4000),
      closesAt: instant,
    })
    .strict(),
  VoteCast: z
    .object({
      proposalId: aggregateId,
      roleId: aggregateId,
      choice: voteChoice,
      previousChoice: voteChoice.nullable(),
    })
    .strict(),
  ProposalClosed: z
    .object({
      proposalId: aggregateId,
      tally: z
        .object({
          yes: z.number().int().min(0),
          no: z.number().int().min(0),
          abstain: z.number().int().min(0),
        })
        .strict(),
    })
    .strict(),
} as const;

export type EventType = keyof typeof payloadSchemas;
export type PayloadOf<T extends EventType> = z.output<(typeof payloadSchemas)[T]>;
export const EVENT_TYPES = Object.keys(payloadSchemas) as EventType[];

/** Each event type's stream type and the payload field holding the aggregate id. */
export const EVENT_STREAMS: Record<EventType, { streamType: StreamType; idField: string }> = {
  RoleRegistered: { streamType: 'role', idField: 'roleId' },
  RoleHomePlaced: { streamType: 'role', idField: 'roleId' },
  RoleHomeCleared: { streamType: 'role', idField: 'roleId' },
  NodeCreated: { streamType: 'node', idField: 'nodeId' },
  NodeHidden: { streamType: 'node', idField: 'nodeId' },
  NodeRestored: { streamType: 'node', idField: 'nodeId' },
  ThreadSpun: { streamType: 'thread', idField: 'threadId' },
  ThreadRenewed: { streamType: 'thread', idField: 'threadId' },
  ThreadFaded: { streamType: 'thread', idField: 'threadId' },
  ProposalOpened: { streamType: 'proposal', idField: 'proposalId' },
  VoteCast: { streamType: 'proposal', idField: 'proposalId' },
  ProposalClosed: { streamType: 'proposal', idField: 'proposalId' },
};

/** A domain event before it is stored: type and payload. */
export type DomainEvent = { [T in EventType]: { type: T; payload: PayloadOf<T> } }[EventType];

/** The stream an event belongs to, from its type and payload. */
export function streamOf(event: DomainEvent): { streamId: string; streamType: StreamType } {
  const { streamType, idField } = EVENT_STREAMS[event.type];
  const id = (event.payload as Record<string, unknown>)[idField] as string;
  return { streamId: streamId(streamType, id), streamType };
}

export const metadataSchema = z
  .object({
    actor: z.string().min(1).max(100),
    idempotencyKey: z.string().min(1).max(200).optional(),
    requestId: z.string().min(1).max(200).optional(),
  })
  .strict();
export type EventMetadata = z.output<typeof metadataSchema>;

/** A stored event, as exported (one NDJSON line each) and imported. */
export type StoredEvent = DomainEvent & {
  position: number;
  eventId: string;
  streamId: string;
  streamType: StreamType;
  version: number;
  metadata: EventMetadata;
  occurredAt: string;
  recordedAt: string;
};

const envelopeSchema = z
  .object({
    position: z.number().int().min(1),
    eventId: z.uuid(),
    streamId: z.string().min(1).max(200),
    streamType: z.enum(['role', 'node', 'thread', 'proposal']),
    version: z.number().int().min(1),
    type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
    payload: z.record(z.string(), z.unknown()),
    metadata: metadataSchema,
    occurredAt: instant,
    recordedAt: instant,
  })
  .strict();

export type Issue = { path: PropertyKey[]; message: string };

/** One line naming the field: "payload.title: must not be empty" (and how many more problems there are). */
export function describeIssues(issues: readonly Issue[]): string {
  const first = issues[0];
  if (!first) return 'invalid';
  const where = first.path.map(String).join('.') || '(top level)';
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return `${where}: ${first.message}${more}`;
}

/** Validates and normalises a stored event (e.g. an imported line); throws a message naming the field. */
export function parseStoredEvent(input: unknown): StoredEvent {
  const env = envelopeSchema.safeParse(input);
  if (!env.success) throw new EventValidationError(describeIssues(env.error.issues));
  const e = env.data;
  const payload = payloadSchemas[e.type].safeParse(e.payload);
  if (!payload.success) {
    throw new EventValidationError(
      describeIssues(payload.error.issues.map((i) => ({ ...i, path: ['payload', ...i.path] }))),
    );
  }
  const event = { type: e.type, payload: payload.data } as DomainEvent;
  const stream = streamOf(event);
  if (stream.streamType !== e.streamType) {
    throw new EventValidationError(`streamType: must be "${stream.streamType}" for a ${e.type} event`);
  }
  if (stream.streamId !== e.streamId) {
    throw new EventValidationError(`streamId: must be "${stream.streamId}" for this payload`);
  }
  return { ...e, ...event, streamType: stream.streamType } as StoredEvent;
}

/** Validates a domain event's payload (before append). */
export function parseDomainEvent(input: { type: string; payload: unknown }): DomainEvent {
  if (!(input.type in payloadSchemas))
    throw new EventValidationError(`type: unknown event type "${input.type}"`);
  const type = input.type as EventType;
  const payload = payloadSchemas[type].safeParse(input.payload);
  if (!payload.success) {
    throw new EventValidationError(
      describeIssues(payload.error.issues.map((i) => ({ ...i, path: ['payload', ...i.path] }))),
    );
  }
  return { type, payload: payload.data } as DomainEvent;
}

export class EventValidationError extends UserError {
  constructor(message: string) {
    super(message, 'bad_event');
    this.name = 'EventValidationError';
  }
}
