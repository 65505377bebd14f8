// The live fan-out's direct socket writes (serve/live/direct.ts, native/fanout.c) over real loopback sockets: which
// sockets may be written to directly, what sendEach sends and reports when a peer stops reading, and the hub's pass
// writing big deltas to a client that stops reading: the direct writes fill the socket, the rest goes through
// node:net, and once the client reads again it gets every delta whole, in order, once — the same bytes as with
// direct writes switched off.
import net from 'node:net';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../core/bus/memory.js';
import type { Db } from '../../core/db/adapter.js';
import { createMetrics } from '../../serve/metrics.js';
import { directSends, directStats, idleFd, sendEach, setDirectSendsOff } from '../../serve/live/direct.js';
import { deltasChannel, encodeEnvelopes } from '../../serve/live/envelope.js';
import { LiveHub, Subscriber, type DeltaBatch, type Transport } from '../../serve/live/hub.js';
import type { EncodedDelta } from '../../serve/live/translate.js';
import { waitFor } from './fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A connected pair of loopback TCP sockets: `server` (accepted) and `client`. */
async function socketPair(): Promise<{ server: net.Socket; client: net.Socket; close(): void }> {
  const listener = net.createServer();
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => listener.once('connection', r));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', r));
  const server = await accepted;
  listener.close();
  return {
    server,
    client,
    close() {
      server.destroy();
      client.destroy();
    },
  };
}

/** Reads everything `socket` receives. */
const collect = (socket: net.Socket) => {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks);
};

