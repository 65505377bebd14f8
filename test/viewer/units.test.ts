// The viewer's pure parts, without a browser: view options and the light/full choice, the boot JSON and page CSP,
// the style preparation (offline rewrite, layers, live sources and labels), the tar index and pack opening over a
// Blob, the live client's ordering, resume-with-since, backoff and HTTP fallback against a scripted socket, the
// filters hiding the tiles' copies of what live deltas own (evaluated by MapLibre's own filter code), the light
// path's nodes in view, and the offline shell's request rules.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootJson, pageCsp, renderPage, type BootConfig } from '../../serve/viewer/page.js';
import { chooseMode, parseViewParams, viewQuery } from '../../viewer/src/boot/params.js';
import { LiveClient, backoffDelay, liveUrl, type SocketLike } from '../../viewer/src/full/live.js';
import { describeNode, inViewSummary, summaryOf } from '../../viewer/src/full/nodes.js';
import { LIVE, kindsOf, prepareStyle, type Style } from '../../viewer/src/full/style.js';
import { openPack } from '../../viewer/src/offline/pack.js';
import { readTarIndex } from '../../viewer/src/offline/tar.js';
import { featureFilter } from '@maplibre/maplibre-gl-style-spec';
import { threadFeatureId } from '../../pipeline/profiles/activity.js';
import {
  Owned,
  classifyFilter,
  hidingFilter,
  idsTouched,
  ownedFilters,
  threadTileId,
} from '../../viewer/src/full/owned.js';
import { nodesInView, type TileOfFeatures } from '../../viewer/src/light/in-view.js';

import { CACHES, rangeKey, route, standInPage, warmList } from '../../viewer/src/sw/rules.js';
import { HAS_SHARED, sharedPath } from '../helpers/shared.js';
import { tempDir } from '../helpers/tmp.js';

describe('view options', () => {
  it('parses every option and reports bad ones without failing', () => {
    const { options, problems } = parseViewParams(
      new URLSearchParams(
        'region=monaco&mode=light&center=7.42,43.73&zoom=13.5&layers=base,live&interactive=0',
      ),
    );
    expect(options).toEqual({
      region: 'monaco',
      mode: 'light',
      center: [7.42, 43.73],
      zoom: 13.5,
      layers: ['base', 'live'],
      interactive: false,
    });
    expect(problems).toEqual([]);
    const bad = parseViewParams(
      new URLSearchParams('region=Mon aco&mode=fast&center=200,1&zoom=x&layers=base,roads&interactive=maybe'),
    );
    expect(bad.options).toEqual({ layers: ['base'], interactive: true });
    expect(bad.problems).toHaveLength(6);
    expect(parseViewParams(new URLSearchParams('mode=auto')).options.mode).toBeUndefined();
  });

  it('round-trips through viewQuery', () => {
    const o = {
      region: 'monaco',
      mode: 'full' as const,
      center: [7.4, 43.7] as [number, number],
      zoom: 12,
      layers: ['activity' as const],
      interactive: false,
    };
    expect(parseViewParams(new URLSearchParams(viewQuery(o))).options).toEqual(o);
  });

  it('chooses the light path on weak devices or save-data, unless asked', () => {
    expect(chooseMode(undefined, { hardwareConcurrency: 2, deviceMemory: 2 })).toBe('light');
    expect(chooseMode(undefined, { hardwareConcurrency: 2, deviceMemory: 4 })).toBe('full');
    expect(chooseMode(undefined, { hardwareConcurrency: 8, deviceMemory: 1 })).toBe('full');
    expect(chooseMode(undefined, { hardwareConcurrency: 2 })).toBe('full');
    expect(chooseMode(undefined, { hardwareConcurrency: 8, deviceMemory: 8, saveData: true })).toBe('light');
    expect(chooseMode('full', { hardwareConcurrency: 1, deviceMemory: 1, saveData: true })).toBe('full');
    expect(chooseMode('light', { hardwareConcurrency: 16, deviceMemory: 8 })).toBe('light');
  });
});

