// Runs commands: validate, then in one write transaction check idempotency keys, decide, stage and commit.
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/adapter.js';
import { UserError } from '../errors.js';
import {
  ConflictError,
  requestHash,
  withWriteSession,
  type IdempotencyRecord,
  type Preload,
  type WriteSession,
} from '../eventstore.js';
import { homeSalt } from '../privacy/salt.js';
import { emptyKeys } from '../projections/state.js';
import { parseCommand, type Command } from './commands.js';
import { decide, keysForCommand, streamsOfKeys, type Decision } from './decide.js';
import { newId } from './ids.js';
import { metadataSchema, describeIssues, type EventMetadata, type StoredEvent } from './schemas.js';

export interface CommandEnvelope {
  /** A command object (validated here). */
  command: unknown;
  /** Who asks: a role id, or "system:<job>", "operator:<name>". */
  actor: string;
  idempotencyKey?: string;
  requestId?: string;
  /** When the command happens; only trusted callers (seed, jobs, tests) set it. Default: the context clock. */
  at?: Date | string;
}

export interface ExecContext {
  clock?: () => Date;
  newId?: (prefix: 'r' | 'n' | 'p') => string;
  newEventId?: () => string;
  /** The home-coarsening salt; default: $WEFT_HOME_SALT or the database's own. */
  salt?: string;
  /** 'occurred' records each event at its occurred time (a simulated history, as the seed writes). */
  recordedAt?: 'now' | 'occurred';
}

export interface CommandResult {
  /** True when the idempotency key was seen before: this is the first result, nothing was appended now. */
  replayed: boolean;
  events: { position: number; streamId: string; version: number; type: string }[];
  ids: Record<string, string>;
  /** Why nothing happened, when no events were appended. */
  note?: string;
}

/** A command validated and stamped, ready to run in a write session. */
export interface PreparedCommand {
  command: Command;
  metadata: EventMetadata;
  at: string;
  hash: string | undefined;
}

/** Validates an envelope (UserError naming `commands[index]`, or `command` when not `many`) and fixes its time. */
export function prepareCommand(
  env: CommandEnvelope,
  index: number,
  clock: () => Date,
  many: boolean,
): PreparedCommand {
  const where = many ? `commands[${index}]` : 'command';
  const command = parseCommand(env.command, where);
  const meta = metadataSchema.safeParse({
    actor: env.actor,
    idempotencyKey: env.idempotencyKey,
    requestId: env.requestId,
  });
  if (!meta.success) {
    throw new UserError(describeIssues(meta.error.issues.map((i) => ({ ...i, path: [where, ...i.path] }))));
  }
  const when = env.at === undefined ? clock() : new Date(env.at);
  if (Number.isNaN(when.getTime())) throw new UserError(`${where}.at: not a valid time: ${String(env.at)}`);
  return {
    command,
    metadata: meta.data,
    at: when.toISOString(),
    hash: env.idempotencyKey ? requestHash(env.actor, command) : undefined,
  };
}

/**
 * Executes commands in order in one transaction (all or nothing): a rejected command rolls the batch back.
 * A command whose idempotency key was seen before returns its first result and appends nothing.
 */
export async function executeCommands(
  db: Db,
  envelopes: CommandEnvelope[],
  ctx: ExecContext = {},
): Promise<CommandResult[]> {
  const clock = ctx.clock ?? (() => new Date());
  const prepared = envelopes.map((e, i) => prepareCommand(e, i, clock, envelopes.length > 1));
  return withWriteSession(
    db,
    (session) => runPrepared(session, prepared, ctx),
    SessionCommands.preloadOf(prepared),
  );
}

/** One command; see executeCommands. */
export async function executeCommand(
  db: Db,
  envelope: CommandEnvelope,
  ctx: ExecContext = {},
): Promise<CommandResult> {
  return (await executeCommands(db, [envelope], ctx))[0]!;
}

async function runPrepared(
  session: WriteSession,
  prepared: PreparedCommand[],
  ctx: ExecContext,
): Promise<CommandResult[]> {
  const run = await SessionCommands.open(session, prepared, ctx);
  const results: CommandResult[] = [];
  for (const p of prepared) results.push(await run.run(p));
  return results;
}

interface Minted {
  type: 'role' | 'node' | 'proposal';
  id: string;
}

const MINTED_STREAM = { r: 'role', n: 'node', p: 'proposal' } as const;

/**
 * The commands of one write session, run one at a time in order after one preload of what they all read.
 * run() does the steps in order; a caller that must tell a refusal from a failure (the CommandBatcher) calls
 * them one by one: replayOf() and decide() are pure and stage nothing, load() and apply() talk to the database.
 */
