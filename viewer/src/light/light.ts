// The light path: Leaflet + protomaps-leaflet drawing the region's vector tiles ({z}/{x}/{y}.mvt) on canvas with
// light/rules.ts — small enough for a slow phone's first load. A button swaps in the full MapLibre viewer on demand.
// Like the full viewer it lists the nodes in view for screen readers (light/list.ts) and credits the activity data
// (its TileJSON's attribution) beside OpenStreetMap.
import 'leaflet/dist/leaflet.css';
import { L } from './leaflet-global.js';
import { leafletLayer } from 'protomaps-leaflet';
import type { BootConfig, RegionInfo } from '../boot/config.js';
import { announce, viewerHook, type QueriedFeature } from '../boot/hook.js';
import type { ViewOptions } from '../boot/params.js';
import type { NodeSummary } from '../full/nodes.js';
import type { TileOfFeatures } from './in-view.js';
import { LightNodeList } from './list.js';
import { COLOURS, activityPaintRules, basePaintRules, labelRules } from './rules.js';
import './light.css';

export interface LightMap {
  destroy(): void;
}

export interface LightOptions {
  boot: BootConfig;
  region: RegionInfo;
  view: ViewOptions;
  /** where the list of the nodes in view goes (an overlay for screen readers in the embed, a sidebar on `/`) */
  side?: HTMLElement;
  /** called when the user asks for the full viewer (the button is left out without it) */
  onFull?: () => void;
}

const ATTRIBUTION =
  '<a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener">© OpenStreetMap contributors</a>';

