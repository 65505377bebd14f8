// `weft inspect`: a human-readable account of an archive (header, metadata, tiles per zoom, largest tiles) or of one tile.
import { VectorTile, VectorTileFeature } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { UserError } from '../../core/errors.js';
import { TileType, compressionName, tileTypeName, type Header } from './header.js';
import { PMTilesReader } from './reader.js';
import { MAX_ZOOM, firstTileIdOfZoom, isValidZxy, parseZxy, tileIdToZoom, tileIdToZxy } from './tileid.js';

const LARGEST = 10;
const FEATURES_SHOWN = 3;

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Header, metadata, tiles per zoom and the largest tiles — or, with `tile` = "z/x/y", that tile's content. */
export async function inspectArchive(path: string, tile?: string): Promise<string> {
  let zxy: [number, number, number] | undefined;
  if (tile !== undefined) {
    zxy = parseZxy(tile);
    if (!zxy || !isValidZxy(...zxy)) {
      throw new UserError(`bad tile "${tile}": expected z/x/y with z in 0–${MAX_ZOOM} and x, y in 0–2^z−1`);
    }
  }
  const reader = await PMTilesReader.openFile(path);
  try {
    return zxy ? await describeTile(reader, path, zxy) : await describeArchive(reader, path);
  } finally {
    await reader.close();
  }
}

function headerLines(h: Header, fileSize: number): string[] {
  const section = (name: string, offset: number, length: number) =>
    `  ${name.padEnd(17)} offset ${String(offset).padStart(10)}  length ${String(length).padStart(10)}  (${bytesText(length)})`;
  return [
    `size      ${count(fileSize)} bytes (${bytesText(fileSize)})`,
    `format    PMTiles v${h.specVersion}, ${h.clustered ? 'clustered' : 'not clustered'}`,
    `tiles     ${tileTypeName(h.tileType)}, tile compression ${compressionName(h.tileCompression)}, internal compression ${compressionName(h.internalCompression)}`,
    `zooms     z${h.minZoom}–${h.maxZoom}`,
    `bounds    ${h.minLon}, ${h.minLat}, ${h.maxLon}, ${h.maxLat}  (west, south, east, north)`,
    `center    ${h.centerLon}, ${h.centerLat} at z${h.centerZoom}`,
    `counts    ${count(h.numAddressedTiles)} addressed tiles, ${count(h.numTileEntries)} entries, ${count(h.numTileContents)} unique contents`,
    'sections',
    section('root directory', h.rootDirectoryOffset, h.rootDirectoryLength),
    section('metadata', h.jsonMetadataOffset, h.jsonMetadataLength),
    section('leaf directories', h.leafDirectoryOffset, h.leafDirectoryLength),
    section('tile data', h.tileDataOffset, h.tileDataLength),
  ];
}

interface VectorLayerLike {
  id?: unknown;
  minzoom?: unknown;
  maxzoom?: unknown;
  fields?: unknown;
  description?: unknown;
}

function metadataLines(metadata: unknown): string[] {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    return ['metadata', `  ${JSON.stringify(metadata)}`];
  }
  const { vector_layers: layers, ...rest } = metadata as { vector_layers?: unknown };
  const lines = [
    'metadata',
    ...JSON.stringify(rest, null, 2)
      .split('\n')
      .map((l) => `  ${l}`),
  ];
  if (Array.isArray(layers)) {
    lines.push(`vector layers (${layers.length})`);
    for (const raw of layers as VectorLayerLike[]) {
      const zooms =
        raw.minzoom !== undefined || raw.maxzoom !== undefined
          ? ` z${raw.minzoom ?? '?'}–${raw.maxzoom ?? '?'}`
          : '';
      const fields =
        raw.fields && typeof raw.fields === 'object'
          ? Object.entries(raw.fields as Record<string, unknown>).map(([k, v]) => `${k} (${String(v)})`)
          : [];
      lines.push(
        `  ${String(raw.id)}${zooms}: ${fields.length ? `fields ${fields.join(', ')}` : 'no fields'}`,
      );
    }
  } else if (layers !== undefined) {
    lines.push(`vector layers: not an array (${JSON.stringify(layers)})`);
  }
  return lines;
}

