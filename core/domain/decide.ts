// The command handlers: decide which events a command produces from the current state, enforcing invariants.
import { UserError } from '../errors.js';
import { fade } from '../fade.js';
import { areaPoint, publicHome } from '../privacy/home.js';
import { voteKey, type Keys, type ProjectionState } from '../projections/state.js';
import type { Command } from './commands.js';
import { streamId, threadIdFor } from './ids.js';
import type { DomainEvent } from './schemas.js';

/** A command the invariants refuse (e.g. a vote after close). */
export class RejectedError extends UserError {
  constructor(message: string) {
    super(message, 'rejected');
    this.name = 'RejectedError';
  }
}

export interface DecideContext {
  /** The command's time, ISO. */
  now: string;
  actor: string;
  /** The home-coarsening salt (needed by PlaceRoleHome). */
  salt: string;
  newId: (prefix: 'r' | 'n' | 'p') => string;
}

export interface Decision {
  events: DomainEvent[];
  /** Ids the command created or addressed (returned to the caller). */
  ids: Record<string, string>;
  /** Why nothing happened, when no events were decided. */
  note?: string;
  /** A private side write: the exact home (never in events). */
  privateHome?: { roleId: string; home: { lon: number; lat: number; hash: string } | null };
}

/** The rows and streams a command's decision reads. */
export function keysForCommand(cmd: Command, keys: Keys): void {
  switch (cmd.type) {
    case 'RegisterRole':
      if (cmd.roleId) keys.roles.add(cmd.roleId);
      break;
    case 'PlaceRoleHome':
    case 'ClearRoleHome':
      keys.roles.add(cmd.roleId);
      keys.threadsOfRoles.add(cmd.roleId);
      break;
    case 'CreateNode':
      if (cmd.nodeId) keys.nodes.add(cmd.nodeId);
      keys.roles.add(cmd.authorRoleId);
      break;
    case 'HideNode':
    case 'RestoreNode':
      keys.nodes.add(cmd.nodeId);
      break;
    case 'EngageThread':
      keys.roles.add(cmd.roleId);
      keys.nodes.add(cmd.nodeId);
      keys.threads.add(threadIdFor(cmd.roleId, cmd.nodeId));
      break;
    case 'FadeThread':
      keys.threads.add(cmd.threadId);
      break;
    case 'OpenProposal':
      if (cmd.proposalId) keys.proposals.add(cmd.proposalId);
      keys.nodes.add(cmd.nodeId);
      keys.roles.add(cmd.authorRoleId);
      break;
    case 'CastVote':
      keys.proposals.add(cmd.proposalId);
      keys.roles.add(cmd.roleId);
      keys.votes.add(voteKey(cmd.proposalId, cmd.roleId));
      break;
    case 'CloseProposal':
      keys.proposals.add(cmd.proposalId);
      break;
  }
}

/** The streams of the rows in `keys` (to load their versions in one query). */
export function streamsOfKeys(keys: Keys): string[] {
  return [
    ...[...keys.roles].map((id) => streamId('role', id)),
    ...[...keys.nodes].map((id) => streamId('node', id)),
    ...[...keys.threads].map((id) => streamId('thread', id)),
    ...[...keys.proposals].map((id) => streamId('proposal', id)),
  ];
}

function nothing(ids: Record<string, string>, note: string): Decision {
  return { events: [], ids, note };
}

