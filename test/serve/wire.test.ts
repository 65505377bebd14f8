// The raw HTTP/1.1 front (serve/wire.ts) over real sockets: two servers share one blob store and release, one with
// the front (the default) and one without (WEFT_WIRE=0); the same bytes sent to both must come back the same
// (status, header lines in order, body; Date aside), the front must really answer the hot reads itself, keep
// pipelined answers in order, hand everything else to node:http unchanged, and count its requests in the metrics.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PMTilesReader } from '../../pipeline/pmtiles/reader.js';
import { tileIdToZxy } from '../../pipeline/pmtiles/tileid.js';
import { loadRegion } from '../../pipeline/region.js';
import { tempDir } from '../helpers/tmp.js';
import { makeArchives, releaseFixture, tileAt, waitFor, type FixtureRelease } from './fixtures.js';
import { startTestServer, type TestServer } from './server.js';

const dir = tempDir('weft-serve-wire-');

interface Parsed {
  status: number;
  /** header lines in order, the Date value replaced */
  lines: string[];
  body: Buffer;
}

/** Splits raw response bytes into responses (HEAD answers flagged by index have no body). */
function parseResponses(raw: Buffer, heads: ReadonlySet<number> = new Set()): Parsed[] {
  const out: Parsed[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const end = raw.indexOf('\r\n\r\n', pos, 'latin1');
    if (end < 0) throw new Error(`incomplete head: ${raw.subarray(pos).toString('latin1')}`);
    const [statusLine, ...rest] = raw.toString('latin1', pos, end).split('\r\n');
    const status = Number(statusLine!.split(' ')[1]);
    const lines = rest.map((l) => (/^date:/i.test(l) ? 'Date: <date>' : l));
    const cl = rest.find((l) => /^content-length:/i.test(l));
    const noBody = heads.has(out.length) || status === 204 || status === 304;
    const length = noBody || !cl ? 0 : Number(cl.split(':')[1]);
    out.push({ status, lines: [statusLine!, ...lines], body: raw.subarray(end + 4, end + 4 + length) });
    pos = end + 4 + length;
  }
  return out;
}

/**
 * Connects, sends `chunks` (each its own write; `gapMs` apart when given), and returns everything the server sent
 * until it closed or `expect` responses arrived (the connection is then closed by us).
 */
function exchange(
  port: number,
  chunks: (string | Buffer)[],
  opts: { expect?: number; heads?: Set<number>; gapMs?: number; timeoutMs?: number } = {},
): Promise<{ raw: Buffer; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    const got: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ raw: Buffer.concat(got), closedByServer });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 3000);
    s.on('data', (d: Buffer) => {
      got.push(d);
      if (opts.expect === undefined) return;
      try {
        if (parseResponses(Buffer.concat(got), opts.heads).length >= opts.expect) finish(false);
      } catch {
        // not all there yet
      }
    });
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', (err) => (done ? undefined : reject(err)));
    s.on('connect', async () => {
      for (const c of chunks) {
        if (done) return;
        s.write(c);
        if (opts.gapMs !== undefined) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    });
  });
}

const get = (path: string, extra = '', method = 'GET') =>
  `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n${extra}\r\n`;