describe('served pages', () => {
  const boot: BootConfig = {
    regions: [],
    websockets: true,
    attribution: '</script><script>alert(1)</script> & co',
  };
  it('puts the boot JSON in the head, unable to close its script element', () => {
    const html = renderPage('<html><head><title>x</title></head><body></body></html>', boot);
    expect(html).toContain('<script type="application/json" id="weft-boot">');
    expect(html.indexOf('weft-boot')).toBeLessThan(html.indexOf('</head>'));
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(JSON.parse(bootJson(boot))).toEqual(boot);
  });
  it('lets any site frame /embed but only itself frame /', () => {
    expect(pageCsp('embed')).toContain('frame-ancestors *');
    expect(pageCsp('app')).toContain("frame-ancestors 'self'");
    for (const kind of ['app', 'embed'] as const) {
      expect(pageCsp(kind)).toContain("script-src 'self'");
      expect(pageCsp(kind)).not.toContain('unsafe');
    }
  });
});

const STYLE: Style = {
  version: 8,
  glyphs: 'https://h/fonts/{fontstack}/{range}.pbf',
  sources: {
    base: { type: 'vector', url: 'https://h/tiles/monaco/base.json' },
    activity: { type: 'vector', url: 'https://h/tiles/monaco/activity.json' },
  },
  layers: [
    { id: 'bg', type: 'background' },
    { id: 'streets', type: 'line', source: 'base', 'source-layer': 'streets' },
    {
      id: 'labels',
      type: 'symbol',
      source: 'base',
      'source-layer': 'place_labels',
      layout: { 'text-font': ['Noto Sans Regular'] },
    },
    { id: 'nodes', type: 'circle', source: 'activity', 'source-layer': 'nodes' },
  ],
};

describe('style preparation', () => {
  it('promotes node ids, adds the live sources and layers, keeps the input untouched', () => {
    const s = prepareStyle(STYLE, { layers: ['base', 'activity', 'live'], attribution: '© OSM' });
    expect(kindsOf(s)).toEqual({ base: ['base'], activity: ['activity'] });
    expect(s.sources.activity!.promoteId).toEqual({ nodes: 'id' });
    expect(s.sources.base!.attribution).toBe('© OSM');
    expect(s.sources[LIVE.nodes]).toMatchObject({ type: 'geojson', promoteId: 'id' });
    expect(s.layers.map((l) => l.id).slice(-4)).toEqual([
      LIVE.threads,
      LIVE.nodes,
      `${LIVE.presence}-ring`,
      `${LIVE.presence}-count`,
    ]);
    expect(s.layers.at(-1)!.layout!['text-font']).toEqual(['Noto Sans Regular']);
    expect(STYLE.sources.activity!.promoteId).toBeUndefined();
  });
  it('leaves out the layers not asked for', () => {
    const s = prepareStyle(STYLE, { layers: ['activity'], attribution: '' });
    expect(Object.keys(s.sources)).toEqual(['activity']);
    expect(s.layers.map((l) => l.id)).toEqual(['bg', 'nodes']);
  });
  it('offline: points the sources into the pack and the glyphs at the caching protocol', () => {
    const s = prepareStyle(STYLE, {
      layers: ['base', 'activity'],
      offline: {
        base: 'pmtiles://weft-pack/monaco/base.pmtiles',
        activity: 'pmtiles://weft-pack/monaco/activity.pmtiles',
      },
      glyphs: 'weft-glyphs://{fontstack}/{range}',
      attribution: '© OSM',
    });
    expect(s.sources.base).toEqual({
      type: 'vector',
      url: 'pmtiles://weft-pack/monaco/base.pmtiles',
      attribution: '© OSM',
    });
    expect(s.sources.activity!.url).toBe('pmtiles://weft-pack/monaco/activity.pmtiles');
    expect(s.glyphs).toBe('weft-glyphs://{fontstack}/{range}');
    expect(JSON.stringify(s)).not.toContain('https://');
  });
});

describe('node descriptions', () => {
  it('says a node state in words', () => {
    const s = summaryOf(
      { id: 'n-1', title: 'Garden', kind: 'place', fade: 0.5, threads: 1, open_proposals: 2 },
      3,
    )!;
    expect(describeNode(s)).toBe(
      'Garden, place, fading activity, 1 thread, 2 open proposals, 3 people looking',
    );
    expect(summaryOf({ count: 12 })).toBeUndefined();
  });
});

