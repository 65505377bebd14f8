// The live bench's native clients (bench/ws-clients.c, built by scripts/setup.sh into build/bench/ws-clients) seen
// from Node: the program driven over its stdin and stdout, one command and one answer line at a time.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const NATIVE_CLIENTS = fileURLToPath(new URL('../build/bench/ws-clients', import.meta.url));

export const nativeClientsBuilt = (): boolean => existsSync(NATIVE_CLIENTS);

/** One delivery: which client (in the order opened), the delta's position, when it arrived (µs, CLOCK_MONOTONIC). */
export interface Delivery {
  client: number;
  position: number;
  atUs: number;
}

export class NativeClients {
  private readonly child: ChildProcess;
  /** waiting for an answer line, in command order: resolved with it, or rejected when the program exits */
  private readonly answers: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  private readonly file = join(
    tmpdir(),
    `weft-ws-clients-${process.pid}-${Math.random().toString(36).slice(2)}.bin`,
  );
  /** Resolves when the program has exited. */
  readonly exited: Promise<number | null>;

  constructor() {
    if (!nativeClientsBuilt())
      throw new Error(
        `the native bench clients are not built (${NATIVE_CLIENTS}): run scripts/setup.sh (needs gcc)`,
      );
    this.child = spawn(NATIVE_CLIENTS, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        // a command the program died on (e.g. a refused connect) fails instead of waiting for ever
        for (const a of this.answers.splice(0))
          a.reject(new Error(`the native bench clients exited (${code})`));
        resolve(code);
      }),
    );
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.answers.shift()?.resolve(line));
  }

  private ask(command: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null) return reject(new Error('the native bench clients have exited'));
      this.answers.push({ resolve: (line) => resolve(line.split(' ')), reject });
      this.child.stdin!.write(`${command}\n`);
    });
  }

  /**
   * Opens `count` clients to `path` (e.g. /live?region=r), client k (counted over every open) to
   * urls[(first + k) % urls.length]; resolves to [how many had the server's hello, the program's CPU ms].
   */
  async open(urls: string[], first: number, path: string, count: number): Promise<[number, number]> {
    const targets = urls.map((u) => new URL(u).host);
    const [, opened, cpu] = await this.ask(`open ${count} ${first} ${path} ${targets.join(' ')}`);
    return [Number(opened), Number(cpu)];
  }

  /** Deliveries so far. */
  async count(): Promise<number> {
    return Number((await this.ask('count'))[1]);
  }

  /** Every delivery so far, 16 bytes each (int32 client, int32 position, int64 µs), and the program's CPU ms. */
  async dump(): Promise<[Buffer, number]> {
    const [, , cpu] = await this.ask(`dump ${this.file}`);
    const bytes = await readFile(this.file);
    await rm(this.file, { force: true });
    return [bytes, Number(cpu)];
  }

  /** Closes every client (close frames, a second at most for the server to end them) and forgets the deliveries. */
  async close(): Promise<void> {
    await this.ask('close');
  }

  /** Ends the program. */
  async stop(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }
}

/** The deliveries of a dump. */
export function deliveries(dump: Buffer): Delivery[] {
  const out: Delivery[] = [];
  for (let at = 0; at + 16 <= dump.length; at += 16)
    out.push({
      client: dump.readInt32LE(at),
      position: dump.readInt32LE(at + 4),
      atUs: Number(dump.readBigInt64LE(at + 8)),
    });
  return out;
}
