// A fixed pool of engine worker threads with request/response messaging and least-busy dispatch.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserError } from '../../core/errors.js';
import type { WorkerRequest } from './worker.js';

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** Starts the worker module next to this one; from TypeScript sources (tests, tsx) it is loaded through tsx. */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url));
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true });
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly busy: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failed: Error | undefined;

  constructor(size = availableParallelism()) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const w = startWorker();
      w.on('message', (msg: { id: number; result?: unknown; error?: string; kind?: string }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        this.busy[i]!--;
        if (msg.error !== undefined) {
          p.reject(msg.kind === 'InputError' ? new UserError(msg.error) : new Error(msg.error));
        } else p.resolve(msg.result);
      });
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0 && !this.failed) this.fail(new Error(`tiling worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.busy.push(0);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  private fail(err: Error): void {
    this.failed = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Sends a request to the least busy worker. */
  run<T>(req: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.busy[i]! < this.busy[best]!) best = i;
    return this.send<T>(best, req, transfer);
  }

  /** Sends the same request to every worker (e.g. init). */
  broadcast(req: WorkerRequest): Promise<unknown[]> {
    return Promise.all(this.workers.map((_, i) => this.send(i, req, [])));
  }

  private send<T>(i: number, req: WorkerRequest, transfer: ArrayBuffer[]): Promise<T> {
    const id = this.nextId++;
    this.busy[i]!++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.workers[i]!.postMessage({ id, req }, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
