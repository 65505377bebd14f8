// The view options of a viewer URL (`/embed?region=R&mode=light|full&center=lon,lat&zoom=Z&layers=…&interactive=0|1`,
// and the same on `/`), parsed and checked; and the light/full choice for a device. Pure (no DOM): unit-tested.

export type Mode = 'light' | 'full';
export type LayerName = 'base' | 'activity' | 'live';
export const LAYER_NAMES: readonly LayerName[] = ['base', 'activity', 'live'];

export interface ViewOptions {
  region?: string;
  /** undefined: choose by device (chooseMode) */
  mode?: Mode;
  center?: [number, number];
  zoom?: number;
  layers: LayerName[];
  interactive: boolean;
}

export interface ParsedView {
  options: ViewOptions;
  /** one line per ignored parameter, shown to the page's author in the console */
  problems: string[];
}

const REGION_ID = /^[a-z0-9][a-z0-9_-]*$/;

/** Parses the query of a viewer URL; a bad value is reported and ignored, never fatal. */
export function parseViewParams(query: URLSearchParams): ParsedView {
  const problems: string[] = [];
  const options: ViewOptions = { layers: [...LAYER_NAMES], interactive: true };
  const region = query.get('region');
  if (region !== null) {
    if (REGION_ID.test(region)) options.region = region;
    else problems.push(`region: not a region id: '${region}'`);
  }
  const mode = query.get('mode');
  if (mode !== null && mode !== 'auto') {
    if (mode === 'light' || mode === 'full') options.mode = mode;
    else problems.push(`mode: must be light, full or auto, got '${mode}'`);
  }
  const center = query.get('center');
  if (center !== null) {
    const parts = center.split(',').map((s) => Number(s.trim()));
    const [lon, lat] = parts;
    if (
      parts.length === 2 &&
      lon !== undefined &&
      lat !== undefined &&
      Number.isFinite(lon) &&
      Number.isFinite(lat) &&
      Math.abs(lon) <= 180 &&
      Math.abs(lat) <= 85.06
    )
      options.center = [lon, lat];
    else problems.push(`center: must be lon,lat in degrees, got '${center}'`);
  }
  const zoom = query.get('zoom');
  if (zoom !== null) {
    const z = Number(zoom);
    if (zoom.trim() !== '' && Number.isFinite(z) && z >= 0 && z <= 22) options.zoom = z;
    else problems.push(`zoom: must be a number from 0 to 22, got '${zoom}'`);
  }
  const layers = query.get('layers');
  if (layers !== null) {
    const names = layers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = names.filter((n) => !(LAYER_NAMES as readonly string[]).includes(n));
    if (bad.length) problems.push(`layers: unknown ${bad.join(', ')} (known: ${LAYER_NAMES.join(', ')})`);
    options.layers = LAYER_NAMES.filter((n) => names.includes(n));
  }
  const interactive = query.get('interactive');
  if (interactive !== null) {
    if (interactive === '0' || interactive === 'false') options.interactive = false;
    else if (interactive === '1' || interactive === 'true') options.interactive = true;
    else problems.push(`interactive: must be 0 or 1, got '${interactive}'`);
  }
  return { options, problems };
}

/** What the viewer can tell about the device (navigator.hardwareConcurrency, deviceMemory, connection.saveData). */
export interface DeviceHints {
  hardwareConcurrency?: number;
  deviceMemory?: number;
  saveData?: boolean;
}

/**
 * The light path when asked for, or when not asked and the device is weak: at most 2 cores and at most 2 GB of
 * memory (both known), or the user asked to save data. Otherwise the full viewer.
 */
export function chooseMode(requested: Mode | undefined, device: DeviceHints): Mode {
  if (requested) return requested;
  if (device.saveData) return 'light';
  const cores = device.hardwareConcurrency;
  const memory = device.deviceMemory;
  if (cores !== undefined && memory !== undefined && cores <= 2 && memory <= 2) return 'light';
  return 'full';
}

/** The query string of a viewer URL for these options (the inverse of parseViewParams; defaults left out). */
export function viewQuery(o: Partial<ViewOptions>): string {
  const q = new URLSearchParams();
  if (o.region) q.set('region', o.region);
  if (o.mode) q.set('mode', o.mode);
  if (o.center) q.set('center', o.center.map((v) => +v.toFixed(6)).join(','));
  if (o.zoom !== undefined) q.set('zoom', String(+o.zoom.toFixed(2)));
  if (o.layers && o.layers.length !== LAYER_NAMES.length) q.set('layers', o.layers.join(','));
  if (o.interactive === false) q.set('interactive', '0');
  return q.toString();
}
