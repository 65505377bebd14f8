// What a region pack of one release holds and in which order: `pack.json` first, `SHA256SUMS` (every file's sha256,
// pack.json's included), the release manifest, the styles, and the archives (base, activity) — with its layout,
// download name and strong ETag. The same release, region and style bytes give the same plan and pack bytes. Pure.
import { createHash } from 'node:crypto';
import type { Region } from '../region.js';
import { LAYERS, serializeManifest, type ReleaseManifest } from '../releases/manifest.js';
import { layoutPack, type PackEntry, type PackLayout } from './layout.js';
import {
  ATTRIBUTION,
  CHECKSUMS_NAME,
  PACK_MANIFEST_NAME,
  PACK_SCHEMA,
  RELEASE_MANIFEST_NAME,
  archiveEntryName,
  packFileName,
  serializePackManifest,
  type PackFile,
  type PackManifest,
} from './manifest.js';

/** Bump when the bytes written for the same manifest change (container details), so ETags change with them. */
const FORMAT_REVISION = 'weft.pack/1 ustar r1';

/** A style as it goes into the pack: `styles/<name>.json`, `{region}` already substituted. */
export interface PackStyle {
  path: string;
  bytes: Uint8Array;
}

export interface PackInput {
  region: Pick<Region, 'id' | 'name' | 'bbox' | 'center' | 'minzoom' | 'maxzoom'>;
  release: ReleaseManifest;
  styles: readonly PackStyle[];
}

export interface PackPlan {
  manifest: PackManifest;
  manifestBytes: Uint8Array;
  entries: PackEntry[];
  layout: PackLayout;
  /** the pack's exact size in bytes */
  size: number;
  /** a strong HTTP entity tag, quoted */
  etag: string;
  /** `<region>-<release>.weftpack` */
  fileName: string;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** `SHA256SUMS` in the format of `sha256sum`: one `<hex>  <path>` line per file, `pack.json` first. */
export function checksumFile(files: readonly { path: string; sha256: string }[]): Uint8Array {
  return Buffer.from(files.map((f) => `${f.sha256}  ${f.path}\n`).join(''));
}

/** Plans the pack of `release` (a release of `region`). */
export function planPack(input: PackInput): PackPlan {
  const { region, release } = input;
  if (release.region !== region.id)
    throw new Error(`release ${release.release} belongs to region ${release.region}, not ${region.id}`);
  const releaseBytes = serializeManifest(release);
  const inline: PackEntry[] = [
    {
      name: RELEASE_MANIFEST_NAME,
      size: releaseBytes.length,
      content: { kind: 'bytes', bytes: releaseBytes },
    },
    ...[...input.styles]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((s) => ({
        name: s.path,
        size: s.bytes.length,
        content: { kind: 'bytes' as const, bytes: s.bytes },
      })),
  ];
  const files: PackFile[] = inline.map((e) => ({
    path: e.name,
    kind: e.name === RELEASE_MANIFEST_NAME ? 'release' : 'style',
    size: e.size,
    sha256: sha256((e.content as { bytes: Uint8Array }).bytes),
  }));
  const archives: PackEntry[] = [];
  for (const layer of LAYERS) {
    const f = release.files.find((x) => x.layer === layer);
    if (!f) continue;
    const name = archiveEntryName(layer);
    archives.push({ name, size: f.size, content: { kind: 'blob', key: f.key, sha256: f.sha256 } });
    files.push({ path: name, kind: 'archive', layer, size: f.size, sha256: f.sha256 });
  }
  const manifest: PackManifest = {
    schema: PACK_SCHEMA,
    region: region.id,
    name: region.name,
    release: release.release,
    at: release.at,
    bbox: [...region.bbox],
    center: [...region.center],
    minzoom: region.minzoom,
    maxzoom: region.maxzoom,
    attribution: ATTRIBUTION,
    files,
  };
  const manifestBytes = serializePackManifest(manifest);
  const sums = checksumFile([{ path: PACK_MANIFEST_NAME, sha256: sha256(manifestBytes) }, ...files]);
  const entries: PackEntry[] = [
    {
      name: PACK_MANIFEST_NAME,
      size: manifestBytes.length,
      content: { kind: 'bytes', bytes: manifestBytes },
    },
    { name: CHECKSUMS_NAME, size: sums.length, content: { kind: 'bytes', bytes: sums } },
    ...inline,
    ...archives,
  ];
  const layout = layoutPack(entries, Math.floor(Date.parse(release.at) / 1000));
  const tag = createHash('sha256').update(FORMAT_REVISION).update('\n').update(manifestBytes).digest('hex');
  return {
    manifest,
    manifestBytes,
    entries,
    layout,
    size: layout.size,
    etag: `"pack-${tag}"`,
    fileName: packFileName(region.id, release.release),
  };
}
