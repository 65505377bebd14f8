// What the hot path reads synchronously: per region, the prod release it serves now and one ServedArchive per
// layer. A promotion swaps the region's entry in one step (archives the new release shares with the old one keep
// their caches; the others are retired and their cache entries dropped), so every request reads one release only.
import { LAYERS, type ReleaseLayer } from '../../pipeline/releases/manifest.js';
import type { ProdRelease } from '../releases.js';
import { ServedArchive, type ArchiveEnv } from './archive.js';
import type { BlobReleaseRegistry } from './registry.js';

export interface RegionServing {
  release: ProdRelease | undefined;
  archives: Partial<Record<ReleaseLayer, ServedArchive>>;
}

export class ServedReleases {
  private readonly byRegion = new Map<string, RegionServing>();

  constructor(
    private readonly registry: BlobReleaseRegistry,
    private readonly env: ArchiveEnv,
  ) {
    registry.onChange((region, release) => this.swap(region, release));
  }

  /** The region's serving state now; undefined when the region is unknown or its tags were not read yet. */
  get(region: string): RegionServing | undefined {
    return this.byRegion.get(region);
  }

  /** Like get, reading the region's prod release first when it was not read yet (throws when it cannot be). */
  async resolve(region: string): Promise<RegionServing | undefined> {
    const now = this.byRegion.get(region);
    if (now || !this.registry.region(region)) return now;
    const release = await this.registry.current(region);
    if (!this.byRegion.has(region)) this.swap(region, release);
    return this.byRegion.get(region);
  }

  private swap(region: string, release: ProdRelease | undefined): void {
    const old = this.byRegion.get(region);
    if (old && old.release?.id === release?.id) return;
    const archives: RegionServing['archives'] = {};
    for (const layer of LAYERS) {
      const a = release?.archives[layer];
      if (!a) continue;
      const same = old?.archives[layer];
      archives[layer] =
        same && same.archive.key === a.key ? same : new ServedArchive(a, release.id, this.env);
    }
    this.byRegion.set(region, { release, archives });
    for (const layer of LAYERS) {
      const before = old?.archives[layer];
      if (before && archives[layer] !== before) before.retire();
    }
  }

  /** Every archive served now (for close). */
  all(): ServedArchive[] {
    return [...this.byRegion.values()].flatMap((s) => Object.values(s.archives));
  }

  /** Stops serving everything (the server closes: no request is left to finish). */
  clear(): void {
    for (const a of this.all()) a.retire(0);
    this.byRegion.clear();
  }
}
