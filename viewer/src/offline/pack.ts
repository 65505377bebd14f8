// Opens a downloaded region pack (`GET /regions/{region}/pack`: a tar with pack.json first, then the release
// manifest, styles/*.json and the archives) in the browser: reads its index from the File, and serves each archive
// to MapLibre through the pmtiles library with a Source over slices of the File — nothing from the network.
import { PMTiles, type RangeResponse, type Source } from 'pmtiles';
import { readTarIndex, type TarEntry } from './tar.js';

export interface PackManifest {
  schema: string;
  region: string;
  name: string;
  release: string;
  at: string;
  bbox: [number, number, number, number];
  center: [number, number, number];
  minzoom: number;
  maxzoom: number;
  attribution: string;
  files: { path: string; kind: string; layer?: string; size: number; sha256: string }[];
}

export interface OpenedPack {
  manifest: PackManifest;
  /** styles/<name>.json → parsed style */
  styles: Map<string, unknown>;
  /** layer → archive (key: `weft-pack/<region>/<layer>.pmtiles`) */
  archives: Map<string, PMTiles>;
  entries: TarEntry[];
}

/** A pmtiles Source over bytes `offset`…`offset+size` of a Blob (the pack File). */
export class BlobSliceSource implements Source {
  constructor(
    private readonly blob: Blob,
    private readonly offset: number,
    private readonly size: number,
    private readonly key: string,
  ) {}

  getKey(): string {
    return this.key;
  }

  async getBytes(offset: number, length: number): Promise<RangeResponse> {
    const start = this.offset + offset;
    const end = Math.min(this.offset + this.size, start + length);
    const data = await this.blob.slice(start, end).arrayBuffer();
    return { data };
  }
}

export const PACK_MANIFEST = 'pack.json';

export function archiveKey(region: string, layer: string): string {
  return `weft-pack/${region}/${layer}.pmtiles`;
}

export async function openPack(file: Blob): Promise<OpenedPack> {
  const read = async (offset: number, length: number) =>
    new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
  const entries = await readTarIndex(read, file.size);
  const first = entries[0];
  if (!first || first.name !== PACK_MANIFEST)
    throw new Error(
      `not a weft region pack: its first entry is ${first ? `'${first.name}'` : 'missing'}, not pack.json`,
    );
  const json = async (e: TarEntry) =>
    JSON.parse(new TextDecoder().decode(await read(e.offset, e.size))) as unknown;
  const manifest = (await json(first)) as PackManifest;
  if (manifest.schema !== 'weft.pack/1') throw new Error(`unknown pack schema '${manifest.schema}'`);
  const styles = new Map<string, unknown>();
  const archives = new Map<string, PMTiles>();
  for (const e of entries) {
    if (/^styles\/[^/]+\.json$/.test(e.name)) styles.set(e.name, await json(e));
    const m = /^([a-z]+)\.pmtiles$/.exec(e.name);
    if (m) {
      const layer = m[1]!;
      archives.set(
        layer,
        new PMTiles(new BlobSliceSource(file, e.offset, e.size, archiveKey(manifest.region, layer))),
      );
    }
  }
  if (!archives.has('base')) throw new Error('the pack holds no base.pmtiles');
  return { manifest, styles, archives, entries };
}