describe('the raw HTTP/1.1 front', () => {
  let wire: TestServer;
  let plain: TestServer;
  let rel: FixtureRelease;
  let tile200: string;
  /** tiles nobody asked for before the test that reads them cold */
  const coldTiles: string[] = [];
  let tile204: string;
  let tile404: string;
  let tileEtag: string;
  let archive: string;
  let immutable: string;

  beforeAll(async () => {
    const archives = await makeArchives(dir, 'wire');
    wire = await startTestServer({ config: { releaseRecheckMs: 60_000 } });
    plain = await startTestServer({
      db: wire.db,
      blob: wire.blob,
      bus: wire.bus,
      config: { releaseRecheckMs: 60_000, wire: false },
    });
    expect(wire.wire).toBeDefined();
    expect(plain.wire).toBeUndefined();
    rel = await releaseFixture({ blob: wire.blob, db: wire.db, archives, bus: wire.bus });
    for (const srv of [wire, plain])
      await waitFor(async () => (await fetch(`${srv.url}/tiles/monaco/base.json`)).status === 200);

    const reader = await PMTilesReader.openFile(rel.files.base.path);
    for await (const e of reader.entries()) {
      const [z, x, y] = tileIdToZxy(e.tileId);
      if (z >= 10) {
        const p = `/tiles/monaco/base/${z}/${x}/${y}.mvt`;
        if (tile200 === undefined) tile200 = p;
        else coldTiles.push(p);
        if (coldTiles.length === 2) break;
      }
    }
    const [w, s, e, n] = loadRegion('monaco').bbox;
    const ne = tileAt(14, e - 0.05 * (e - w), n - 0.05 * (n - s));
    tile204 = `/tiles/monaco/base/${ne.join('/')}.mvt`;
    tile404 = `/tiles/monaco/base/${tileAt(14, 0, 0).join('/')}.mvt`;
    archive = '/tiles/monaco/base.pmtiles';
    immutable = `/tiles/monaco/base-${rel.files.base.sha256}.pmtiles`;
    // warm both servers' caches (a cold read is handed to node:http: it needs the blob store)
    for (const srv of [wire, plain])
      for (const p of [tile200, tile204, tile404, archive]) await fetch(srv.url + p);
    const r = await fetch(wire.url + tile200);
    tileEtag = r.headers.get('etag')!;
    expect(r.status).toBe(200);
    expect((await fetch(wire.url + tile204)).status).toBe(204);
    expect((await fetch(wire.url + tile404)).status).toBe(404);
  });
  afterAll(async () => {
    await plain?.stop();
    await wire?.stop();
  });

  /** The same request to both servers on fresh connections: the raw answers, parsed. */
  async function both(
    chunks: (string | Buffer)[],
    opts: { expect?: number; heads?: Set<number>; gapMs?: number; timeoutMs?: number } = {},
  ) {
    const a = await exchange(wire.port, chunks, opts);
    const b = await exchange(plain.port, chunks, opts);
    return { wire: a, plain: b };
  }

  it('answers 200, 206, 304, 416, 204, 404 and HEAD itself, with the same bytes as node:http', async () => {
    const cases: [string, number, boolean?][] = [
      [get(tile200), 200],
      [get(tile200, `If-None-Match: ${tileEtag}\r\n`), 304],
      [get(tile200, `If-None-Match: "other", W/${tileEtag}\r\n`), 304],
      [get(tile204), 204],
      [get(tile404), 404],
      [get('/tiles/monaco/base/15/1/1.mvt'), 404],
      [get(tile200, '', 'HEAD'), 200, true],
      [get(archive), 200],
      [get(archive, 'Range: bytes=0-99\r\n'), 206],
      [get(archive, 'Range: bytes=-10\r\n'), 206],
      [get(archive, `Range: bytes=0-99\r\nIf-Range: "${rel.files.base.sha256}"\r\n`), 206],
      [get(archive, 'Range: bytes=0-99\r\nIf-Range: "stale"\r\n'), 200],
      [get(archive, 'Range: bytes=999999999-\r\n'), 416],
      [get(archive, `If-None-Match: "${rel.files.base.sha256}"\r\n`), 304],
      [get(archive, 'Range: bytes=0-99\r\n', 'HEAD'), 200, true],
      [get(immutable, 'Range: bytes=100-199\r\n'), 206],
      [get(`/tiles/monaco/base-%61%62.pmtiles`), 404],
    ];
    for (const [req, status, head] of cases) {
      const before = wire.wire!.answered;
      const heads = head ? new Set([0]) : undefined;
      const r = await both([req], { expect: 1, heads });
      const [ours] = parseResponses(r.wire.raw, heads);
      const [theirs] = parseResponses(r.plain.raw, heads);
      expect(ours!.status, req).toBe(status);
      expect(ours!.lines, req).toEqual(theirs!.lines);
      expect(ours!.body.equals(theirs!.body), req).toBe(true);
      expect(ours!.lines).toContain('Connection: keep-alive');
      expect(ours!.lines).toContain('Keep-Alive: timeout=65');
      // answered by the front itself, except the unknown content-addressed archive (an error: node:http's)
      expect(wire.wire!.answered - before, req).toBe(req.includes('%61') ? 0 : 1);
      if (head) expect(r.wire.raw.toString('latin1').endsWith('\r\n\r\n')).toBe(true);
    }
    const bytes = rel.files.base.bytes;
    const [range] = parseResponses(
      (await exchange(wire.port, [get(archive, 'Range: bytes=0-99\r\n')], { expect: 1 })).raw,
    );
    expect(range!.body.equals(bytes.subarray(0, 100))).toBe(true);
  });

  it('answers pipelined requests in order, handing over in the middle', async () => {
    // the tile as stored (gzip), from the server without the front
    const tile = parseResponses((await exchange(plain.port, [get(tile200)], { expect: 1 })).raw)[0]!.body;
    expect(tile.length).toBeGreaterThan(0);
    const before = { answered: wire.wire!.answered, handedOver: wire.wire!.handedOver };
    // /regions without Accept-Encoding: Express would compress it (chunked), which parseResponses does not read
    const regions = 'GET /regions HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const reqs = [get(tile200), get(archive, 'Range: bytes=10-19\r\n'), regions, get(tile204)];
    const { raw } = await exchange(wire.port, [reqs.join('')], { expect: 4 });
    const rs = parseResponses(raw);
    expect(rs.map((r) => r.status)).toEqual([200, 206, 200, 204]);
    expect(rs[0]!.body.equals(tile)).toBe(true);
    expect(rs[1]!.body.equals(rel.files.base.bytes.subarray(10, 20))).toBe(true);
    expect(
      (JSON.parse(rs[2]!.body.toString()) as { regions: { id: string }[] }).regions.map((r) => r.id),
    ).toContain('monaco');
    // the two before /regions by the front, then node:http has the connection (and the last tile) for good
    expect(wire.wire!.answered - before.answered).toBe(2);
    expect(wire.wire!.handedOver - before.handedOver).toBe(1);

    // all answered by the front: one write out, still in order
    const a0 = wire.wire!.answered;
    const three = [get(tile204), get(tile200), get(archive, 'Range: bytes=5-6\r\n')];
    const rs3 = parseResponses((await exchange(wire.port, [three.join('')], { expect: 3 })).raw);
    expect(rs3.map((r) => r.status)).toEqual([204, 200, 206]);
    expect(rs3[1]!.body.equals(tile)).toBe(true);
    expect(rs3[2]!.body.equals(rel.files.base.bytes.subarray(5, 7))).toBe(true);
    expect(wire.wire!.answered - a0).toBe(3);
  });

  it('answers a tile read from the store later, in order with what was pipelined after it', async () => {
    const before = { answered: wire.wire!.answered, handedOver: wire.wire!.handedOver };
    const reqs = [
      get(tile204),
      get(coldTiles[0]!),
      get(tile200),
      get(coldTiles[1]!, '', 'HEAD'),
      get(tile404),
    ];
    const heads = new Set([3]);
    const r = await both([reqs.join('')], { expect: 5, heads });
    const ours = parseResponses(r.wire.raw, heads);
    const theirs = parseResponses(r.plain.raw, heads);
    expect(ours.map((x) => x.status)).toEqual([204, 200, 200, 200, 404]);
    expect(ours.map((x) => x.lines)).toEqual(theirs.map((x) => x.lines));
    for (let i = 0; i < 5; i++) expect(ours[i]!.body.equals(theirs[i]!.body), `response ${i}`).toBe(true);
    expect(wire.wire!.answered - before.answered).toBe(5);
    expect(wire.wire!.handedOver - before.handedOver).toBe(0);
  });

  it('keeps the Date of kept responses current', async () => {
    const dateOf = async (req: string) => {
      const { raw } = await exchange(wire.port, [req], { expect: 1 });
      return Date.parse(/\r\nDate: ([^\r]*)/.exec(raw.toString('latin1'))![1]!);
    };
    for (const req of [get(tile200), get(archive, 'Range: bytes=0-99\r\n')]) {
      await dateOf(req);
      await new Promise((r) => setTimeout(r, 1100));
      expect(Math.abs((await dateOf(req)) - Date.now()), req).toBeLessThan(1000);
    }
  });

  it('reads a request sent one byte at a time, and a second one after it', async () => {
    const req = get(tile200);
    const chunks = [...Buffer.from(req + get(tile204))].map((b) => Buffer.from([b]));
    const a0 = wire.wire!.answered;
    const r = await both(chunks, { expect: 2, gapMs: 1 });
    const ours = parseResponses(r.wire.raw);
    const theirs = parseResponses(r.plain.raw);
    expect(ours.map((x) => x.status)).toEqual([200, 204]);
    expect(ours.map((x) => x.lines)).toEqual(theirs.map((x) => x.lines));
    expect(ours[0]!.body.equals(theirs[0]!.body)).toBe(true);
    expect(wire.wire!.answered - a0).toBe(2);
  });

  it('hands requests with a body, Transfer-Encoding or HTTP/1.0 to node:http: the same answers as without it', async () => {
    const inputs = [
      `GET ${tile200} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello` + get(tile204),
      `GET ${tile200} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n` +
        get(tile204),
      `GET ${tile200} HTTP/1.0\r\nHost: x\r\n\r\n`,
      `GET ${tile200} HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n`,
      `GET ${tile200} HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n`,
      `GET ${tile200} HTTP/1.1\r\n\r\n`,
      `POST ${tile200} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
      `GET /live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
    ];
    for (const input of inputs) {
      const h0 = wire.wire!.handedOver;
      const r = await both([input], { timeoutMs: 500 });
      expect(r.wire.raw.length, input).toBeGreaterThan(0);
      const norm = (b: Buffer) => b.toString('latin1').replace(/Date: [^\r]*/g, 'Date: <date>');
      expect(norm(r.wire.raw), input).toBe(norm(r.plain.raw));
      expect(r.wire.closedByServer, input).toBe(r.plain.closedByServer);
      expect(wire.wire!.handedOver - h0, input).toBe(1);
    }
  });

  it('gives garbage and an oversized head the answers node:http gives, and keeps serving', async () => {
    const inputs: (string | Buffer)[] = [
      Buffer.from([0, 1, 2, 3, 13, 10, 13, 10]),
      'garbage garbage\r\n\r\n',
      'GET /tiles/x HTTP/1.1\nHost: x\n\n',
      `GET ${tile200} HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n`,
      `GET ${tile200} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      `GET ${tile200} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(12_000)}\r\n\r\n`,
    ];
    for (const input of inputs) {
      const r = await both([input], { timeoutMs: 1000 });
      const norm = (b: Buffer) => b.toString('latin1').replace(/Date: [^\r]*/g, 'Date: <date>');
      expect(norm(r.wire.raw), String(input).slice(0, 40)).toBe(norm(r.plain.raw));
      expect(r.wire.closedByServer).toBe(r.plain.closedByServer);
      expect((await fetch(wire.url + tile200)).status).toBe(200);
    }
    expect(
      parseResponses((await exchange(wire.port, [inputs[0]!], { timeoutMs: 1000 })).raw)[0]!.status,
    ).toBe(400);
  });

  it('closes after answering a request that says Connection: close', async () => {
    const a0 = wire.wire!.answered;
    const r = await both([get(tile200, 'Connection: close\r\n') + get(tile204)], { timeoutMs: 2000 });
    expect(r.wire.closedByServer).toBe(true);
    const ours = parseResponses(r.wire.raw);
    const theirs = parseResponses(r.plain.raw);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.lines).toContain('Connection: close');
    expect(ours[0]!.lines).not.toContain('Keep-Alive: timeout=65');
    expect(ours[0]!.lines).toEqual(theirs[0]!.lines);
    expect(ours[0]!.body.equals(theirs[0]!.body)).toBe(true);
    expect(wire.wire!.answered - a0).toBe(1);
  });

  it('counts its requests in the request histogram with the routes of node:http', async () => {
    const count = async (route: string, status: string) => {
      const m = await wire.ctx.metrics.httpDuration.get();
      return (
        m.values.find(
          (v) =>
            v.metricName === 'weft_http_request_duration_seconds_count' &&
            v.labels.route === route &&
            v.labels.method === 'GET' &&
            v.labels.status === status,
        )?.value ?? 0
      );
    };
    const tileRoute = '/tiles/:region/:layer/:z/:x/:y.mvt';
    const archiveRoute = '/tiles/:region/:layer.pmtiles';
    const t0 = await count(tileRoute, '200');
    const r0 = await count(archiveRoute, '206');
    const a0 = wire.wire!.answered;
    await exchange(wire.port, [get(tile200).repeat(3) + get(archive, 'Range: bytes=0-1\r\n')], { expect: 4 });
    expect(wire.wire!.answered - a0).toBe(4);
    expect((await count(tileRoute, '200')) - t0).toBe(3);
    expect((await count(archiveRoute, '206')) - r0).toBe(1);
    const text = await (await fetch(`${wire.url}/metrics`)).text();
    expect(text).toContain(`route="${tileRoute}"`);
    // and the debug request log, as node:http's path writes it
    const logged = wire.logs.filter((l) => l.msg === 'request' && l.route === tileRoute && l.status === 200);
    expect(logged.length).toBeGreaterThanOrEqual(3);
    expect(logged.at(-1)).toMatchObject({
      level: 'debug',
      method: 'GET',
      path: tile200,
      net: '127.0.0.0/24',
    });
  });

  it('survives a client reset, closes idle connections and stalled heads as node:http would', async () => {
    // a client that resets mid-exchange: no crash, the server keeps answering
    await new Promise<void>((resolve) => {
      const s = connect(wire.port, '127.0.0.1', () => {
        s.write(get(tile200).repeat(50));
        setTimeout(() => {
          s.resetAndDestroy();
          resolve();
        }, 5);
      });
      s.on('error', () => {});
    });
    expect((await fetch(wire.url + tile200)).status).toBe(200);

    const { server } = wire;
    const keepAlive = server.keepAliveTimeout;
    const headers = server.headersTimeout;
    server.keepAliveTimeout = 300;
    server.headersTimeout = 300;
    try {
      const a0 = wire.wire!.answered;
      const idle = await exchange(wire.port, [get(tile200)], { timeoutMs: 4000 });
      expect(idle.closedByServer).toBe(true);
      expect(wire.wire!.answered - a0).toBe(1);
      expect(parseResponses(idle.raw).map((r) => r.status)).toEqual([200]);
      const stalled = await exchange(wire.port, [`GET ${tile200} HTTP/1.1\r\nHost: x\r\n`], {
        timeoutMs: 4000,
      });
      expect(stalled.closedByServer).toBe(true);
      expect(parseResponses(stalled.raw).map((r) => r.status)).toEqual([400]);
    } finally {
      server.keepAliveTimeout = keepAlive;
      server.headersTimeout = headers;
    }
    expect(wire.wire!.connections).toBe(0);
  });
});

describe('the raw front with an answerer that fails', () => {
  it('hands a request whose answer throws to node:http, and keeps answering on the front', async () => {
    const { createServer } = await import('node:http');
    const { pino } = await import('pino');
    const { createMetrics } = await import('../../serve/metrics.js');
    const { installWire } = await import('../../serve/wire.js');
    const server = createServer((req, res) => {
      const body = `node:${req.url}`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
    const head = Buffer.from(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n',
      'latin1',
    );
    const front = installWire({
      server,
      metrics: createMetrics(),
      logger: pino({ level: 'silent' }),
      trustProxy: false,
      answerer: {
        answer(_method, path) {
          if (path === '/boom') throw new Error('broken answerer');
          if (path === '/wire')
            return { status: 200, route: '/wire', head, body: Buffer.from('front'), stable: true };
          return undefined;
        },
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const first = await exchange(port, [get('/wire') + get('/wire')], { expect: 2 });
      expect(parseResponses(first.raw).map((r) => r.body.toString())).toEqual(['front', 'front']);
      // the throwing answer: node:http answers it (and what follows on that connection)
      const boom = await exchange(port, [get('/boom') + get('/wire')], { expect: 2 });
      expect(parseResponses(boom.raw).map((r) => r.body.toString())).toEqual(['node:/boom', 'node:/wire']);
      // the process is still up and a new connection is the front's again
      const after = await exchange(port, [get('/wire')], { expect: 1 });
      expect(parseResponses(after.raw).map((r) => r.body.toString())).toEqual(['front']);
      expect(front.handedOver).toBe(1);
      expect(front.answered).toBe(3);
    } finally {
      front.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