describe('tar index and packs', () => {
  it('lists archives made by tar(1): ustar prefix names and pax long names', async () => {
    const dir = tempDir('weft-viewer-tar-');
    writeFileSync(path.join(dir, 'pack.json'), '{"a":1}\n');
    const split = `styles/${'d'.repeat(90)}/${'x'.repeat(40)}.json`; // > 100 characters: ustar's prefix field
    const long = `${'p'.repeat(150)}.pmtiles`; // one 158-character name: only pax can hold it
    mkdirSync(path.dirname(path.join(dir, split)), { recursive: true });
    writeFileSync(path.join(dir, split), 'y'.repeat(1000));
    writeFileSync(path.join(dir, long), 'z'.repeat(513));
    for (const [format, names] of [
      ['ustar', ['pack.json', split]],
      ['pax', ['pack.json', split, long]],
    ] as const) {
      execFileSync('tar', [`--format=${format}`, '-cf', `${format}.tar`, ...names], { cwd: dir });
      const bytes = readFileSync(path.join(dir, `${format}.tar`));
      const read = async (o: number, n: number) => new Uint8Array(bytes.subarray(o, o + n));
      const entries = await readTarIndex(read, bytes.length);
      expect(entries.map((e) => e.name)).toEqual(names);
      expect(entries.map((e) => e.size)).toEqual([8, 1000, 513].slice(0, names.length));
      expect(bytes.subarray(entries[1]!.offset, entries[1]!.offset + 3).toString()).toBe('yyy');
      await expect(readTarIndex(read, entries[1]!.offset + 10)).rejects.toThrow(/past the end/);
    }
    const notTar = new Uint8Array(2048).fill(7);
    await expect(readTarIndex(async (o, n) => notTar.subarray(o, o + n), notTar.length)).rejects.toThrow(
      /checksum/,
    );
  });

  it.skipIf(!HAS_SHARED)('opens a pack from a Blob and reads its archive through pmtiles', async () => {
    const dir = tempDir('weft-viewer-pack-');
    const manifest = {
      schema: 'weft.pack/1',
      region: 'firenze',
      name: 'Firenze',
      release: 'r1',
      at: '2025-01-01T00:00:00Z',
      bbox: [11.1, 43.7, 11.4, 43.9],
      center: [11.25, 43.77, 12],
      minzoom: 0,
      maxzoom: 14,
      attribution: '© OpenStreetMap contributors',
      files: [],
    };
    writeFileSync(path.join(dir, 'pack.json'), JSON.stringify(manifest));
    copyFileSync(
      sharedPath('pmtiles/protomaps_vector_ODbL_firenze_v2023-01.pmtiles'),
      path.join(dir, 'base.pmtiles'),
    );
    execFileSync('tar', ['--format=ustar', '-cf', 'f.weftpack', 'pack.json', 'base.pmtiles'], { cwd: dir });
    const pack = await openPack(new Blob([readFileSync(path.join(dir, 'f.weftpack'))]));
    expect(pack.manifest.region).toBe('firenze');
    const header = await pack.archives.get('base')!.getHeader();
    expect(header.maxZoom).toBeGreaterThan(10);
    const tile = await pack.archives
      .get('base')!
      .getZxy(header.centerZoom, ...tileOf(header.centerLon, header.centerLat, header.centerZoom));
    expect(tile?.data.byteLength ?? 0).toBeGreaterThan(100);
    await expect(
      openPack(new Blob([readFileSync(path.join(dir, 'base.pmtiles')).subarray(0, 4096)])),
    ).rejects.toThrow();
  });
});

function tileOf(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const r = (lat * Math.PI) / 180;
  return [
    Math.floor(((lon + 180) / 360) * n),
    Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n),
  ];
}