/** A transport over a raw socket: each delta written as its text and a newline, as the WebSocket session does. */
class SocketTransport implements Transport {
  readonly pacing = 1 << 30;
  constructor(readonly socket: net.Socket) {}
  isOpen(): boolean {
    return !this.socket.destroyed;
  }
  sendDelta(d: EncodedDelta): boolean {
    this.socket.write(`${d.text}\n`);
    return true;
  }
  sendBatch(batch: DeltaBatch): boolean {
    this.socket.write(this.batchBytes(batch));
    return true;
  }
  batchBytes(batch: DeltaBatch): Buffer {
    let bytes = batch.bytes.get('raw');
    if (!bytes)
      batch.bytes.set('raw', (bytes = Buffer.from(batch.deltas.map((d) => `${d.text}\n`).join(''))));
    return bytes;
  }
  idleFd(): number {
    return idleFd(this.socket);
  }
  writeRest(bytes: Buffer, sent: number): boolean {
    this.socket.write(sent > 0 ? bytes.subarray(sent) : bytes);
    return true;
  }
  buffered(): number {
    return this.socket.writableLength;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
}

/** Delta `position` with a text of about `size` bytes that says its position all along (so a torn write shows). */
const bigDelta = (position: number, size: number): EncodedDelta => {
  const word = `p${position};`;
  return {
    region: 'monaco',
    position,
    bbox: [7.4, 43.7, 7.5, 43.8],
    text: `{"position":${position},"fill":"${word.repeat(Math.ceil(size / word.length))}"}`,
  };
};

describe('direct socket writes', () => {
  const pairs: { close(): void }[] = [];
  afterEach(() => {
    for (const p of pairs.splice(0)) p.close();
    setDirectSendsOff(false);
  });
  const pair = async () => {
    const p = await socketPair();
    pairs.push(p);
    return p;
  };

  it('is built here (scripts/setup.sh compiles native/fanout.c)', () => {
    expect(directSends()).toBe(true);
  });

  it('takes only plain TCP sockets with nothing waiting to be written', async () => {
    const { server, client } = await pair();
    expect(idleFd(server)).toBeGreaterThanOrEqual(0);
    server.cork();
    expect(idleFd(server)).toBe(-1);
    server.uncork();
    expect(idleFd(server)).toBeGreaterThanOrEqual(0);
    // a peer that does not read: once the kernel's buffers are full, Node keeps the rest, and the socket is not idle
    client.pause();
    const block = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 64 && server.writableLength === 0; i++) {
      server.write(block);
      await sleep(1);
    }
    expect(server.writableLength).toBeGreaterThan(0);
    expect(idleFd(server)).toBe(-1);
    expect(idleFd(new PassThrough())).toBe(-1);
    const secure = new tls.TLSSocket(new PassThrough() as unknown as net.Socket);
    expect(idleFd(secure)).toBe(-1);
    secure.destroy();
    server.destroy();
    await sleep(10);
    expect(idleFd(server)).toBe(-1);
  });

  it('sends the same bytes to each socket and says when a peer stops taking them', async () => {
    const ps = [await pair(), await pair(), await pair()];
    const got = ps.map((p) => collect(p.client));
    const bytes = Buffer.from('one frame for everybody\n');
    const out = sendEach(
      ps.map((p) => idleFd(p.server)),
      bytes,
    );
    expect([...out]).toEqual([bytes.length, bytes.length, bytes.length]);
    await waitFor(async () => got.every((g) => g().equals(bytes)));

    // a peer that does not read: its socket takes bytes until the kernel's buffers are full, then none (EAGAIN)
    const { server, client } = await pair();
    client.pause();
    const block = Buffer.alloc(256 * 1024, 1);
    const results: number[] = [];
    for (let i = 0; i < 400 && results.at(-1) !== -11; i++)
      results.push(sendEach([idleFd(server)], block)[0]!);
    expect(results.at(-1)).toBe(-11); // EAGAIN
    expect(results[0]).toBe(block.length);
    // whatever went out is what the peer reads once it reads again
    const sent = results.filter((n) => n > 0).reduce((a, n) => a + n, 0);
    let received = 0;
    client.on('data', (c: Buffer) => (received += c.length));
    client.resume();
    await waitFor(async () => received === sent);
  });

  for (const direct of [true, false]) {
    it(`fans big deltas out to a client that stops reading: whole, in order, once (direct writes ${direct ? 'on' : 'off'})`, async () => {
      setDirectSendsOff(!direct);
      const before = { ...directStats };
      const bus = new MemoryBus();
      const hub = new LiveHub(undefined as unknown as Db, bus, createMetrics(), pino({ level: 'silent' }));
      await hub.start();
      try {
        const reader = await pair();
        const stalled = await pair();
        const readerGot = collect(reader.client);
        for (const p of [reader, stalled]) {
          const sub = new Subscriber('monaco', undefined, new SocketTransport(p.server));
          hub.join(sub);
          sub.mode = 'live';
        }
        // 48 deltas of 512 kB (24 MB, past what the kernel holds for a socket that is not read), in envelopes of
        // 1–3; the stalled client reads again halfway, while Node still holds what its socket did not take
        const deltas = Array.from({ length: 48 }, (_, i) => bigDelta(i + 1, 512 * 1024));
        const stalledGot = collect(stalled.client);
        stalled.client.pause();
        let queuedWhenResumed = 0;
        for (let i = 0; i < deltas.length;) {
          const n = 1 + (i % 3);
          for (const e of encodeEnvelopes(deltas.slice(i, i + n), () => Date.now(), 4 << 20))
            await bus.publish(deltasChannel('monaco'), e);
          i += n;
          await sleep(2);
          if (i >= deltas.length / 2 && stalled.client.isPaused()) {
            queuedWhenResumed = stalled.server.writableLength;
            stalled.client.resume();
          }
        }
        const expected = Buffer.from(deltas.map((d) => `${d.text}\n`).join(''));
        await waitFor(async () => readerGot().length === expected.length, 20_000);
        expect(readerGot().equals(expected)).toBe(true);
        expect(queuedWhenResumed).toBeGreaterThan(0); // Node held some when it read again
        await waitFor(async () => stalledGot().length >= expected.length, 20_000);
        expect(stalledGot().equals(expected)).toBe(true);
        if (direct) {
          expect(directStats.whole).toBeGreaterThan(before.whole);
          expect(directStats.partial + directStats.refused).toBeGreaterThan(before.partial + before.refused);
        } else expect(directStats).toEqual(before);
      } finally {
        await hub.close();
        await bus.close();
      }
    });
  }
});