export class SessionCommands {
  /** The ids each decision minted (a fresh random id each: a new stream). */
  private readonly minted = new WeakMap<Decision, Minted[]>();

  private constructor(
    private readonly session: WriteSession,
    private readonly seen: Map<string, IdempotencyRecord>,
    private readonly salt: string,
    private readonly ctx: ExecContext,
  ) {}

  /** The rows, stream versions and idempotency records the commands read (for WriteSession.open). */
  static preloadOf(prepared: PreparedCommand[]): Preload {
    const keys = emptyKeys();
    for (const p of prepared) keysForCommand(p.command, keys);
    return {
      keys,
      streamIds: streamsOfKeys(keys),
      idempotencyKeys: prepared.flatMap((p) =>
        p.metadata.idempotencyKey ? [p.metadata.idempotencyKey] : [],
      ),
    };
  }

  /**
   * The commands of a session opened with their preloadOf() (else it is loaded here: one statement), and the salt
   * if needed.
   */
  static async open(
    session: WriteSession,
    prepared: PreparedCommand[],
    ctx: ExecContext,
  ): Promise<SessionCommands> {
    const seen = session.preloaded ?? (await session.preload(SessionCommands.preloadOf(prepared)));
    const needsSalt = prepared.some((p) => p.command.type === 'PlaceRoleHome');
    const salt = needsSalt ? (ctx.salt ?? (await homeSalt(session.tx))) : '';
    return new SessionCommands(session, seen, salt, ctx);
  }

  /** All steps for one command. */
  async run(p: PreparedCommand): Promise<CommandResult> {
    const replay = this.replayOf(p);
    if (replay) return replay;
    await this.load(p);
    return this.apply(p, this.decide(p));
  }

  /** The first result when the idempotency key was seen (in the store or earlier in this session). */
  replayOf(p: PreparedCommand): CommandResult | undefined {
    const key = p.metadata.idempotencyKey;
    const first = key ? this.seen.get(key) : undefined;
    if (!first) return undefined;
    if (first.requestHash !== p.hash)
      throw new ConflictError(`idempotency key ${key} was used for a different request`);
    return { ...(first.result as CommandResult), replayed: true };
  }

  /** Loads what this command reads (already loaded by open(); cheap unless an earlier command added rows). */
  async load(p: PreparedCommand): Promise<void> {
    const one = emptyKeys();
    keysForCommand(p.command, one);
    await this.session.state.load(this.session.tx, one);
    await this.session.loadStreams(streamsOfKeys(one));
  }

  /** The command's events from the current state; a RejectedError when the invariants refuse it. */
  decide(p: PreparedCommand): Decision {
    const mint = this.ctx.newId ?? newId;
    const minted: Minted[] = [];
    const decision = decide(p.command, this.session.state, {
      now: p.at,
      actor: p.metadata.actor,
      salt: this.salt,
      newId: (prefix) => {
        const id = mint(prefix);
        minted.push({ type: MINTED_STREAM[prefix], id });
        return id;
      },
    });
    if (minted.length) this.minted.set(decision, minted);
    return decision;
  }

  /** Stages the decided events (later commands see them) and remembers the idempotency key. */
  async apply(p: PreparedCommand, decision: Decision): Promise<CommandResult> {
    const session = this.session;
    const makeEventId = this.ctx.newEventId ?? randomUUID;
    // the streams whose ids the command minted are new: stage() needs to load nothing for them
    for (const m of this.minted.get(decision) ?? []) session.markNew(m.type, m.id);
    const stored: StoredEvent[] = [];
    for (const event of decision.events) {
      stored.push(
        await session.stage({
          event,
          metadata: p.metadata,
          occurredAt: p.at,
          eventId: makeEventId(),
          recordedAt: this.ctx.recordedAt === 'occurred' ? p.at : undefined,
        }),
      );
    }
    if (decision.privateHome)
      session.rememberPrivateHome(decision.privateHome.roleId, decision.privateHome.home, p.at);
    const result: CommandResult = {
      replayed: false,
      events: stored.map((e) => ({
        position: e.position,
        streamId: e.streamId,
        version: e.version,
        type: e.type,
      })),
      ids: decision.ids,
    };
    if (decision.note) result.note = decision.note;
    const key = p.metadata.idempotencyKey;
    if (key && p.hash) {
      session.rememberIdempotency(key, p.hash, result, stored);
      this.seen.set(key, { requestHash: p.hash, result });
    }
    return result;
  }
}