export function decide(cmd: Command, state: ProjectionState, ctx: DecideContext): Decision {
  const role = (id: string) => {
    const r = state.role(id);
    if (!r) throw new RejectedError(`role ${id} does not exist`);
    return r;
  };
  const visibleNode = (id: string) => {
    const n = state.node(id);
    if (!n) throw new RejectedError(`node ${id} does not exist`);
    if (n.hidden) throw new RejectedError(`node ${id} is hidden (${n.hidden_reason})`);
    return n;
  };
  switch (cmd.type) {
    case 'RegisterRole': {
      const roleId = cmd.roleId ?? ctx.newId('r');
      if (state.role(roleId)) throw new RejectedError(`role ${roleId} already exists`);
      return {
        ids: { roleId },
        events: [
          {
            type: 'RoleRegistered',
            payload: { roleId, regionId: cmd.regionId, name: cmd.name, areaPoint: areaPoint(cmd.area) },
          },
        ],
      };
    }
    case 'PlaceRoleHome': {
      role(cmd.roleId);
      const pub = publicHome({
        roleId: cmd.roleId,
        point: cmd.point,
        inaccuracyM: cmd.inaccuracyM,
        exactConsent: cmd.exactConsent,
        salt: ctx.salt,
      });
      return {
        ids: { roleId: cmd.roleId },
        events: [
          {
            type: 'RoleHomePlaced',
            payload: {
              roleId: cmd.roleId,
              publicPoint: pub.publicPoint,
              inaccuracyM: cmd.inaccuracyM,
              exactConsent: cmd.exactConsent,
            },
          },
        ],
        privateHome: {
          roleId: cmd.roleId,
          home: { lon: cmd.point[0], lat: cmd.point[1], hash: pub.homeHash },
        },
      };
    }
    case 'ClearRoleHome': {
      const r = role(cmd.roleId);
      if (!r.located) return nothing({ roleId: cmd.roleId }, `role ${cmd.roleId} has no home placed`);
      return {
        ids: { roleId: cmd.roleId },
        events: [{ type: 'RoleHomeCleared', payload: { roleId: cmd.roleId } }],
        privateHome: { roleId: cmd.roleId, home: null },
      };
    }
    case 'CreateNode': {
      role(cmd.authorRoleId);
      const nodeId = cmd.nodeId ?? ctx.newId('n');
      if (state.node(nodeId)) throw new RejectedError(`node ${nodeId} already exists`);
      return {
        ids: { nodeId },
        events: [
          {
            type: 'NodeCreated',
            payload: {
              nodeId,
              regionId: cmd.regionId,
              title: cmd.title,
              kind: cmd.kind,
              point: cmd.point,
              authorRoleId: cmd.authorRoleId,
            },
          },
        ],
      };
    }
    case 'HideNode': {
      const n = state.node(cmd.nodeId);
      if (!n) throw new RejectedError(`node ${cmd.nodeId} does not exist`);
      if (n.hidden) return nothing({ nodeId: cmd.nodeId }, `node ${cmd.nodeId} is already hidden`);
      if (cmd.reason === 'faded') {
        const f = fade(ctx.now, n.last_activity_at);
        if (f > 0) {
          throw new RejectedError(
            `node ${cmd.nodeId} had activity at ${n.last_activity_at} (fade ${f.toFixed(3)}); it fades out only after 7 days`,
          );
        }
      }
      const payload = cmd.note
        ? { nodeId: cmd.nodeId, reason: cmd.reason, note: cmd.note }
        : { nodeId: cmd.nodeId, reason: cmd.reason };
      return { ids: { nodeId: cmd.nodeId }, events: [{ type: 'NodeHidden', payload }] };
    }
    case 'RestoreNode': {
      const n = state.node(cmd.nodeId);
      if (!n) throw new RejectedError(`node ${cmd.nodeId} does not exist`);
      if (!n.hidden) return nothing({ nodeId: cmd.nodeId }, `node ${cmd.nodeId} is not hidden`);
      const payload = cmd.note ? { nodeId: cmd.nodeId, note: cmd.note } : { nodeId: cmd.nodeId };
      return { ids: { nodeId: cmd.nodeId }, events: [{ type: 'NodeRestored', payload }] };
    }
    case 'EngageThread': {
      role(cmd.roleId);
      visibleNode(cmd.nodeId);
      const threadId = threadIdFor(cmd.roleId, cmd.nodeId);
      const payload = { threadId, roleId: cmd.roleId, nodeId: cmd.nodeId };
      const type = state.thread(threadId) ? 'ThreadRenewed' : 'ThreadSpun';
      return { ids: { threadId }, events: [{ type, payload }] };
    }
    case 'FadeThread': {
      const t = state.thread(cmd.threadId);
      if (!t) throw new RejectedError(`thread ${cmd.threadId} does not exist`);
      const ids = { threadId: cmd.threadId };
      if (t.faded) return nothing(ids, `thread ${cmd.threadId} has already faded`);
      if (fade(ctx.now, t.last_activity_at) > 0)
        return nothing(ids, `thread ${cmd.threadId} has not faded yet`);
      return {
        ids,
        events: [
          {
            type: 'ThreadFaded',
            payload: {
              threadId: t.thread_id,
              roleId: t.role_id,
              nodeId: t.node_id,
              lastActivityAt: t.last_activity_at,
            },
          },
        ],
      };
    }
    case 'OpenProposal': {
      role(cmd.authorRoleId);
      visibleNode(cmd.nodeId);
      if (cmd.closesAt <= ctx.now) {
        throw new RejectedError(`closesAt ${cmd.closesAt} is not after now (${ctx.now})`);
      }
      const proposalId = cmd.proposalId ?? ctx.newId('p');
      if (state.proposal(proposalId)) throw new RejectedError(`proposal ${proposalId} already exists`);
      return {
        ids: { proposalId },
        events: [
          {
            type: 'ProposalOpened',
            payload: {
              proposalId,
              nodeId: cmd.nodeId,
              authorRoleId: cmd.authorRoleId,
              title: cmd.title,
              body: cmd.body,
              closesAt: cmd.closesAt,
            },
          },
        ],
      };
    }
    case 'CastVote': {
      const p = state.proposal(cmd.proposalId);
      if (!p) throw new RejectedError(`proposal ${cmd.proposalId} does not exist`);
      role(cmd.roleId);
      if (p.closed) throw new RejectedError(`proposal ${cmd.proposalId} is closed; no more votes`);
      if (ctx.now >= p.closes_at) {
        throw new RejectedError(`proposal ${cmd.proposalId} closed at ${p.closes_at}; no more votes`);
      }
      const prev = state.vote(cmd.proposalId, cmd.roleId);
      const ids = { proposalId: cmd.proposalId, roleId: cmd.roleId };
      if (prev?.choice === cmd.choice) return nothing(ids, `role ${cmd.roleId} already voted ${cmd.choice}`);
      return {
        ids,
        events: [
          {
            type: 'VoteCast',
            payload: {
              proposalId: cmd.proposalId,
              roleId: cmd.roleId,
              choice: cmd.choice,
              previousChoice: (prev?.choice as 'yes' | 'no' | 'abstain' | undefined) ?? null,
            },
          },
        ],
      };
    }
    case 'CloseProposal': {
      const p = state.proposal(cmd.proposalId);
      if (!p) throw new RejectedError(`proposal ${cmd.proposalId} does not exist`);
      const ids = { proposalId: cmd.proposalId };
      if (p.closed) return nothing(ids, `proposal ${cmd.proposalId} is already closed`);
      if (ctx.now < p.closes_at && ctx.actor !== p.author_role_id) {
        throw new RejectedError(
          `proposal ${cmd.proposalId} closes at ${p.closes_at}; before that only its author may close it`,
        );
      }
      return {
        ids,
        events: [
          {
            type: 'ProposalClosed',
            payload: {
              proposalId: cmd.proposalId,
              tally: { yes: p.votes_yes, no: p.votes_no, abstain: p.votes_abstain },
            },
          },
        ],
      };
    }
  }
}
