// The bus contract: one suite every implementation (in-process, Redis, NATS) must pass unchanged.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BusError,
  type Bus,
  type BusLogger,
  type BusMessage,
  type BusState,
  type Unsubscribe,
} from '../../core/bus/adapter.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BusSubject {
  /** A new bus (it may still be connecting). */
  open(options?: { log?: BusLogger }): Bus;
  /** A second bus on the same broker as `first`, as another server process would have. */
  openPeer(first: Bus): Bus;
  /** The environment under which openBus() in a child process opens this kind of bus. */
  childEnv: Record<string, string>;
}

/** A unique channel prefix per test run, so parallel runs on one broker never see each other's messages. */
const RUN = `weft-test.${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
let serial = 0;
export function channelName(label: string): string {
  return `${RUN}.${label}-${++serial}`;
}

export interface Received {
  message: BusMessage;
  channel: string;
}

/** Records what a handler receives; `waitFor(n)` resolves once n messages are in. */
export class Collector {
  readonly got: Received[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  readonly handler = (message: BusMessage, channel: string): void => {
    this.got.push({ message, channel });
    this.waiters = this.waiters.filter((w) => (this.got.length >= w.n ? (w.resolve(), false) : true));
  };
  get messages(): BusMessage[] {
    return this.got.map((r) => r.message);
  }
  async waitFor(n: number, timeoutMs = 5000): Promise<BusMessage[]> {
    if (this.got.length < n) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push({ n, resolve })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`got ${this.got.length} of ${n} messages in ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    }
    return this.messages;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<BusError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a BusError ${code}`).toBeInstanceOf(BusError);
  expect((err as BusError).code).toBe(code);
  return err as BusError;
}

/** Runs test/bus/close-child.ts and reports whether it exited by itself. */
export function runChild(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean; lingerMs: number }> {
  return new Promise((resolve, reject) => {
    const base = { ...process.env };
    delete base.REDIS_URL;
    delete base.NATS_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}test/bus/close-child.ts`], {
      cwd: ROOT,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const linger = /exited (\d+) ms after close/.exec(stdout);
      resolve({ code, stdout, stderr, killed, lingerMs: linger ? Number(linger[1]) : Infinity });
    });
  });
}