async function describeArchive(reader: PMTilesReader, path: string): Promise<string> {
  const h = reader.header;
  const lines = [`archive   ${path}`, ...headerLines(h, reader.fileSize)];
  lines.push(...metadataLines(await reader.metadata()));

  const perZoom = new Map<number, { tiles: number; entries: number; bytes: number; max: number }>();
  const largest: { tileId: number; length: number; runLength: number }[] = [];
  for await (const e of reader.entries()) {
    // a run may cross from one zoom into the next: split it at the zoom starts
    let id = e.tileId;
    const end = e.tileId + e.runLength;
    let first = true;
    while (id < end) {
      const z = tileIdToZoom(id);
      const stop = Math.min(end, firstTileIdOfZoom(z + 1));
      const s = perZoom.get(z) ?? { tiles: 0, entries: 0, bytes: 0, max: 0 };
      s.tiles += stop - id;
      if (first) s.entries++;
      s.bytes += (stop - id) * e.length;
      s.max = Math.max(s.max, e.length);
      perZoom.set(z, s);
      id = stop;
      first = false;
    }
    if (largest.length < LARGEST || e.length > largest[largest.length - 1]!.length) {
      largest.push({ tileId: e.tileId, length: e.length, runLength: e.runLength });
      largest.sort((a, b) => b.length - a.length || a.tileId - b.tileId);
      if (largest.length > LARGEST) largest.pop();
    }
  }
  lines.push('tiles per zoom (addressed tiles, directory entries, average and largest stored size)');
  for (const z of [...perZoom.keys()].sort((a, b) => a - b)) {
    const s = perZoom.get(z)!;
    lines.push(
      `  z${String(z).padEnd(3)} ${count(s.tiles).padStart(12)} tiles ${count(s.entries).padStart(12)} entries   avg ${bytesText(Math.round(s.bytes / s.tiles)).padStart(10)}   max ${bytesText(s.max).padStart(10)}`,
    );
  }
  if (perZoom.size === 0) lines.push('  (no tiles)');
  lines.push(`largest tiles (stored size, ${compressionName(h.tileCompression)})`);
  for (const t of largest) {
    const run = t.runLength > 1 ? `  (and the next ${t.runLength - 1} tiles)` : '';
    lines.push(`  ${tileIdToZxy(t.tileId).join('/').padEnd(18)} ${count(t.length).padStart(12)} bytes${run}`);
  }
  return `${lines.join('\n')}\n`;
}

function geometryTypeName(t: number): string {
  return VectorTileFeature.types[t as 0 | 1 | 2 | 3] ?? `type ${t}`;
}

async function describeTile(
  reader: PMTilesReader,
  path: string,
  [z, x, y]: [number, number, number],
): Promise<string> {
  const h = reader.header;
  const stored = await reader.getTile(z, x, y);
  if (!stored) throw new UserError(`${path}: tile ${z}/${x}/${y} is not in the archive`, 'not_found');
  const raw = reader.decompressTile(stored, `tile ${z}/${x}/${y}`);
  const lines = [
    `tile      ${z}/${x}/${y} in ${path}`,
    `type      ${tileTypeName(h.tileType)}`,
    `size      ${count(stored.length)} bytes stored (${compressionName(h.tileCompression)}), ${count(raw.length)} bytes uncompressed`,
  ];
  if (h.tileType !== TileType.Mvt) return `${lines.join('\n')}\n`;
  let tile: VectorTile;
  try {
    tile = new VectorTile(new PbfReader(raw));
  } catch (err) {
    lines.push(`cannot decode as a vector tile: ${(err as Error).message}`);
    return `${lines.join('\n')}\n`;
  }
  const names = Object.keys(tile.layers);
  lines.push(`layers    ${names.length}`);
  for (const name of names) {
    const layer = tile.layers[name]!;
    const types = new Map<string, number>();
    try {
      for (let i = 0; i < layer.length; i++) {
        const t = geometryTypeName(layer.feature(i).type);
        types.set(t, (types.get(t) ?? 0) + 1);
      }
      const mix = [...types].map(([t, n]) => `${count(n)} ${t}`).join(', ');
      lines.push(
        `  ${name}: ${count(layer.length)} features (${mix || 'none'}), extent ${layer.extent}, version ${layer.version}`,
      );
      for (let i = 0; i < Math.min(FEATURES_SHOWN, layer.length); i++) {
        const f = layer.feature(i);
        const points = f.loadGeometry().reduce((n, ring) => n + ring.length, 0);
        const id = f.id !== undefined ? `id ${f.id}, ` : '';
        lines.push(
          `    #${i} ${id}${geometryTypeName(f.type)}, ${points} points, ${JSON.stringify(f.properties)}`,
        );
      }
    } catch (err) {
      lines.push(`  ${name}: cannot decode: ${(err as Error).message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
