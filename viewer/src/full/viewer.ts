// The full viewer: MapLibre GL JS 6 with the server's style for the region (base + activity archives through the
// pmtiles protocol or TileJSON), live deltas applied to GeoJSON sources with updateData, presence rings, a node
// panel, a screen-reader list of the nodes in view, and — for a signed-in participant — creating nodes from the
// map. Also opens a region pack offline: the same map over the pack's archives, nothing from the network.
import type { BootConfig, RegionInfo } from '../boot/config.js';
import { announce, viewerHook, type QueriedFeature } from '../boot/hook.js';
import type { ViewOptions } from '../boot/params.js';
import { archiveKey, type OpenedPack } from '../offline/pack.js';
import { ApiError, api, type WriteResult } from './api.js';
import { fallbackStyle } from './fallback-style.js';
import { GLYPHS_URL, glyphCacheAvailable, setGlyphTemplate } from './glyphs.js';
import { LiveClient, type Delta, type GeoJsonDiff } from './live.js';
import { WORKER_URL, maplibregl, pmtilesProtocol } from './maplibre.js';
import { NodeList } from '../node-list.js';
import { summaryOf, type NodeSummary } from './nodes.js';
import { Owned, ownedFilters, type TileLayer } from './owned.js';
import { NodePanel } from './panel.js';
import { LIVE, kindsOf, prepareStyle, type Style } from './style.js';
import './viewer.css';

export interface FullViewerOptions {
  boot: BootConfig;
  region: RegionInfo;
  view: ViewOptions;
  /** where the node list and the panel go (a sidebar on `/`, an overlay in the embed) */
  side: HTMLElement;
  /** the participant's token, when signed in (writes from the map) */
  token?: () => string | undefined;
  /** an opened region pack: render from it, offline */
  pack?: OpenedPack;
}

export interface FullViewer {
  map: maplibregl.Map;
  live?: LiveClient;
  openNode(id: string): Promise<void>;
  /** starts "add a node": the form at the map centre; a map click moves the point */
  startCreate(): void;
  /** the URLs the map's worker fetched (tiles) and its script: for the offline shell, which sees them only once
   * it controls the worker */
  requestedUrls(): string[];
  destroy(): void;
}

type Feature = {
  type: 'Feature';
  id?: string | number;
  geometry: { type: string; coordinates: unknown };
  properties: Record<string, unknown>;
};

/** A mirror of a live GeoJSON source, so presence and the node list know the live features. */
class Mirror {
  readonly features = new Map<string, Feature>();
  apply(diff: GeoJsonDiff): void {
    for (const id of diff.remove ?? []) this.features.delete(String(id));
    for (const f of (diff.add ?? []) as Feature[]) if (f.id !== undefined) this.features.set(String(f.id), f);
    for (const u of (diff.update ?? []) as {
      id: string | number;
      newGeometry?: Feature['geometry'];
      addOrUpdateProperties?: { key: string; value: unknown }[];
      removeProperties?: string[];
    }[]) {
      const f = this.features.get(String(u.id));
      if (!f) continue;
      if (u.newGeometry) f.geometry = u.newGeometry;
      for (const p of u.addOrUpdateProperties ?? []) f.properties[p.key] = p.value;
      for (const k of u.removeProperties ?? []) delete f.properties[k];
    }
  }
  /** the diff restricted to what the source can apply (updates of features it holds) */
  applicable(diff: GeoJsonDiff): GeoJsonDiff {
    const out: GeoJsonDiff = {};
    if (diff.remove) out.remove = diff.remove.filter((id) => this.features.has(String(id)));
    if (diff.add) out.add = diff.add;
    if (diff.update)
      out.update = diff.update.filter((u) => this.features.has(String((u as { id: string }).id)));
    return out;
  }
}

async function fetchStyle(region: RegionInfo, attribution: string): Promise<Style> {
  try {
    const res = await fetch(`/styles/weft.json?region=${encodeURIComponent(region.id)}`);
    if (res.ok) return (await res.json()) as Style;
  } catch {
    // the fallback below
  }
  const origin = location.origin;
  return fallbackStyle(
    {
      base: `${origin}/tiles/${region.id}/base.json`,
      activity: `${origin}/tiles/${region.id}/activity.json`,
    },
    attribution,
  );
}

function packStyle(pack: OpenedPack, attribution: string): Style {
  const fromPack = (pack.styles.get('styles/weft.json') ?? [...pack.styles.values()][0]) as Style | undefined;
  const urls = {
    base: `pmtiles://${archiveKey(pack.manifest.region, 'base')}`,
    activity: pack.archives.has('activity')
      ? `pmtiles://${archiveKey(pack.manifest.region, 'activity')}`
      : undefined,
  };
  if (fromPack && kindsOf(fromPack).base.length) return fromPack;
  return fallbackStyle(urls, attribution);
}

