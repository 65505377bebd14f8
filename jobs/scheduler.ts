// The scheduler behind `weft jobs start`: runs each job at start and then every interval, one run of a job at a
// time (a run still going when the next is due is skipped, and says so), a log line per run; stop() signals the
// running jobs to finish early, waits for them and then resolves.
import { errorMessage } from '../core/errors.js';

export interface Schedule {
  name: string;
  everyMs: number;
  /** One run; resolves with a one-line summary. `signal` aborts when the scheduler stops: finish early and cleanly. */
  run: (signal: AbortSignal) => Promise<string>;
}

export interface SchedulerOptions {
  /** Where the log lines go (default stdout). */
  log?: (line: string) => void;
  /** Run every job once at start (default true). */
  runAtStart?: boolean;
  /** The clock for log lines (default wall clock). */
  clock?: () => Date;
}

export interface RunningScheduler {
  /** Stops scheduling and resolves once no job is running. */
  stop(): Promise<void>;
  /** Runs finished so far, by job name. */
  readonly runs: Record<string, number>;
}

export function startScheduler(
  schedules: readonly Schedule[],
  options: SchedulerOptions = {},
): RunningScheduler {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? (() => new Date());
  const timers: NodeJS.Timeout[] = [];
  const running = new Map<string, Promise<void>>();
  const runs: Record<string, number> = {};
  let stopped = false;
  const stopping = new AbortController();

  const fire = (s: Schedule) => {
    if (stopped) return;
    if (running.has(s.name)) {
      log(`${clock().toISOString()} job ${s.name}: still running, this run is skipped`);
      return;
    }
    const started = Date.now();
    const p = s
      .run(stopping.signal)
      .then(
        (summary) => log(`${clock().toISOString()} job ${s.name}: ${summary} (${Date.now() - started} ms)`),
        (err: unknown) =>
          log(
            `${clock().toISOString()} job ${s.name} failed: ${errorMessage(err)} (${Date.now() - started} ms)`,
          ),
      )
      .finally(() => {
        runs[s.name] = (runs[s.name] ?? 0) + 1;
        running.delete(s.name);
      });
    running.set(s.name, p);
  };

  for (const s of schedules) {
    if (!(s.everyMs > 0))
      throw new RangeError(`job ${s.name}: the interval must be positive, got ${s.everyMs}`);
    timers.push(setInterval(() => fire(s), s.everyMs));
    log(`${clock().toISOString()} job ${s.name}: every ${formatInterval(s.everyMs)}`);
  }
  if (options.runAtStart !== false) for (const s of schedules) fire(s);

  return {
    runs,
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      stopping.abort();
      await Promise.all([...running.values()]);
    },
  };
}

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** "1h", "30m", "500ms", "1d" → milliseconds; undefined when not a duration. */
export function parseInterval(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNITS.find(([u]) => u === m[2])![1];
  return ms > 0 ? ms : undefined;
}

/** 3_600_000 → "1h", 1500 → "1500ms". */
export function formatInterval(ms: number): string {
  for (const [u, size] of UNITS) if (ms % size === 0) return `${ms / size}${u}`;
  return `${ms}ms`;
}
