// The live bench's native WebSocket clients (bench/ws-clients.c through bench/native-clients.ts), the tool that
// times `make bench-live`: against the ws package's server (an independent implementation, which checks the
// upgrade and the client's masked frames) they count every delta once, whatever the frame length, answer pings
// with pongs and close with 1000; against a hand-made server they put frames split across reads back together,
// refuse a wrong upgrade answer, and drop a connection whose server sends a masked frame.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { deliveries, NativeClients } from '../../bench/native-clients.js';
import { waitFor } from '../serve/fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hello = JSON.stringify({ type: 'hello', region: 'r' });
const delta = (position: number, pad = 0) =>
  JSON.stringify({ type: 'delta', region: 'r', position, pad: 'x'.repeat(pad) });

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function clients(): Promise<NativeClients> {
  const c = new NativeClients();
  cleanup.push(() => c.stop());
  return c;
}

/** The positions each client got, in order. */
async function received(c: NativeClients, count: number): Promise<number[][]> {
  const out = Array.from({ length: count }, () => [] as number[]);
  for (const d of deliveries((await c.dump())[0])) out[d.client]!.push(d.position);
  return out;
}

describe('native bench clients against the ws server', () => {
  it('count each delta once at every frame length, answer pings, close with 1000', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/live' });
    await new Promise<void>((r) => wss.once('listening', r));
    cleanup.push(() => new Promise<void>((r) => wss.close(() => r())));
    const sockets: WebSocket[] = [];
    const pongs: string[] = [];
    const closes: number[] = [];
    const queries: string[] = [];
    wss.on('connection', (ws, req) => {
      queries.push(req.url ?? '');
      sockets.push(ws);
      ws.on('pong', (data) => pongs.push(data.toString()));
      ws.on('close', (code) => closes.push(code));
      ws.send(hello);
    });
    const port = (wss.address() as net.AddressInfo).port;
    const c = await clients();
    const [opened] = await c.open([`http://127.0.0.1:${port}`], 0, '/live?region=r', 2);
    expect(opened).toBe(2);
    expect(queries).toEqual(['/live?region=r', '/live?region=r']);

    // 7-bit, 16-bit and 64-bit payload lengths, a binary message and a message that is not a delta
    for (const ws of sockets) {
      ws.send(delta(1));
      ws.send(delta(2, 300));
      ws.send(delta(3, 70_000));
      ws.send(Buffer.from(delta(4)), { binary: true });
      ws.send(JSON.stringify({ type: 'error', code: 'x', position: 99 }));
      ws.ping('are you there');
    }
    await waitFor(async () => (await c.count()) === 8 && pongs.length === 2);
    expect(pongs).toEqual(['are you there', 'are you there']);
    expect(await received(c, 2)).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ]);
    const [dump] = await c.dump();
    const times = deliveries(dump).map((d) => d.atUs);
    const now = Number(process.hrtime.bigint() / 1000n);
    // arrival times are on Node's process.hrtime clock: within the last minute
    expect(times).toHaveLength(8);
    expect(Math.min(...times)).toBeGreaterThan(now - 60e6);
    expect(Math.max(...times)).toBeLessThanOrEqual(now);

    await c.close();
    await waitFor(async () => closes.length === 2);
    expect(closes).toEqual([1000, 1000]);
    expect(await c.count()).toBe(0);
  });
});

/** A hand-made WebSocket server: answers the upgrade (with `accept` or the right key) and runs `then`. */
async function rawServer(then: (socket: net.Socket) => void, accept?: string): Promise<number> {
  const server = net.createServer((socket) => {
    let head = '';
    socket.on('data', function onData(chunk) {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const key = /sec-websocket-key: (\S+)/i.exec(head)![1]!;
      const right = createHash('sha1')
        .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
        .digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept ?? right}\r\n\r\n`,
      );
      then(socket);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => {
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

/** An unmasked server text frame. */
function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x81, n]) : Buffer.from([0x81, 126, n >> 8, n & 0xff]);
  return Buffer.concat([head, payload]);
}

describe('native bench clients without a server', () => {
  it('fail the open when nothing listens, instead of waiting for ever', async () => {
    const free = net.createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    const c = new NativeClients();
    await expect(c.open([`http://127.0.0.1:${port}`], 0, '/live', 1)).rejects.toThrow(/exited/);
    expect(await c.exited).not.toBe(0);
  });
});

describe('native bench clients against a hand-made server', () => {
  it('join frames split across reads and take several frames from one read', async () => {
    const port = await rawServer(async (socket) => {
      const bytes = Buffer.concat([frame(hello), frame(delta(10, 200)), frame(delta(11)), frame(delta(12))]);
      // the hello and the first byte of the next frame's length, then the rest byte by byte in small pieces
      const cut = frame(hello).length + 2;
      socket.write(bytes.subarray(0, cut));
      await sleep(30);
      for (let at = cut; at < bytes.length; at += 97) {
        socket.write(bytes.subarray(at, at + 97));
        await sleep(5);
      }
    });
    const c = await clients();
    expect((await c.open([`http://127.0.0.1:${port}`], 0, '/live', 1))[0]).toBe(1);
    await waitFor(async () => (await c.count()) === 3);
    await sleep(50);
    expect(await received(c, 1)).toEqual([[10, 11, 12]]);
  });

  it('refuse a wrong upgrade answer and drop a server that sends a masked frame', async () => {
    const wrong = await rawServer((socket) => socket.write(frame(hello)), 'bm90IHRoZSByaWdodCBvbmU=');
    const c = await clients();
    expect((await c.open([`http://127.0.0.1:${wrong}`], 0, '/live', 1))[0]).toBe(0);

    let ended = false;
    const masked = await rawServer((socket) => {
      socket.on('close', () => (ended = true));
      socket.write(frame(hello));
      setTimeout(() => {
        // a masked frame (the mask bit set, four mask bytes) carrying a delta: a protocol error from a server
        const payload = Buffer.from(delta(20));
        socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]));
        socket.write(frame(delta(21)));
      }, 30);
    });
    expect((await c.open([`http://127.0.0.1:${masked}`], 0, '/live', 1))[0]).toBe(1);
    await waitFor(async () => ended);
    expect(await c.count()).toBe(0);
  });
});