async function websocketsOn(boot: BootConfig): Promise<boolean> {
  try {
    const res = await fetch('/api/config', { cache: 'no-store' });
    if (res.ok) return ((await res.json()) as { websockets?: boolean }).websockets !== false;
  } catch {
    // the page's word below
  }
  return boot.websockets;
}

export async function startFull(container: HTMLElement, o: FullViewerOptions): Promise<FullViewer> {
  const hook = viewerHook();
  hook.mode = 'full';
  hook.ready = false;
  const { region, view, boot, pack } = o;
  const attribution = pack?.manifest.attribution || boot.attribution;

  let style: Style;
  let offline: { base?: string; activity?: string } | undefined;
  if (pack) {
    for (const p of pack.archives.values()) pmtilesProtocol.add(p);
    offline = {
      base: `pmtiles://${archiveKey(pack.manifest.region, 'base')}`,
      activity: pack.archives.has('activity')
        ? `pmtiles://${archiveKey(pack.manifest.region, 'activity')}`
        : undefined,
    };
    style = packStyle(pack, attribution);
  } else style = await fetchStyle(region, attribution);

  let glyphs: string | undefined;
  if (style.glyphs && glyphCacheAvailable()) {
    setGlyphTemplate(
      new URL(style.glyphs.replace('{fontstack}', '__F__').replace('{range}', '__R__'), location.href).href
        .replace('__F__', '{fontstack}')
        .replace('__R__', '{range}'),
    );
    glyphs = GLYPHS_URL;
  }
  const layers = pack ? view.layers.filter((l) => l !== 'live') : view.layers;
  const prepared = prepareStyle(style, { layers, offline, glyphs, attribution });
  const activitySources = kindsOf(prepared).activity;

  const center = view.center ?? [region.center[0], region.center[1]];
  const requested = new Set<string>([WORKER_URL]);
  const map = new maplibregl.Map({
    container,
    transformRequest: (url, type) => {
      if (type === 'Tile' && /^https?:/.test(url) && requested.size < 5000) requested.add(url);
      return undefined;
    },
    style: prepared as unknown as maplibregl.StyleSpecification,
    center,
    zoom: view.zoom ?? region.center[2],
    interactive: view.interactive,
    attributionControl: { compact: false, customAttribution: attribution },
    maxBounds: [
      [region.bbox[0] - 0.5, region.bbox[1] - 0.5],
      [region.bbox[2] + 0.5, region.bbox[3] + 0.5],
    ],
  });
  hook.map = map;
  if (view.interactive) map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-left');
  map.getCanvas().setAttribute('aria-label', `Map of ${region.name}. Arrow keys pan, plus and minus zoom.`);
  map.on('error', (e: { error?: { message?: string } }) => {
    const msg = e.error?.message ?? String(e.error);
    hook.errors.push(msg);
    console.warn('weft map:', msg);
  });
  map.once('idle', () => {
    hook.ready = true;
    container.dataset.ready = '1';
    announce('ready');
  });
  map.on('idle', () => announce('idle'));

  // — the list of nodes in view (screen readers) and the panel —
  const side = o.side;
  side.classList.add('weft-side');
  const nodeList = new NodeList();
  const panelEl = document.createElement('div');
  const createEl = document.createElement('div');
  createEl.hidden = true;
  side.append(panelEl, createEl, ...nodeList.elements());

  const presence = new Map<string, number>();
  const mirrors = { nodes: new Mirror(), threads: new Mirror() };
  let live: LiveClient | undefined;
  const panel = new NodePanel(panelEl, {
    token: () => o.token?.(),
    presence: (id) => presence.get(id) ?? 0,
    onClose: () => {
      if (lookingAt) live?.unlook(lookingAt);
      lookingAt = undefined;
      nodeList.heading.focus();
    },
  });
  let lookingAt: string | undefined;

  const nodesInView = (): NodeSummary[] => {
    const seen = new Map<string, NodeSummary>();
    const feats = map.queryRenderedFeatures();
    for (const f of feats) {
      const isNode =
        (f.sourceLayer === 'nodes' && activitySources.includes(f.source)) || f.source === LIVE.nodes;
      if (!isNode) continue;
      const s = summaryOf(f.properties as Record<string, unknown>);
      if (!s) continue;
      s.presence = presence.get(s.id) ?? 0;
      if (f.geometry.type === 'Point') s.point = f.geometry.coordinates as [number, number];
      // a live feature is newer than the tile's copy of the same node
      if (!seen.has(s.id) || f.source === LIVE.nodes) seen.set(s.id, s);
    }
    return [...seen.values()];
  };

  let listTimer: ReturnType<typeof setTimeout> | undefined;
  const updateList = () => {
    clearTimeout(listTimer);
    listTimer = setTimeout(() => {
      nodeList.show(nodesInView(), (s) => void openNode(s.id, s.point));
    }, 250);
  };
  map.on('idle', updateList);
  map.on('moveend', updateList);

  const openNode = async (id: string, point?: [number, number]) => {
    if (lookingAt && lookingAt !== id) live?.unlook(lookingAt);
    lookingAt = id;
    live?.look(id);
    if (point) map.easeTo({ center: point, duration: 300 });
    await panel.open(id);
  };

  // — pointer: click a node —
  const nodeLayers = () =>
    (map.getStyle().layers ?? [])
      .filter(
        (l) =>
          'source' in l &&
          ((activitySources.includes(l.source as string) &&
            (l as { 'source-layer'?: string })['source-layer'] === 'nodes') ||
            l.source === LIVE.nodes),
      )
      .map((l) => l.id);
  let creating: { point: [number, number]; marker: maplibregl.Marker; coords: HTMLElement } | undefined;
  map.on('click', (e) => {
    if (creating) {
      creating.point = [e.lngLat.lng, e.lngLat.lat];
      creating.marker.setLngLat(e.lngLat);
      creating.coords.textContent = formatPoint(creating.point);
      return;
    }
    const pad = 8;
    const hits = map.queryRenderedFeatures(
      [
        [e.point.x - pad, e.point.y - pad],
        [e.point.x + pad, e.point.y + pad],
      ],
      { layers: nodeLayers() },
    );
    const id = hits
      .map((h) => (h.properties as Record<string, unknown>).id)
      .find((v) => typeof v === 'string');
    if (typeof id === 'string') void openNode(id);
  });
  map.on('mousemove', (e) => {
    if (creating) return;
    const hits = map.queryRenderedFeatures(e.point, { layers: nodeLayers() });
    map.getCanvas().style.cursor = hits.length ? 'pointer' : '';
  });

  // — live deltas —
  // the tiles' copies of what the live sources own are filtered out, so each node and thread shows once, as the
  // live source has it (or not at all once removed); the filters change at most every 100 ms
  const owned = new Owned();
  const tileLayers = (prepared.layers as TileLayer[]).map((l) => ({ ...l }));
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  const hideOwned = () => {
    filterTimer = undefined;
    for (const [id, filter] of ownedFilters(tileLayers, activitySources, owned))
      if (map.getLayer(id)) map.setFilter(id, filter as Parameters<maplibregl.Map['setFilter']>[1]);
  };
  const applyDelta = (d: Delta) => {
    if (owned.take(d.diffs)) filterTimer ??= setTimeout(hideOwned, 100);
    for (const key of ['nodes', 'threads'] as const) {
      const diff = d.diffs[key];
      if (!diff) continue;
      const src = map.getSource(key === 'nodes' ? LIVE.nodes : LIVE.threads) as
        maplibregl.GeoJSONSource | undefined;
      const applicable = mirrors[key].applicable(diff);
      mirrors[key].apply(diff);
      src?.updateData(applicable as Parameters<maplibregl.GeoJSONSource['updateData']>[0]);
    }
    if (panel.nodeId && JSON.stringify(d.diffs).includes(panel.nodeId)) void panel.refresh();
    updateList();
    if (hook.live) {
      hook.live.applied++;
      hook.live.position = d.position;
    }
  };
  const updatePresence = () => {
    const features: Feature[] = [];
    for (const [id, count] of presence) {
      if (count <= 0) continue;
      const point = nodePoint(id);
      if (point)
        features.push({
          type: 'Feature',
          id,
          geometry: { type: 'Point', coordinates: point },
          properties: { id, count },
        });
    }
    (map.getSource(LIVE.presence) as maplibregl.GeoJSONSource | undefined)?.setData({
      type: 'FeatureCollection',
      features,
    } as Parameters<maplibregl.GeoJSONSource['setData']>[0]);
    panel.updatePresence();
    updateList();
  };
  const nodePoint = (id: string): [number, number] | undefined => {
    const f = mirrors.nodes.features.get(id);
    if (f?.geometry.type === 'Point') return f.geometry.coordinates as [number, number];
    for (const source of activitySources) {
      const found = map.querySourceFeatures(source, {
        sourceLayer: 'nodes',
        filter: ['==', ['get', 'id'], id],
      });
      const g = found[0]?.geometry;
      if (g?.type === 'Point') return g.coordinates as [number, number];
    }
    return undefined;
  };
  if (view.layers.includes('live') && !pack) {
    hook.live = { transport: 'none', connected: false, applied: 0 };
    const websockets = await websocketsOn(boot);
    live = new LiveClient({
      origin: location.origin,
      region: region.id,
      since: boot.release?.eventPosition ?? undefined,
      websockets,
      onDelta: (d) => {
        if (map.isStyleLoaded() || map.getSource(LIVE.nodes)) applyDelta(d);
        else map.once('load', () => applyDelta(d));
      },
      onPresence: (p) => {
        presence.set(p.nodeId, p.count);
        updatePresence();
      },
      onStatus: (s) => {
        if (hook.live) Object.assign(hook.live, s);
        container.dataset.live = s.connected ? s.transport : 'down';
      },
    });
    live.start();
    window.addEventListener('online', onOnline);
  }
  function onOnline() {
    live?.reconnectNow();
  }

  hook.query = (): QueriedFeature[] =>
    map.queryRenderedFeatures().map((f) => ({
      source:
        f.source === LIVE.nodes || f.source === LIVE.threads
          ? 'live'
          : activitySources.includes(f.source)
            ? 'activity'
            : 'base',
      layer: f.sourceLayer ?? f.layer.id,
      styleLayer: f.layer.id,
      id:
        typeof (f.properties as Record<string, unknown>).id === 'string'
          ? ((f.properties as Record<string, unknown>).id as string)
          : undefined,
      properties: f.properties as Record<string, unknown>,
    }));

  // — creating a node (signed-in participants) —
  const startCreate = () => {
    if (creating) return;
    const c = map.getCenter();
    const point: [number, number] = [c.lng, c.lat];
    const marker = new maplibregl.Marker({ color: '#1b4f8a' }).setLngLat(point).addTo(map);
    const form = document.createElement('form');
    form.className = 'weft-create';
    const h = document.createElement('h2');
    h.textContent = 'New node';
    h.tabIndex = -1;
    const hint = document.createElement('p');
    hint.textContent = 'Click the map to place it (it starts at the map centre).';
    const coords = document.createElement('p');
    coords.className = 'weft-coords';
    coords.textContent = formatPoint(point);
    const title = document.createElement('input');
    title.name = 'title';
    title.required = true;
    title.maxLength = 120;
    const kind = document.createElement('select');
    kind.name = 'kind';
    for (const k of ['place', 'topic', 'meeting', 'project', 'concern']) kind.append(new Option(k, k));
    const labelT = document.createElement('label');
    labelT.append('Title ', title);
    const labelK = document.createElement('label');
    labelK.append('Kind ', kind);
    const submit = document.createElement('button');
    submit.type = 'submit';
    submit.textContent = 'Create node';
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.textContent = 'Cancel';
    const status = document.createElement('p');
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    form.append(h, hint, coords, labelT, labelK, submit, cancel, status);
    createEl.replaceChildren(form);
    createEl.hidden = false;
    creating = { point, marker, coords };
    const end = () => {
      creating?.marker.remove();
      creating = undefined;
      createEl.hidden = true;
      createEl.replaceChildren();
    };
    cancel.addEventListener('click', end);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = o.token?.();
      if (!token) {
        status.textContent = 'Sign in first';
        return;
      }
      status.textContent = 'Sending…';
      api<WriteResult>('/api/nodes', {
        method: 'POST',
        token,
        body: { regionId: region.id, title: title.value, kind: kind.value, point: creating?.point ?? point },
      }).then(
        (r) => {
          end();
          const id = r.ids.nodeId;
          if (id) void openNode(id);
        },
        (err: unknown) => {
          status.textContent = err instanceof ApiError ? err.message : String(err);
        },
      );
    });
    title.focus();
  };

  return {
    map,
    live,
    openNode: (id) => openNode(id),
    startCreate,
    requestedUrls: () => [...requested],
    destroy() {
      live?.stop();
      window.removeEventListener('online', onOnline);
      clearTimeout(listTimer);
      clearTimeout(filterTimer);
      map.remove();
      side.replaceChildren();
      hook.ready = false;
    },
  };
}

function formatPoint(p: [number, number]): string {
  return `${p[1].toFixed(5)}° N, ${p[0].toFixed(5)}° E`;
}
