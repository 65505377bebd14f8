// `weft serve --workers N`: one server process per core. The primary forks N workers that share the listening
// port (node:cluster) and restarts one that dies; each worker is a whole server. Workers share nothing in memory,
// so N > 1 needs what they must share outside the process: PostgreSQL (DATABASE_URL — PGlite is one process's
// database) and a bus between processes (REDIS_URL or NATS_URL) for deltas, presence, release announcements.
import cluster from 'node:cluster';
import { UserError } from '../core/errors.js';

type Env = Record<string, string | undefined>;

/** Why `workers` server processes cannot run with this environment, or undefined when they can. */
export function clusterProblem(workers: number, env: Env = process.env): string | undefined {
  if (workers <= 1) return undefined;
  if (!env.DATABASE_URL)
    return `--workers ${workers} needs DATABASE_URL: the embedded database belongs to one process`;
  if (!env.REDIS_URL && !env.NATS_URL)
    return `--workers ${workers} needs REDIS_URL or NATS_URL: the in-process bus cannot carry deltas between workers`;
  return undefined;
}

export interface WorkerReady {
  weft: 'listening';
  url: string;
}

/**
 * In the primary: forks `workers` workers and resolves when all listen (their URL), restarting any that exits
 * unexpectedly; stops them on SIGINT/SIGTERM and resolves `done` when all are gone.
 */
export function runPrimary(
  workers: number,
  log: (line: string) => void,
): { listening: Promise<string>; done: Promise<void> } {
  const problem = clusterProblem(workers);
  if (problem) throw new UserError(problem, 'config');
  let stopping = false;
  let ready = 0;
  let resolveListening!: (url: string) => void;
  let rejectListening!: (err: Error) => void;
  const listening = new Promise<string>((resolve, reject) => {
    resolveListening = resolve;
    rejectListening = reject;
  });
  const restarts: number[] = [];
  const fork = () => {
    const w = cluster.fork();
    w.on('message', (m: WorkerReady) => {
      if (m?.weft === 'listening' && ++ready === workers) resolveListening(m.url);
    });
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    restarts.push(now);
    while (restarts.length && now - restarts[0]! > 60_000) restarts.shift();
    if (ready < workers || restarts.length > 5) {
      stopping = true;
      rejectListening(
        new UserError(
          `a server worker exited (${signal ?? `code ${code}`}) ${ready < workers ? 'while starting' : 'too often'}`,
        ),
      );
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      return;
    }
    log(`weft serve: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
    fork();
  });
  for (let i = 0; i < workers; i++) fork();
  const done = new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true;
      const alive = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
      if (!alive.length) return resolve();
      let left = alive.length;
      for (const w of alive)
        w!.once('exit', () => {
          if (--left === 0) resolve();
        });
      for (const w of alive) w!.process.kill('SIGTERM');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    listening.catch(() => stop());
  });
  return { listening, done };
}

export const isWorker = (): boolean => cluster.isWorker;

/** In a worker: tells the primary it listens. */
export function announceListening(url: string): void {
  process.send?.({ weft: 'listening', url } satisfies WorkerReady);
}

/** In a worker that has closed its server: ends the IPC channel to the primary, which would keep it alive. */
export function leaveCluster(): void {
  if (cluster.isWorker) cluster.worker?.disconnect();
}