/** A scripted socket: the test opens, sends frames, and closes it. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(msg: unknown) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  send(text: string) {
    this.sent.push(text);
  }
  close(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function harness(opts: { since?: number; websockets?: boolean; fetch?: typeof fetch } = {}) {
  const sockets: FakeSocket[] = [];
  const timers: { ms: number; f: () => void }[] = [];
  const deltas: number[] = [];
  const client = new LiveClient({
    origin: 'https://maps.example.org',
    region: 'monaco',
    since: opts.since,
    websockets: opts.websockets ?? true,
    onDelta: (d) => deltas.push(d.position),
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    fetch: opts.fetch,
    random: () => 1,
    setTimeout: (f, ms) => timers.push({ ms, f }),
    clearTimeout: () => {},
  });
  return { client, sockets, timers, deltas };
}

const delta = (position: number) => ({
  type: 'delta',
  region: 'monaco',
  position,
  event: 'NodeCreated',
  at: '',
  diffs: {},
});

describe('live client', () => {
  it('hands deltas on once, in order, and resumes with since after a drop', () => {
    const h = harness({ since: 10 });
    h.client.start();
    expect(h.sockets[0]!.url).toBe('wss://maps.example.org/live?region=monaco&since=10');
    h.sockets[0]!.open();
    h.sockets[0]!.frame({ type: 'hello', region: 'monaco', position: 15 });
    for (const p of [11, 12, 12, 11, 13]) h.sockets[0]!.frame(delta(p));
    h.sockets[0]!.frame({ type: 'caught-up', position: 15 });
    expect(h.deltas).toEqual([11, 12, 13]);
    expect(h.client.state).toEqual({ transport: 'ws', connected: true, position: 15 });
    h.client.look('n-1');
    expect(JSON.parse(h.sockets[0]!.sent.at(-1)!)).toEqual({ type: 'look', nodeId: 'n-1' });

    h.sockets[0]!.close();
    expect(h.client.state.connected).toBe(false);
    expect(h.timers.map((t) => t.ms)).toEqual([500]);
    h.timers.shift()!.f();
    expect(h.sockets[1]!.url).toBe('wss://maps.example.org/live?region=monaco&since=15');
    h.sockets[1]!.open();
    h.sockets[1]!.frame({ type: 'hello', region: 'monaco', position: 16 });
    // the presence interest survives the reconnect
    expect(h.sockets[1]!.sent.map((t) => JSON.parse(t) as unknown)).toContainEqual({
      type: 'look',
      nodeId: 'n-1',
    });
    h.sockets[1]!.frame(delta(16));
    expect(h.deltas).toEqual([11, 12, 13, 16]);
    h.client.stop();
  });

  it('starts at the server head without since, and backs off exponentially', () => {
    const h = harness();
    h.client.start();
    expect(h.sockets[0]!.url).toBe('wss://maps.example.org/live?region=monaco');
    h.sockets[0]!.open();
    h.sockets[0]!.frame({ type: 'hello', region: 'monaco', position: 40 });
    h.sockets[0]!.close();
    h.timers.shift()!.f();
    h.sockets[1]!.close();
    h.timers.shift()!.f();
    expect(h.sockets[2]!.url).toContain('since=40');
    expect(backoffDelay(0, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 30_000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(3, 500, 30_000, () => 0)).toBe(2000);
    expect(liveUrl('http://h:8080', 'a b', 3, [1, 2, 3, 4])).toBe(
      'ws://h:8080/live?region=a+b&since=3&bbox=1%2C2%2C3%2C4',
    );
    h.client.stop();
  });

  it('falls back to /api/deltas when the socket never says hello, or when WebSockets are off', async () => {
    const asked: string[] = [];
    let answered = 0;
    const fakeFetch = (async (url: string) => {
      asked.push(url);
      answered++;
      const body =
        answered === 1 ? { position: 21, deltas: [delta(20), delta(21)] } : { position: 21, deltas: [] };
      if (answered > 2) await new Promise(() => {});
      return new Response(JSON.stringify(body), { status: 200 });
    }) as unknown as typeof fetch;
    const h = harness({ since: 19, fetch: fakeFetch });
    h.client.start();
    for (let i = 0; i < 3; i++) {
      h.sockets[i]!.close();
      h.timers.shift()?.f();
    }
    expect(h.sockets).toHaveLength(3);
    await expect.poll(() => h.deltas).toEqual([20, 21]);
    expect(h.client.state.transport).toBe('http');
    expect(asked[0]).toBe('https://maps.example.org/api/deltas?region=monaco&since=19&wait=0');
    expect(asked[1]).toBe('https://maps.example.org/api/deltas?region=monaco&since=21&wait=25');
    h.client.stop();

    const off = harness({ websockets: false, fetch: fakeFetch });
    answered = 5;
    off.client.start();
    expect(off.sockets).toHaveLength(0);
    await expect.poll(() => asked.at(-1)).toBe('https://maps.example.org/api/deltas?region=monaco&wait=0');
    off.client.stop();
  });
});

describe('tile copies of what live deltas own', () => {
  const T1 = 't-0123456789abcdef01234567';
  const T2 = 't-fedcba9876543210fedcba98';
  /** whether a layer filter keeps a feature, as MapLibre evaluates it */
  const keeps = (filter: unknown, f: { id?: number | string; properties: Record<string, unknown> }) =>
    filter === undefined ||
    featureFilter(filter as never, 'layers[0].filter').filter({ zoom: 14 }, { type: 1, ...f } as never);

  it('collects every id a diff touches; thread ids map to the tiles’ numeric feature ids', () => {
    expect(idsTouched({ add: [{ id: 'n-1' }], update: [{ id: 'n-2' }], remove: ['n-3', 7] }).sort()).toEqual([
      '7',
      'n-1',
      'n-2',
      'n-3',
    ]);
    expect(idsTouched(undefined)).toEqual([]);
    // the same number the activity build writes as the MVT feature id
    expect(threadTileId(T1)).toBe(threadFeatureId(T1));
    expect(threadTileId(T2)).toBe(threadFeatureId(T2));
    expect(Number.isSafeInteger(threadTileId(T2))).toBe(true);
    expect(threadTileId('n-1')).toBeUndefined();
    const owned = new Owned();
    expect(owned.take({ nodes: { add: [{ id: 'n-1' }] }, threads: { remove: [T1] } })).toBe(true);
    expect(owned.take({ nodes: { remove: ['n-1'] } })).toBe(false);
    expect([...owned.nodes]).toEqual(['n-1']);
    expect([...owned.threads]).toEqual([threadFeatureId(T1)]);
  });

  it('classifies filters the way MapLibre does', () => {
    expect(classifyFilter(['has', 'title'])).toBe('neutral');
    expect(classifyFilter(['>', ['coalesce', ['get', 'open_proposals'], 0], 0])).toBe('expression');
    expect(classifyFilter(['==', 'kind', 'place'])).toBe('legacy');
    expect(classifyFilter(['all', ['has', 'title'], ['==', 'kind', 'place']])).toBe('legacy');
    expect(classifyFilter(['in', 'kind', 'a', 'b'])).toBe('legacy');
    expect(classifyFilter(['in', ['get', 'kind'], ['literal', ['a']]])).toBe('expression');
  });

  it('hides owned nodes by their id and owned threads by their feature id, keeping the layer’s own filter', () => {
    const nodes = ['n-1', 'n-2'];
    for (const original of [
      undefined,
      ['has', 'title'],
      ['>', ['coalesce', ['get', 'open_proposals'], 0], 0],
      ['==', 'kind', 'place'],
    ]) {
      const f = hidingFilter(original, 'nodes', nodes);
      const open = { title: 'x', kind: 'place', open_proposals: 1 };
      expect(keeps(f, { properties: { ...open, id: 'n-1' } }), JSON.stringify(original)).toBe(false);
      expect(keeps(f, { properties: { ...open, id: 'n-3' } }), JSON.stringify(original)).toBe(true);
      // a count cell (no id) stays
      expect(keeps(f, { properties: { ...open, count: 4 } }), JSON.stringify(original)).toBe(true);
      // the layer's own filter still applies
      expect(keeps(f, { properties: { kind: 'topic', id: 'n-3' } })).toBe(original === undefined);
    }
    const t = hidingFilter(undefined, 'threads', [threadFeatureId(T1)]);
    expect(keeps(t, { id: threadFeatureId(T1), properties: { node_id: 'n-1' } })).toBe(false);
    expect(keeps(t, { id: threadFeatureId(T2), properties: { node_id: 'n-1' } })).toBe(true);
    const legacyT = hidingFilter(['==', 'node_id', 'n-1'], 'threads', [threadFeatureId(T1)]);
    expect(keeps(legacyT, { id: threadFeatureId(T1), properties: { node_id: 'n-1' } })).toBe(false);
    expect(keeps(legacyT, { id: threadFeatureId(T2), properties: { node_id: 'n-1' } })).toBe(true);
    // nothing owned: the layer keeps its filter as it was
    expect(hidingFilter(['has', 'title'], 'nodes', [])).toEqual(['has', 'title']);
  });

  it('filters every activity layer of nodes and threads, and no other layer', () => {
    const owned = new Owned();
    owned.take({ nodes: { add: [{ id: 'n-1' }] }, threads: { add: [{ id: T1 }] } });
    const filters = ownedFilters(
      [
        { id: 'streets', source: 'base', 'source-layer': 'streets' },
        { id: 'activity-threads', source: 'activity', 'source-layer': 'threads' },
        { id: 'activity-nodes', source: 'activity', 'source-layer': 'nodes' },
        { id: 'activity-labels', source: 'activity', 'source-layer': 'nodes', filter: ['has', 'title'] },
        { id: LIVE.nodes, source: LIVE.nodes },
      ],
      ['activity'],
      owned,
    );
    expect([...filters.keys()]).toEqual(['activity-threads', 'activity-nodes', 'activity-labels']);
    expect(keeps(filters.get('activity-labels'), { properties: { id: 'n-1', title: 'x' } })).toBe(false);
    expect(keeps(filters.get('activity-threads'), { id: threadFeatureId(T1), properties: {} })).toBe(false);
  });

  it('draws the style’s node labels for live nodes too', () => {
    const style: Style = {
      ...STYLE,
      layers: [
        ...STYLE.layers,
        {
          id: 'activity-labels',
          type: 'symbol',
          source: 'activity',
          'source-layer': 'nodes',
          filter: ['has', 'title'],
          metadata: { 'weft:placement': 'x' },
          layout: { 'text-field': ['get', 'title'], 'text-font': ['Noto Sans Bold'] },
        },
      ],
    };
    const s = prepareStyle(style, { layers: ['base', 'activity', 'live'], attribution: '' });
    const copy = s.layers.find((l) => l.id === `${LIVE.nodes}-activity-labels`)!;
    expect(copy).toEqual({
      id: `${LIVE.nodes}-activity-labels`,
      type: 'symbol',
      source: LIVE.nodes,
      filter: ['has', 'title'],
      layout: { 'text-field': ['get', 'title'], 'text-font': ['Noto Sans Bold'] },
    });
    // above the live circles
    expect(s.layers.indexOf(copy)).toBeGreaterThan(s.layers.findIndex((l) => l.id === LIVE.nodes));
    // no glyphs, no labels
    const { glyphs: _g, ...noGlyphs } = style;
    expect(
      prepareStyle(noGlyphs as Style, { layers: ['activity', 'live'], attribution: '' }).layers.some((l) =>
        l.id.startsWith(`${LIVE.nodes}-`),
      ),
    ).toBe(false);
  });
});

