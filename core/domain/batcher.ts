// Group commit for the write path: commands submitted while a write transaction is in flight wait for it and then
// run together in the next one (one head lock, one outbox row, one commit), each keeping its own outcome.
import type { Db } from '../db/adapter.js';
import { UserError } from '../errors.js';
import type { Decision } from './decide.js';
import { withWriteSession, type WriteSession } from '../eventstore.js';
import {
  prepareCommand,
  SessionCommands,
  type CommandEnvelope,
  type CommandResult,
  type ExecContext,
  type PreparedCommand,
} from './execute.js';

export interface BatcherOptions extends ExecContext {
  /** Commands per transaction at most (default 64); more wait for the next one. */
  maxBatch?: number;
  /** Commands waiting at most (default 10,000); beyond, submit() refuses ('unavailable': retry later). */
  maxQueue?: number;
}

export interface BatcherStats {
  /** Write transactions run (committed or failed). */
  transactions: number;
  /** Commands they carried. */
  commands: number;
  /** The most commands in one transaction. */
  largest: number;
}

interface Pending {
  prepared: PreparedCommand;
  resolve: (r: CommandResult) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; result: CommandResult } | { ok: false; error: unknown };

/**
 * Runs commands like executeCommand, grouping concurrent ones into one transaction. A command is never
 * acknowledged before its transaction commits. Per command, exactly as if run one by one in submission order:
 * validation errors reject at submit(); a refusal (RejectedError, or an idempotency key reused for another
 * request: ConflictError) fails that command alone, before anything is staged for it, and the others go on;
 * an idempotency key repeated inside one transaction replays the first result. When the transaction itself
 * fails (database down, a failed write), every command in it fails with that error and nothing of it is stored.
 */
export class CommandBatcher {
  private readonly queue: Pending[] = [];
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly clock: () => Date;
  private draining: Promise<void> | undefined;
  private closed = false;
  readonly stats: BatcherStats = { transactions: 0, commands: 0, largest: 0 };

  constructor(
    private readonly db: Db,
    private readonly options: BatcherOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 64);
    this.maxQueue = Math.max(1, options.maxQueue ?? 10_000);
    this.clock = options.clock ?? (() => new Date());
  }

  /** Validates the command now; resolves with its result once its transaction has committed. */
  submit(envelope: CommandEnvelope): Promise<CommandResult> {
    if (this.closed)
      return Promise.reject(
        new UserError('the server is shutting down; nothing was written, retry', 'unavailable'),
      );
    if (this.queue.length >= this.maxQueue)
      return Promise.reject(
        new UserError(
          `${this.queue.length} writes are waiting; nothing was written, retry later`,
          'unavailable',
        ),
      );
    let prepared: PreparedCommand;
    try {
      prepared = prepareCommand(envelope, 0, this.clock, false);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<CommandResult>((resolve, reject) => {
      this.queue.push({ prepared, resolve, reject });
      // commands submitted in the same tick go together, with no delay: the drain starts after this tick
      this.draining ??= Promise.resolve().then(() => this.drain());
    });
  }

  /** Refuses new commands and waits until every submitted one has its outcome. */
  async close(): Promise<void> {
    this.closed = true;
    await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) await this.runBatch(this.queue.splice(0, this.maxBatch));
    } finally {
      // no await between the empty queue and this: a submit() afterwards starts a new drain
      this.draining = undefined;
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    this.stats.transactions += 1;
    this.stats.commands += batch.length;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    let outcomes: Outcome[];
    try {
      const prepared = batch.map((b) => b.prepared);
      outcomes = await withWriteSession(
        this.db,
        (session) => runInSession(session, prepared, this.options),
        SessionCommands.preloadOf(prepared),
      );
    } catch (error) {
      for (const b of batch) b.reject(error);
      return;
    }
    batch.forEach((b, i) => {
      const o = outcomes[i]!;
      if (o.ok) b.resolve(o.result);
      else b.reject(o.error);
    });
  }
}

/**
 * The commands in order in one session. A refusal — thrown by the idempotency check or decide(), which stage
 * nothing — is that command's outcome; an error while loading or staging fails the whole transaction.
 */
async function runInSession(
  session: WriteSession,
  prepared: PreparedCommand[],
  ctx: ExecContext,
): Promise<Outcome[]> {
  const run = await SessionCommands.open(session, prepared, ctx);
  const outcomes: Outcome[] = [];
  for (const p of prepared) {
    let replay: CommandResult | undefined;
    try {
      replay = run.replayOf(p);
    } catch (error) {
      outcomes.push({ ok: false, error });
      continue;
    }
    if (replay) {
      outcomes.push({ ok: true, result: replay });
      continue;
    }
    await run.load(p);
    let decision: Decision;
    try {
      decision = run.decide(p);
    } catch (error) {
      outcomes.push({ ok: false, error });
      continue;
    }
    outcomes.push({ ok: true, result: await run.apply(p, decision) });
  }
  return outcomes;
}
