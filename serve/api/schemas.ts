// The write API's request bodies (zod, strict: an unknown field is an error naming it) and how a body becomes a
// domain command. Partner requests carry one more field, `roleId`: the role they act for.
import { z } from 'zod';
import type { Command } from '../../core/domain/commands.js';
import {
  aggregateId,
  describeIssues,
  instant,
  nodeKind,
  point,
  regionId,
  voteChoice,
} from '../../core/domain/schemas.js';
import { HttpError } from '../http.js';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

export const bodies = {
  createNode: z.object({ regionId, title: text(120), kind: nodeKind.optional(), point }),
  engageThread: z.object({}),
  openProposal: z.object({ title: text(160), body: z.string().max(4000).optional(), closesAt: instant }),
  castVote: z.object({ choice: voteChoice }),
  registerRole: z.object({ regionId, name: text(80), area: point }),
};

const strictSchemas = new WeakMap<z.ZodObject, { participant?: z.ZodObject; partner?: z.ZodObject }>();

/**
 * The strict schema of a body for a participant (no roleId) or a partner (roleId required); made once per base
 * schema and kind (zod compiles a schema on its first use: not on every request).
 */
export function bodySchema(base: z.ZodObject, partner: boolean): z.ZodType<Record<string, unknown>> {
  let made = strictSchemas.get(base);
  if (!made) strictSchemas.set(base, (made = {}));
  return partner
    ? (made.partner ??= base.extend({ roleId: aggregateId }).strict())
    : (made.participant ??= base.strict());
}

type Issue = z.core.$ZodIssue;

/** A 400 naming the field: unknown fields first (code unknown_field), else the first problem (bad_input). */
export function validationError(issues: readonly Issue[]): HttpError {
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') {
    const where = [...unknown.path.map(String), unknown.keys[0]].join('.');
    const more = unknown.keys.length > 1 ? ` (and ${unknown.keys.slice(1).join(', ')})` : '';
    return new HttpError(400, 'unknown_field', `${where}: unknown field${more}`);
  }
  const top = issues[0];
  if (top && top.path.length === 0 && top.code === 'invalid_type')
    return new HttpError(400, 'bad_input', `the body must be a JSON object (${top.message})`);
  return new HttpError(400, 'bad_input', describeIssues(issues));
}

/** Validates a body with a schema; throws the 400 naming the field. */
export function parseBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(r.error.issues);
  return r.data;
}

/** What the route addresses and who acts: enough to build the command. */
export interface Acting {
  roleId: string;
}

export function createNodeCommand(b: z.output<typeof bodies.createNode>, who: Acting): Command {
  return {
    type: 'CreateNode',
    regionId: b.regionId,
    title: b.title,
    kind: b.kind ?? 'place',
    point: b.point,
    authorRoleId: who.roleId,
  };
}

export function engageThreadCommand(nodeId: string, who: Acting): Command {
  return { type: 'EngageThread', roleId: who.roleId, nodeId };
}

export function openProposalCommand(
  nodeId: string,
  b: z.output<typeof bodies.openProposal>,
  who: Acting,
): Command {
  return {
    type: 'OpenProposal',
    nodeId,
    authorRoleId: who.roleId,
    title: b.title,
    body: b.body ?? '',
    closesAt: b.closesAt,
  };
}

export function castVoteCommand(
  proposalId: string,
  b: z.output<typeof bodies.castVote>,
  who: Acting,
): Command {
  return { type: 'CastVote', proposalId, roleId: who.roleId, choice: b.choice };
}

export function registerRoleCommand(b: z.output<typeof bodies.registerRole>): Command {
  return { type: 'RegisterRole', regionId: b.regionId, name: b.name, area: b.area };
}