export function busContract(name: string, subject: BusSubject): void {
  describe(`bus contract: ${name}`, () => {
    const opened: Bus[] = [];
    const logged: string[] = [];
    const log: BusLogger = (level, message) => logged.push(`${level} ${message}`);
    const open = (): Bus => {
      const bus = subject.open({ log });
      opened.push(bus);
      return bus;
    };
    const peerOf = (first: Bus): Bus => {
      const bus = subject.openPeer(first);
      opened.push(bus);
      return bus;
    };
    async function ready(...buses: Bus[]): Promise<void> {
      await Promise.all(buses.map((b) => b.ready(10_000)));
    }
    afterAll(async () => {
      await Promise.all(opened.map((b) => b.close()));
    });

    it('connects: ready() resolves, state is connected, ping answers', async () => {
      const bus = open();
      await bus.ready(10_000);
      expect(bus.state).toBe('connected');
      expect(bus.isConnected()).toBe(true);
      expect(await bus.ping()).toBe(true);
      expect(bus.maxMessageBytes).toBeGreaterThanOrEqual(1_000_000);
    });

    it('delivers a published message to a subscriber, with its channel', async () => {
      const bus = open();
      await ready(bus);
      const channel = channelName('roundtrip');
      const c = new Collector();
      await bus.subscribe(channel, c.handler);
      await bus.publish(channel, 'hello');
      await c.waitFor(1);
      expect(c.got).toEqual([{ message: 'hello', channel }]);
    });

    it('keeps strings as strings and bytes as bytes, exactly', async () => {
      const bus = open();
      await ready(bus);
      const channel = channelName('payloads');
      const c = new Collector();
      await bus.subscribe(channel, c.handler);
      const big = randomBytes(4096);
      const view = new Uint8Array(big.buffer, big.byteOffset + 100, 50); // a view: only its 50 bytes count
      const sent: (string | Uint8Array)[] = [
        '',
        'plain ascii',
        'Grüße, 世界 🌍',
        '\u0000starts with NUL',
        '\u0001starts with SOH',
        JSON.stringify({ op: 'add', id: 7, geometry: { type: 'Point', coordinates: [7.42, 43.73] } }),
        new Uint8Array(0),
        Uint8Array.of(0, 1, 2, 255),
        Uint8Array.of(1, 0x41),
        Buffer.from('bytes that look like text'),
        view,
      ];
      for (const m of sent) await bus.publish(channel, m);
      const got = await c.waitFor(sent.length);
      expect(got).toHaveLength(sent.length);
      sent.forEach((m, i) => {
        if (typeof m === 'string') {
          expect(got[i]).toBe(m);
        } else {
          expect(Buffer.isBuffer(got[i]), `message ${i} should arrive as a Buffer`).toBe(true);
          expect(Buffer.from(got[i] as Buffer).equals(Buffer.from(m))).toBe(true);
        }
      });
      expect((got[10] as Buffer).length).toBe(50);
    });

    it('sends the bytes as they were at publish(): the publisher may reuse its buffer at once', async () => {
      const bus = open();
      await ready(bus);
      const channel = channelName('reuse');
      const c = new Collector();
      await bus.subscribe(channel, c.handler);
      const buf = Buffer.from('original bytes');
      const published = bus.publish(channel, buf);
      buf.fill(0x7a);
      await published;
      const [got] = await c.waitFor(1);
      expect((got as Buffer).toString()).toBe('original bytes');
    });

    it('never calls a handler inside publish()', async () => {
      const bus = open();
      await ready(bus);
      const channel = channelName('async');
      let inside = false;
      let calledInside = false;
      const c = new Collector();
      await bus.subscribe(channel, (m, ch) => {
        if (inside) calledInside = true;
        c.handler(m, ch);
      });
      inside = true;
      const p = bus.publish(channel, 'x');
      inside = false;
      await p;
      await c.waitFor(1);
      expect(calledInside).toBe(false);
    });

    it('gives every subscriber every message, on this bus and on another one', async () => {
      const bus = open();
      const peer = peerOf(bus);
      await ready(bus, peer);
      const channel = channelName('fanout');
      const here = [new Collector(), new Collector(), new Collector()];
      const there = new Collector();
      for (const c of here) await bus.subscribe(channel, c.handler);
      await peer.subscribe(channel, there.handler);
      for (let i = 0; i < 5; i++) await bus.publish(channel, `m${i}`);
      const want = ['m0', 'm1', 'm2', 'm3', 'm4'];
      for (const c of [...here, there]) expect(await c.waitFor(5)).toEqual(want);
      await sleep(100);
      for (const c of [...here, there]) expect(c.got).toHaveLength(5); // each once, not once per subscriber
    });

    it('keeps channels apart', async () => {
      const bus = open();
      await ready(bus);
      const a = channelName('apart');
      const b = `${a}x`; // a longer name that starts with a
      const ca = new Collector();
      const cb = new Collector();
      await bus.subscribe(a, ca.handler);
      await bus.subscribe(b, cb.handler);
      await bus.publish(b, 'for b');
      await bus.publish(a, 'for a');
      await ca.waitFor(1);
      await cb.waitFor(1);
      await sleep(100);
      expect(ca.got).toEqual([{ message: 'for a', channel: a }]);
      expect(cb.got).toEqual([{ message: 'for b', channel: b }]);
    });

    it('subscribes by prefix: every channel under it, whole tokens only, with the real channel name', async () => {
      const bus = open();
      const peer = peerOf(bus);
      await ready(bus, peer);
      const root = channelName('prefix');
      const c = new Collector();
      const exact = new Collector();
      await bus.subscribePrefix(`${root}.`, c.handler);
      await bus.subscribe(`${root}.one`, exact.handler);
      await peer.publish(`${root}x.not`, 'not under the prefix');
      await peer.publish(root, 'the prefix itself, not under it');
      await peer.publish(`${root}.one`, 'one');
      await peer.publish(`${root}.two.deeper`, 'deeper');
      await c.waitFor(2);
      await exact.waitFor(1);
      await sleep(150);
      expect(c.got).toEqual([
        { message: 'one', channel: `${root}.one` },
        { message: 'deeper', channel: `${root}.two.deeper` },
      ]);
      expect(exact.got).toEqual([{ message: 'one', channel: `${root}.one` }]);
    });

    it('a handler on a channel and on its prefix gets the message twice', async () => {
      const bus = open();
      await ready(bus);
      const root = channelName('twice');
      const c = new Collector();
      await bus.subscribe(`${root}.a`, c.handler);
      await bus.subscribePrefix(`${root}.`, c.handler);
      await bus.publish(`${root}.a`, 'm');
      expect(await c.waitFor(2)).toEqual(['m', 'm']);
    });

    it('unsubscribe stops delivery to that handler only, and is idempotent', async () => {
      const bus = open();
      const peer = peerOf(bus);
      await ready(bus, peer);
      const channel = channelName('unsub');
      const gone = new Collector();
      const stays = new Collector();
      const watcher = new Collector();
      const unsubscribe = await bus.subscribe(channel, gone.handler);
      await bus.subscribe(channel, stays.handler);
      await peer.subscribe(channel, watcher.handler);
      await bus.publish(channel, 'before');
      await gone.waitFor(1);
      await unsubscribe();
      await unsubscribe();
      await bus.publish(channel, 'after');
      expect(await stays.waitFor(2)).toEqual(['before', 'after']);
      await watcher.waitFor(2);
      await sleep(100);
      expect(gone.messages).toEqual(['before']);
    });

    it('after the last handler leaves, nothing more arrives; a new subscription works again', async () => {
      const bus = open();
      const peer = peerOf(bus);
      await ready(bus, peer);
      const channel = channelName('resub');
      const first = new Collector();
      const watcher = new Collector();
      await peer.subscribe(channel, watcher.handler);
      const unsubscribe = await bus.subscribe(channel, first.handler);
      await peer.publish(channel, 'one');
      await first.waitFor(1);
      await unsubscribe();
      await peer.publish(channel, 'two');
      await watcher.waitFor(2);
      await sleep(200);
      expect(first.messages).toEqual(['one']);
      const again = new Collector();
      await bus.subscribe(channel, again.handler);
      await peer.publish(channel, 'three');
      expect(await again.waitFor(1)).toEqual(['three']);
    });

    it('a handler that unsubscribes itself gets nothing after that, even from a burst', async () => {
      const bus = open();
      await ready(bus);
      const channel = channelName('self-unsub');
      const c = new Collector();
      const other = new Collector();
      let unsubscribe: Unsubscribe | undefined;
      unsubscribe = await bus.subscribe(channel, (m, ch) => {
        c.handler(m, ch);
        void unsubscribe?.();
      });
      await bus.subscribe(channel, other.handler);
      await Promise.all([1, 2, 3].map((i) => bus.publish(channel, `m${i}`)));
      await other.waitFor(3);
      await sleep(50);
      expect(c.messages).toEqual(['m1']);
    });

    it('a handler that throws is logged and does not stop the others', async () => {
      const bus = open();
      await ready(bus);
      const channel = channelName('throws');
      const c = new Collector();
      await bus.subscribe(channel, () => {
        throw new Error('handler failure for the test');
      });
      await bus.subscribe(channel, c.handler);
      await bus.publish(channel, 'a');
      await bus.publish(channel, 'b');
      expect(await c.waitFor(2)).toEqual(['a', 'b']);
      expect(logged.some((l) => l.includes('handler failure for the test'))).toBe(true);
    });

    it('keeps the order of 1,000 messages sent without waiting, here and on another bus', async () => {
      const bus = open();
      const peer = peerOf(bus);
      await ready(bus, peer);
      const channel = channelName('order');
      const here = new Collector();
      const there = new Collector();
      await bus.subscribe(channel, here.handler);
      await peer.subscribe(channel, there.handler);
      const want = Array.from({ length: 1000 }, (_, i) => `${i}`);
      await Promise.all(want.map((m) => bus.publish(channel, m)));
      expect(await here.waitFor(1000, 20_000)).toEqual(want);
      expect(await there.waitFor(1000, 20_000)).toEqual(want);
    });

    it('two bus instances deliver each other’s messages, both ways', async () => {
      const a = open();
      const b = peerOf(a);
      await ready(a, b);
      const channel = channelName('peers');
      const atA = new Collector();
      const atB = new Collector();
      await a.subscribe(channel, atA.handler);
      await b.subscribe(channel, atB.handler);
      await a.publish(channel, 'from a');
      await b.publish(channel, Buffer.from('from b'));
      await atA.waitFor(2);
      await atB.waitFor(2);
      // Per-publisher order only: sort what each side saw.
      const norm = (ms: BusMessage[]) => ms.map((m) => (typeof m === 'string' ? m : `bytes:${m}`)).sort();
      expect(norm(atA.messages)).toEqual(['bytes:from b', 'from a']);
      expect(norm(atB.messages)).toEqual(['bytes:from b', 'from a']);
    });

    it('carries a 1 MB message (bytes and string) intact', async () => {
      const bus = open();
      const peer = peerOf(bus);
      await ready(bus, peer);
      const channel = channelName('large');
      const c = new Collector();
      await peer.subscribe(channel, c.handler);
      const bytes = randomBytes(1_000_000);
      const text = 'x'.repeat(999_990) + 'ü🌍';
      await bus.publish(channel, bytes);
      await bus.publish(channel, text);
      const [gotBytes, gotText] = await c.waitFor(2, 10_000);
      expect(Buffer.isBuffer(gotBytes)).toBe(true);
      expect((gotBytes as Buffer).equals(bytes)).toBe(true);
      expect(gotText).toBe(text);
    });

    it('takes a message of exactly maxMessageBytes and refuses one byte more, sending nothing', async () => {
      const bus = open();
      await ready(bus);
      const channel = channelName('limit');
      const c = new Collector();
      await bus.subscribe(channel, c.handler);
      const max = bus.maxMessageBytes;
      const err = await rejectsWith(bus.publish(channel, new Uint8Array(max + 1)), 'too_large');
      expect(err.message).toContain(String(max + 1));
      await bus.publish(channel, new Uint8Array(max).fill(3));
      const [got] = await c.waitFor(1, 20_000);
      expect((got as Buffer).length).toBe(max);
      await sleep(100);
      expect(c.got).toHaveLength(1);
    });

    it('refuses bad channel names and prefixes with a clear error', async () => {
      const bus = open();
      await ready(bus);
      for (const bad of ['', 'a..b', '.a', 'a.', 'with space', 'a.*', 'a.>', 'tab\there', 'x'.repeat(256)]) {
        await rejectsWith(bus.publish(bad, 'm'), 'bad_channel');
        await rejectsWith(
          bus.subscribe(bad, () => {}),
          'bad_channel',
        );
      }
      for (const bad of ['nodot', '.', 'a..', 'a b.', '*.']) {
        await rejectsWith(
          bus.subscribePrefix(bad, () => {}),
          'bad_channel',
        );
      }
      const err = await rejectsWith(bus.publish('a..b', 'm'), 'bad_channel');
      expect(err.message).toContain("'a..b'");
      await rejectsWith(bus.publish('ok', 42 as unknown as string), 'bad_channel');
    });

    it('close() ends everything: state closed, calls refused, idempotent, listeners told', async () => {
      const bus = subject.open({ log });
      await ready(bus);
      const states: BusState[] = [];
      bus.onStateChange((s) => states.push(s));
      const channel = channelName('closed');
      await bus.subscribe(channel, () => {});
      await bus.close();
      await bus.close();
      expect(states).toEqual(['closed']);
      expect(bus.state).toBe('closed');
      expect(bus.isConnected()).toBe(false);
      expect(await bus.ping()).toBe(false);
      await rejectsWith(bus.publish(channel, 'm'), 'bus_closed');
      await rejectsWith(
        bus.subscribe(channel, () => {}),
        'bus_closed',
      );
      await rejectsWith(bus.ready(100), 'bus_closed');
    });

    it('close() leaves no open handle: a process that used the bus exits by itself', async () => {
      const channel = channelName('child');
      const res = await runChild({ ...subject.childEnv, BUS_CHILD_CHANNEL: channel });
      expect(res.killed, `the child did not exit after close(); stderr: ${res.stderr}`).toBe(false);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`kind ${subject.childEnv.BUS_CHILD_KIND}`);
      expect(res.stdout).toContain('received hello');
      expect(res.stdout).toContain('closed');
      expect(res.lingerMs, 'the child lingered after close(): something was left open').toBeLessThan(1000);
    });
  });
}
