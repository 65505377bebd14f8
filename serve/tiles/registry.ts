// The server's view of each region's prod release (the 'releases' service): read from the blob store's tags
// (pipeline/releases/catalog.ts), re-read when a promotion or rollback is announced on the bus and, as a safety net,
// every `releaseRecheckMs`. Listeners hear of every change so that caches of the old release are dropped.
import path from 'node:path';
import type { Logger } from 'pino';
import type { BlobStore } from '../../core/blob/adapter.js';
import type { Bus, Unsubscribe } from '../../core/bus/adapter.js';
import { errorMessage } from '../../core/errors.js';
import { listRegionIds, loadRegion, type Region } from '../../pipeline/region.js';
import { currentProdEntry } from '../../pipeline/releases/catalog.js';
import type { ReleaseManifest } from '../../pipeline/releases/manifest.js';
import { HttpError } from '../http.js';
import { RELEASES_CHANNEL, type ProdRelease, type ReleaseRegistry } from '../releases.js';

/** The region files of a folder, in id order; a file that does not load is logged and left out. */
export function loadRegions(dir: string, logger?: Logger): Region[] {
  const out: Region[] = [];
  for (const id of listRegionIds(dir)) {
    try {
      const region = loadRegion(path.join(dir, `${id}.json`));
      if (region.id !== id) throw new Error(`its id is "${region.id}" but the file is named ${id}.json`);
      out.push(region);
    } catch (err) {
      logger?.error({ component: 'releases' }, `region file ${id}.json is not served: ${errorMessage(err)}`);
    }
  }
  return out;
}

/** A ProdRelease from a prod manifest. */
export function prodReleaseOf(manifest: ReleaseManifest): ProdRelease {
  const archives: ProdRelease['archives'] = {};
  for (const f of manifest.files)
    archives[f.layer] = {
      region: manifest.region,
      layer: f.layer,
      key: f.key,
      sha256: f.sha256,
      size: f.size,
    };
  return { region: manifest.region, id: manifest.release, manifest, archives };
}

interface RegionState {
  /** false until the tags were read once */
  loaded: boolean;
  release: ProdRelease | undefined;
  /** why the last read failed (cleared by a successful one) */
  error?: unknown;
  /** read sequence: a result is applied only when no read that started later was applied already */
  started: number;
  applied: number;
}

export interface RegistryOptions {
  blob: BlobStore;
  bus: Bus;
  regions: Region[];
  recheckMs: number;
  logger: Logger;
}

type Listener = (region: string, release: ProdRelease | undefined) => void;

export class BlobReleaseRegistry implements ReleaseRegistry {
  private readonly byId = new Map<string, Region>();
  private readonly states = new Map<string, RegionState>();
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private rechecking = false;
  private unsubscribe: Unsubscribe | undefined;
  private closed = false;

  constructor(private readonly opts: RegistryOptions) {
    for (const r of opts.regions) {
      this.byId.set(r.id, r);
      this.states.set(r.id, { loaded: false, release: undefined, started: 0, applied: 0 });
    }
  }

  regions(): Region[] {
    return [...this.byId.values()];
  }

  region(id: string): Region | undefined {
    return this.byId.get(id);
  }

  /** What is known now without reading: the release, undefined (nothing in prod), or 'unknown' (not read yet). */
  peek(region: string): ProdRelease | undefined | 'unknown' {
    const s = this.states.get(region);
    if (!s || !s.loaded) return 'unknown';
    return s.release;
  }

  async current(region: string): Promise<ProdRelease | undefined> {
    const s = this.states.get(region);
    if (!s) return undefined;
    if (!s.loaded) await this.refresh(region);
    if (!s.loaded)
      throw new HttpError(
        503,
        'releases_unavailable',
        `the prod release of region ${region} cannot be read from the blob store: ${errorMessage(s.error)}`,
        { 'Retry-After': '5' },
      );
    return s.release;
  }

  async refresh(region?: string): Promise<void> {
    if (region === undefined) {
      await Promise.all([...this.byId.keys()].map((id) => this.refresh(id)));
      return;
    }
    const s = this.states.get(region);
    if (!s || this.closed) return;
    const seq = ++s.started;
    let release: ProdRelease | undefined;
    try {
      const entry = await currentProdEntry(this.opts.blob, region);
      release = entry?.manifest ? prodReleaseOf(entry.manifest) : undefined;
    } catch (err) {
      if (seq > s.applied) s.error = err;
      this.opts.logger.warn(
        { component: 'releases', region },
        `cannot read the prod release of ${region}: ${errorMessage(err)}` +
          (s.loaded ? ` (still serving ${s.release?.id ?? 'nothing'})` : ''),
      );
      return;
    }
    if (seq <= s.applied || this.closed) return;
    s.applied = seq;
    s.error = undefined;
    const before = s.release;
    const wasLoaded = s.loaded;
    s.loaded = true;
    s.release = release;
    if (wasLoaded && before?.id === release?.id) return;
    if (wasLoaded || release)
      this.opts.logger.info(
        { component: 'releases', region, release: release?.id ?? null, previous: before?.id ?? null },
        release ? `serving release ${release.id} of ${region}` : `nothing in prod for ${region}`,
      );
    for (const l of [...this.listeners]) {
      try {
        l(region, release);
      } catch (err) {
        this.opts.logger.error({ component: 'releases' }, `release listener failed: ${errorMessage(err)}`);
      }
    }
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to announcements, reads every region's prod release, and starts the periodic re-check. */
  async start(): Promise<void> {
    this.unsubscribe = await this.opts.bus.subscribe(RELEASES_CHANNEL, (message) => this.announced(message));
    await this.refresh();
    this.timer = setInterval(() => {
      if (this.rechecking) return;
      this.rechecking = true;
      this.refresh().finally(() => (this.rechecking = false));
    }, this.opts.recheckMs);
    this.timer.unref();
  }

  private announced(message: Buffer | string): void {
    let region: unknown;
    try {
      region = (JSON.parse(message.toString()) as { region?: unknown }).region;
    } catch {
      region = undefined;
    }
    if (typeof region !== 'string') {
      this.opts.logger.warn({ component: 'releases' }, `ignored a malformed ${RELEASES_CHANNEL} message`);
      return;
    }
    if (!this.byId.has(region)) return; // a region this server does not serve
    void this.refresh(region);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.unsubscribe?.().catch(() => {});
    this.listeners.clear();
  }
}