describe('light path: nodes in view', () => {
  const node = (x: number, y: number, props: Record<string, unknown>) => ({
    geomType: 1,
    geom: [[{ x, y }]],
    props,
  });
  // two data tiles side by side at scale 0.5: world x = origin + tile x × 0.5
  const tiles: TileOfFeatures[] = [
    {
      origin: { x: 1000, y: 2000 },
      scale: 0.5,
      data: new Map([
        [
          'nodes',
          [
            node(100, 100, { id: 'n-a', title: 'A' }), // (1050, 2050): in view
            node(500, 100, { id: 'n-b', title: 'B' }), // (1250, 2050): right of the view
            node(20, 20, { count: 7 }), // (1010, 2010): a cell of 7, in view
          ],
        ],
        ['threads', [{ geomType: 2, geom: [[{ x: 0, y: 0 }]], props: { id: 'n-z' } }]],
      ]),
    },
    {
      origin: { x: 1000, y: 2000 },
      scale: 0.5,
      // the same node again (a tile's buffer): listed once
      data: new Map([['nodes', [node(100, 100, { id: 'n-a', title: 'A' })]]]),
    },
  ];
  it('places tile points in world pixels, keeps those in view once, and sums count cells', () => {
    const got = nodesInView(tiles, { minX: 1000, minY: 2000, maxX: 1200, maxY: 2200 });
    expect(got.nodes.map((n) => [n.props.id, n.x, n.y])).toEqual([['n-a', 1050, 2050]]);
    expect(got.counted).toBe(7);
    expect(nodesInView(tiles, { minX: 0, minY: 0, maxX: 10, maxY: 10 })).toEqual({ nodes: [], counted: 0 });
  });
  it('summarises the list in words', () => {
    expect(inViewSummary(0, 0, 0)).toBe('No nodes in view');
    expect(inViewSummary(1, 0, 1)).toBe('1 node in view');
    expect(inViewSummary(120, 0, 100)).toBe('120 nodes in view (first 100 listed)');
    expect(inViewSummary(0, 7, 0)).toBe('7 nodes in view (zoom in to list them)');
    expect(inViewSummary(2, 3, 2)).toBe('2 nodes in view, 3 more counted (zoom in to list them)');
  });
});

