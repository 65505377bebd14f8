// What the server knows of each region's prod release: the interface the tiles module provides as the service
// 'releases' (serve/tiles/registry.ts) and the packs and viewer modules use.
import type { Region } from '../pipeline/region.js';
import type { ReleaseLayer, ReleaseManifest } from '../pipeline/releases/manifest.js';

export interface ProdArchive {
  region: string;
  layer: ReleaseLayer;
  /** the content-addressed blob key */
  key: string;
  sha256: string;
  size: number;
}

export interface ProdRelease {
  region: string;
  id: string;
  manifest: ReleaseManifest;
  archives: Partial<Record<ReleaseLayer, ProdArchive>>;
}

export interface ReleaseRegistry {
  /** The regions this server serves (the region files), in id order. */
  regions(): Region[];
  /** The region's current prod release, or undefined when nothing is in prod (or the region is unknown). */
  current(region: string): Promise<ProdRelease | undefined>;
  /** Re-reads the prod tags now (one region, or all). */
  refresh(region?: string): Promise<void>;
  /** Called after a region's prod release changed; returns the function that removes the listener. */
  onChange(listener: (region: string, release: ProdRelease | undefined) => void): () => void;
}

export { RELEASES_CHANNEL } from '../pipeline/releases/promote.js';