export function startLight(container: HTMLElement, o: LightOptions): LightMap {
  const hook = viewerHook();
  hook.mode = 'light';
  hook.ready = false;
  const { region, view } = o;
  const [w, s, e, n] = region.bbox;
  const bounds = L.latLngBounds([s, w], [n, e]);
  const center = view.center ?? [region.center[0], region.center[1]];
  const map = L.map(container, {
    center: [center[1], center[0]],
    // Leaflet's zoom z shows what MapLibre shows at z - 1 (256- vs 512-px tiles): an explicit `zoom` (MapLibre's,
    // as the full viewer reads it) is matched; by default the light path opens one level wider than the full
    // viewer, on the data of one zoom level lower — half the tile bytes of the first view
    zoom: view.zoom !== undefined ? Math.round(view.zoom + 1) : region.center[2],
    minZoom: Math.max(0, region.minzoom),
    maxZoom: 18,
    maxBounds: bounds.pad(0.5),
    zoomControl: view.interactive,
    dragging: view.interactive,
    scrollWheelZoom: view.interactive,
    doubleClickZoom: view.interactive,
    touchZoom: view.interactive,
    boxZoom: view.interactive,
    keyboard: view.interactive,
    attributionControl: false,
  });
  const credits = L.control.attribution({ prefix: false }).addAttribution(ATTRIBUTION).addTo(map);
  container.setAttribute('aria-label', `Map of ${region.name}`);

  const withBase = view.layers.includes('base');
  const withActivity = view.layers.includes('activity');
  const sources: Record<string, { url: string; maxDataZoom: number }> = {};
  const tiles = (layer: string) => `/tiles/${encodeURIComponent(region.id)}/${layer}/{z}/{x}/{y}.mvt`;
  if (withBase) sources.base = { url: tiles('base'), maxDataZoom: region.maxzoom };
  if (withActivity) sources.activity = { url: tiles('activity'), maxDataZoom: Math.min(13, region.maxzoom) };
  const layer = leafletLayer({
    sources,
    paintRules: [...(withBase ? basePaintRules() : []), ...(withActivity ? activityPaintRules() : [])],
    labelRules: labelRules(withBase),
    backgroundColor: COLOURS.land,
    bounds,
    attribution: '',
  });
  let list: LightNodeList | undefined;
  layer.on('load', () => {
    const first = !hook.ready;
    hook.ready = true;
    container.dataset.ready = '1';
    if (first) announce('ready');
    list?.update();
    announce('idle');
  });
  layer.addTo(map);
  // the activity layer's credit, as its TileJSON states it (the same text the full viewer shows)
  const credit = new AbortController();
  if (withActivity)
    fetch(`/tiles/${encodeURIComponent(region.id)}/activity.json`, { signal: credit.signal })
      .then((r) => (r.ok ? (r.json() as Promise<{ attribution?: unknown }>) : undefined))
      .then((tj) => {
        if (typeof tj?.attribution === 'string' && tj.attribution)
          credits.addAttribution(escapeHtml(tj.attribution));
      })
      .catch(() => {});

  const query = (lng: number, lat: number, brush: number): QueriedFeature[] => {
    const out: QueriedFeature[] = [];
    const picked = layer.queryTileFeaturesDebug(lng, lat, brush) as Map<
      string,
      { layerName: string; feature: { props: Record<string, unknown> } }[]
    >;
    for (const [source, list] of picked)
      for (const p of list)
        out.push({
          source,
          layer: p.layerName,
          id: typeof p.feature.props.id === 'string' ? p.feature.props.id : undefined,
          properties: p.feature.props,
        });
    return out;
  };
  hook.query = () => {
    const c = map.getCenter();
    return query(c.lng, c.lat, 4096);
  };
  hook.map = map;

  const popup = (at: L.LatLng, p: Record<string, unknown>) => {
    const box = document.createElement('div');
    const title = document.createElement('strong');
    title.textContent = String(p.title ?? p.id);
    const info = document.createElement('div');
    info.textContent = `${Number(p.threads ?? 0)} threads · ${Number(p.open_proposals ?? 0)} open proposals`;
    box.append(title, info);
    L.popup().setLatLng(at).setContent(box).openOn(map);
  };
  if (view.interactive && withActivity)
    map.on('click', (ev: L.LeafletMouseEvent) => {
      const node = query(ev.latlng.lng, ev.latlng.lat, 24).find((f) => f.layer === 'nodes' && f.id);
      if (node) popup(ev.latlng, node.properties);
    });

  // — the nodes in view, for screen readers —
  const views = (layer as unknown as { views?: Map<string, ActivityView> }).views;
  let listZoom = map.getZoom();
  list =
    o.side && withActivity && views?.has('activity')
      ? new LightNodeList(o.side, {
          tiles: async () => {
            const z = map.getZoom();
            const pb = map.getPixelBounds();
            const bounds = { minX: pb.min!.x, minY: pb.min!.y, maxX: pb.max!.x, maxY: pb.max!.y };
            const tiles = await views.get('activity')!.getBbox(z, bounds);
            listZoom = z;
            return { tiles, view: bounds };
          },
          open: (s: NodeSummary, at) => {
            const ll = map.unproject(L.point(at.x, at.y), listZoom);
            map.panTo(ll);
            popup(ll, { id: s.id, title: s.title, threads: s.threads, open_proposals: s.openProposals });
          },
        })
      : undefined;
  map.on('moveend', () => list?.update());

  let button: HTMLButtonElement | undefined;
  if (o.onFull) {
    button = document.createElement('button');
    button.type = 'button';
    button.className = 'weft-full-button';
    button.textContent = 'Full map';
    button.title = 'Load the full interactive map (larger download)';
    button.addEventListener('click', () => o.onFull?.());
    container.parentElement?.appendChild(button);
  }
  return {
    destroy() {
      credit.abort();
      list?.destroy();
      map.remove();
      button?.remove();
      container.removeAttribute('data-ready');
      hook.ready = false;
    },
  };
}

/** What the list needs of protomaps-leaflet's View (the source's tiles for a view). */
interface ActivityView {
  getBbox(
    zoom: number,
    bounds: { minX: number; minY: number; maxX: number; maxY: number },
  ): Promise<TileOfFeatures[]>;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