describe('offline shell rules', () => {
  const O = 'https://maps.example.org';
  const r = (url: string, more: Partial<Parameters<typeof route>[0]> = {}) =>
    route({
      method: 'GET',
      url: O + url,
      origin: O,
      mode: 'cors',
      hasRange: false,
      hasAuthorization: false,
      ...more,
    });
  it('routes pages, assets, glyphs, styles, tiles and ranges; passes writes, live deltas and sign-in', () => {
    expect(r('/?region=monaco', { mode: 'navigate' })).toEqual({ strategy: 'page', cache: CACHES.shell });
    expect(r('/embed?region=monaco', { mode: 'navigate' })).toEqual({
      strategy: 'page',
      cache: CACHES.shell,
    });
    expect(r('/regions/monaco/pack', { mode: 'navigate' }).strategy).toBe('pass');
    expect(r('/assets/viewer-abc.js')).toEqual({ strategy: 'cache-first', cache: CACHES.assets });
    expect(r('/fonts/Noto%20Sans%20Regular/0-255.pbf')).toEqual({
      strategy: 'cache-first',
      cache: CACHES.assets,
    });
    expect(r('/tiles/monaco/base/14/8530/5975.mvt')).toEqual({
      strategy: 'network-first',
      cache: CACHES.data,
    });
    expect(r('/tiles/monaco/activity.json').strategy).toBe('network-first');
    expect(r('/styles/weft.json?region=monaco')).toEqual({ strategy: 'network-first', cache: CACHES.shell });
    expect(r('/api/nodes/n-1')).toEqual({ strategy: 'network-first', cache: CACHES.data });
    expect(r('/tiles/monaco/base.pmtiles', { hasRange: true })).toEqual({
      strategy: 'range',
      cache: CACHES.data,
    });
    for (const pass of [
      r('/tiles/monaco/base.pmtiles'),
      r('/api/nodes', { method: 'POST' }),
      r('/api/nodes/n-1', { hasAuthorization: true }),
      r('/api/deltas?region=monaco&since=3'),
      r('/api/config'),
      r('/api/me'),
      r('/live?region=monaco'),
      r('/regions/monaco/pack'),
      route({
        method: 'GET',
        url: 'https://cdn.example.com/x.js',
        origin: O,
        mode: 'cors',
        hasRange: false,
        hasAuthorization: false,
      }),
    ])
      expect(pass.strategy).toBe('pass');
  });
  it('keys ranges by URL and range; finds a stand-in page; lists what a page loaded', () => {
    expect(rangeKey(`${O}/tiles/monaco/base.pmtiles`, 'bytes=0-16383')).toBe(
      `${O}/tiles/monaco/base.pmtiles?weft-range=bytes%3D0-16383`,
    );
    expect(rangeKey(`${O}/a.pmtiles`, 'bytes=1-2')).not.toBe(rangeKey(`${O}/a.pmtiles`, 'bytes=1-3'));
    const cached = [`${O}/?region=nice`, `${O}/?region=monaco&mode=full`, `${O}/embed?region=monaco`];
    expect(standInPage(`${O}/?region=monaco&mode=full`, cached)).toBe(`${O}/?region=monaco&mode=full`);
    expect(standInPage(`${O}/?region=monaco`, cached)).toBe(`${O}/?region=monaco&mode=full`);
    expect(standInPage(`${O}/?region=paris`, cached)).toBe(`${O}/?region=nice`);
    expect(standInPage(`${O}/embed?region=paris`, cached)).toBe(`${O}/embed?region=monaco`);
    expect(standInPage(`${O}/index.html`, cached)).toBeUndefined();
    expect(
      warmList(
        [
          `${O}/assets/a.js`,
          `${O}/assets/a.js#x`,
          `${O}/tiles/monaco/base/14/1/2.mvt`,
          `${O}/api/config`,
          'https://elsewhere.org/assets/b.js',
          'not a url at all ::',
        ],
        O,
      ),
    ).toEqual([`${O}/assets/a.js`, `${O}/tiles/monaco/base/14/1/2.mvt`]);
  });
  it('the pages allow a same-origin service worker', () => {
    for (const kind of ['app', 'embed'] as const) expect(pageCsp(kind)).toMatch(/worker-src 'self'/);
  });
});
