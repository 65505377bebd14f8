// The domain's commands: what participants, operators and jobs may ask for, validated with zod.
import { z } from 'zod';
import { UserError } from '../errors.js';
import { DEFAULT_INACCURACY_M, MAX_INACCURACY_M } from '../privacy/home.js';
import {
  aggregateId,
  describeIssues,
  HIDE_REASONS,
  instant,
  nodeKind,
  point,
  regionId,
  voteChoice,
} from './schemas.js';

const name = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

export const commandSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('RegisterRole'),
      roleId: aggregateId.optional(),
      regionId,
      name: name(80),
      /** any point in the role's area; only its coarse grid cell's centre is kept */
      area: point,
    })
    .strict(),
  z
    .object({
      type: z.literal('PlaceRoleHome'),
      roleId: aggregateId,
      point,
      inaccuracyM: z.number().int().min(0).max(MAX_INACCURACY_M).default(DEFAULT_INACCURACY_M),
      exactConsent: z.boolean().default(false),
    })
    .strict(),
  z.object({ type: z.literal('ClearRoleHome'), roleId: aggregateId }).strict(),
  z
    .object({
      type: z.literal('CreateNode'),
      nodeId: aggregateId.optional(),
      regionId,
      title: name(120),
      kind: nodeKind.default('place'),
      point,
      authorRoleId: aggregateId,
    })
    .strict(),
  z
    .object({
      type: z.literal('HideNode'),
      nodeId: aggregateId,
      reason: z.enum(HIDE_REASONS),
      note: z.string().max(500).optional(),
    })
    .strict(),
  z
    .object({ type: z.literal('RestoreNode'), nodeId: aggregateId, note: z.string().max(500).optional() })
    .strict(),
  z.object({ type: z.literal('EngageThread'), roleId: aggregateId, nodeId: aggregateId }).strict(),
  z.object({ type: z.literal('FadeThread'), threadId: z.string().min(1).max(64) }).strict(),
  z
    .object({
      type: z.literal('OpenProposal'),
      proposalId: aggregateId.optional(),
      nodeId: aggregateId,
      authorRoleId: aggregateId,
      title: name(160),
      body: z.string().max(4000).default(''),
      closesAt: instant,
    })
    .strict(),
  z
    .object({ type: z.literal('CastVote'), proposalId: aggregateId, roleId: aggregateId, choice: voteChoice })
    .strict(),
  z.object({ type: z.literal('CloseProposal'), proposalId: aggregateId }).strict(),
]);

export type Command = z.output<typeof commandSchema>;
export type CommandType = Command['type'];
export const COMMAND_TYPES = commandSchema.options.map((o) => o.shape.type.value) as CommandType[];

/** Validates a command; the error names the field ("command.title: must not be empty"). */
export function parseCommand(input: unknown, where = 'command'): Command {
  const r = commandSchema.safeParse(input);
  if (!r.success) {
    throw new UserError(describeIssues(r.error.issues.map((i) => ({ ...i, path: [where, ...i.path] }))));
  }
  return r.data;
}
