// The tiling engine: read → map (workers) → sort (by tile id) → encode (workers) → write (PMTiles, clustered).
// Sorted runs stay in shared memory; encode jobs are slices of them (shared-runs.ts), or, once runs spilled to disk,
// records merged here (merge.ts).
// It knows tiles, not schemas: a profile module, loaded in every worker, turns source features into layer features.
import { UserError } from '../../core/errors.js';
import { PMTilesWriter } from '../pmtiles/writer.js';
import { Compression, TileType } from '../pmtiles/header.js';
import { tileIdToZxy } from '../pmtiles/tileid.js';
import { Progress, type StageStats } from '../progress.js';
import { gzipBackend, nativeDeflate, nativeGzipError } from './gzip.js';
import type { AssembleOptions } from './assemble.js';
import type { LayerStats, MapResult } from './map-stage.js';
import { MemoryRun, RunMerger, SpillFile, type TileRecords } from './merge.js';
import { WorkerPool } from './pool.js';
import { planJobs, RunArena } from './shared-runs.js';
import type { RecordBatch } from './records.js';
import { DEFAULT_TILING, type TilingOptions } from './tile-feature.js';
import { unprojectX, unprojectY } from './project.js';
import type { ProfileRef, SourceFeature, VectorLayerSpec } from './types.js';
import type { EncodeResult, WorkerRequest } from './worker.js';

export type InputChunk =
  | { kind: 'ndjson'; bytes: Uint8Array; input: string; source: string; firstLine: number }
  | { kind: 'features'; features: SourceFeature[]; input: string; source: string; firstIndex: number };

export interface EngineOptions {
  output: string;
  profile: ProfileRef;
  minzoom: number;
  maxzoom: number;
  tiling?: Partial<TilingOptions>;
  /** compressed bytes per tile (default 500 KB) */
  budget?: number;
  gzipLevel?: number;
  workers?: number;
  /** declared layers (written to vector_layers even when empty); default: the layers seen */
  vectorLayers?: VectorLayerSpec[];
  /** extra metadata (name, description, attribution, …) */
  metadata?: Record<string, unknown>;
  /** bounds to write instead of the data's: [w, s, e, n] */
  bounds?: [number, number, number, number];
  /** write only tiles intersecting these bounds [w, s, e, n] */
  clip?: [number, number, number, number];
  center?: [number, number, number];
  progress?: Progress;
  /** memory for sorted runs before they spill to disk (default 768 MiB, or WEFT_SORT_MEMORY_MB) */
  sortMemoryMiB?: number;
}

export interface TileSize {
  tile: string;
  bytes: number;
}

export interface EngineStats {
  output: string;
  features: number;
  records: number;
  tiles: number;
  tilesPerZoom: Record<string, number>;
  largestTiles: TileSize[];
  layers: Record<string, LayerStats>;
  dropped: { features: number; tiles: number };
  bytes: number;
  /** what compressed the tiles: 'libdeflate <version>' or, without the native binding, 'zlib <version>' */
  gzip: string;
  /** point features read by the native scanner (native/geojson.c) instead of JSON.parse */
  scannedPoints: number;
  /** line and polygon features read and tiled by the native scanner */
  scannedShapes: number;
  /** tiles encoded by the native encoder (native/tile.c) instead of JavaScript */
  nativeTiles: number;
  stages: StageStats[];
  peakRssMiB: number;
  seconds: number;
}

/** Chunks in flight per worker: enough to keep them busy, few enough to bound memory. */
const IN_FLIGHT_PER_WORKER = 3;
const SEQ_PER_CHUNK = 2 ** 24;
/** Record bytes per encode job. */
const JOB_BYTES = 512 * 1024;

export async function runEngine(
  inputs: AsyncIterable<InputChunk>,
  opts: EngineOptions,
): Promise<EngineStats> {
  const started = performance.now();
  const progress = opts.progress ?? new Progress(process.stderr, true);
  const tiling: TilingOptions = { ...DEFAULT_TILING, maxzoom: opts.maxzoom, ...opts.tiling };
  const assemble: AssembleOptions = {
    extent: tiling.extent,
    budget: opts.budget ?? 500_000,
    level: opts.gzipLevel ?? 6,
  };
  if (!nativeDeflate())
    progress.log(`gzip: ${nativeGzipError()}; compressing tiles with zlib instead (≈ 2.5× slower)`);
  const pool = new WorkerPool(opts.workers);
  const sortMemory = (opts.sortMemoryMiB ?? Number(process.env.WEFT_SORT_MEMORY_MB ?? 768)) * 2 ** 20;
  // the workers put the runs they sort here, in shared memory, where the encode stage reads them
  const arena = new RunArena(Math.min(sortMemory, 2 ** 30));
  let spill: SpillFile | undefined;
  try {
    await pool.broadcast({
      kind: 'init',
      profile: opts.profile,
      tiling,
      minzoom: opts.minzoom,
      maxzoom: opts.maxzoom,
      clip: opts.clip,
      assemble,
      arena: arena.share,
    });

    // ---- read + map ------------------------------------------------------------------------------------------
    progress.stage('read+map', 'features');
    const batches: RecordBatch[] = [];
    let inMemory = 0;
    const layers: Record<string, LayerStats> = {};
    const world: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
    let features = 0;
    let scannedPoints = 0;
    let scannedShapes = 0;
    let records = 0;
    const inFlight = new Set<Promise<void>>();
    let chunkIndex = 0;
    const accept = (r: MapResult): void => {
      for (const b of r.runs) {
        batches.push(arena.adopt(b));
        inMemory += b.bytes.length + b.tileIds.length * 12;
        records += b.tileIds.length;
      }
      if (inMemory > sortMemory) {
        // external sort: the runs so far go to disk; the merge reads them back through small windows
        if (!spill) {
          spill = new SpillFile(`${opts.output}.sort-${process.pid}.tmp`);
          // from now on runs get buffers of their own, freed once spilled; the arena once nothing refers to it
          arena.close();
          pool.broadcast({ kind: 'arena' }).catch(() => {}); // a failed pool fails the build elsewhere
        }
        for (const b of batches) spill.spill(b);
        batches.length = 0;
        inMemory = 0;
      }
      features += r.features;
      scannedPoints += r.scanned;
      scannedShapes += r.scannedShapes;
      mergeLayers(layers, r.layers);
      world[0] = Math.min(world[0], r.world[0]);
      world[1] = Math.min(world[1], r.world[1]);
      world[2] = Math.max(world[2], r.world[2]);
      world[3] = Math.max(world[3], r.world[3]);
      progress.tick(r.features);
    };
    let failure: unknown;
    for await (const chunk of inputs) {
      const firstSeq = chunkIndex++ * SEQ_PER_CHUNK;
      const transfer = chunk.kind === 'ndjson' ? [chunk.bytes.buffer as ArrayBuffer] : [];
      const p = pool.run<MapResult>({ ...chunk, firstSeq } as WorkerRequest, transfer).then(accept, (err) => {
        failure ??= err;
      });
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= pool.size * IN_FLIGHT_PER_WORKER) await Promise.race(inFlight);
      if (failure) break;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    progress.end();
    if (features === 0) throw new UserError('no features in the input');

    // ---- encode + write ------------------------------------------------------------------------------------------
    const bounds = opts.bounds ?? worldToBounds(world);
    const center = opts.center ?? defaultCenter(bounds, world, opts.minzoom, opts.maxzoom);
    const vectorLayers =
      opts.vectorLayers ??
      Object.entries(layers)
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map(([id, s]) => ({ id, fields: sortedFields(s.fields), minzoom: s.minzoom, maxzoom: s.maxzoom }));
    const writer = new PMTilesWriter(opts.output, {
      tileType: TileType.Mvt,
      tileCompression: Compression.Gzip,
      minZoom: opts.minzoom,
      maxZoom: opts.maxzoom,
      bounds,
      center,
      metadata: { ...opts.metadata, vector_layers: vectorLayers },
    });
    const tilesPerZoom: Record<string, number> = {};
    const largest: TileSize[] = [];
    let dropped = 0;
    let droppedTiles = 0;
    let bytes = 0;
    let nativeTiles = 0;
    // ---- sort + encode + write: workers encode jobs of consecutive tiles, written in tile order -----------------
    if (spill)
      progress.log(
        `sort: ${(spill.bytes / 2 ** 20).toFixed(0)} MiB of records spilled to disk (memory budget ${sortMemory / 2 ** 20} MiB)`,
      );
    progress.stage('merge+encode+write', 'records', records);
    try {
      const queue: Promise<EncodeResult & { records: number }>[] = [];
      const maxQueue = pool.size * IN_FLIGHT_PER_WORKER;
      const drain = async (): Promise<void> => {
        const r = await queue.shift()!;
        dropped += r.dropped;
        nativeTiles += r.nativeTiles;
        droppedTiles += r.droppedTiles.length;
        for (const id of r.droppedTiles) {
          const [z, x, y] = tileIdToZxy(id);
          progress.log(
            `size budget: tile ${z}/${x}/${y} over ${assemble.budget} bytes compressed; features dropped`,
          );
        }
        for (let i = 0; i < r.tileIds.length; i++) {
          const data = r.data.subarray(r.offsets[i]!, r.offsets[i + 1]!);
          if (data.length === 0) continue;
          const id = r.tileIds[i]!;
          writer.addTile(id, data);
          bytes += data.length;
          const z = tileIdToZxy(id)[0];
          tilesPerZoom[z] = (tilesPerZoom[z] ?? 0) + 1;
          trackLargest(largest, id, data.length);
        }
        progress.tick(r.records);
      };
      if (!spill) {
        // the runs are in shared memory: each worker gathers its job's tiles from them
        await pool.broadcast({ kind: 'runs', runs: batches });
        for (const job of planJobs(batches, JOB_BYTES)) {
          queue.push(
            pool
              .run<EncodeResult>({ kind: 'encode-runs', slices: job.slices })
              .then((r) => ({ ...r, records: job.records })),
          );
          if (queue.length >= maxQueue) await drain();
        }
      } else {
        // runs on disk: merged here, each job's records copied into one transferable buffer
        const merger = new RunMerger([...batches.map((b) => new MemoryRun(b)), ...spill.cursors()]);
        let job = new JobBuilder();
        for (let tile = merger.next(); tile; tile = merger.next()) {
          job.addTile(tile);
          if (job.full()) {
            queue.push(encodeJob(pool, job.finish()));
            job = new JobBuilder();
            if (queue.length >= maxQueue) await drain();
          }
        }
        if (job.tiles) queue.push(encodeJob(pool, job.finish()));
      }
      while (queue.length) await drain();
      if (!spill) await pool.broadcast({ kind: 'runs', runs: [] });
      await writer.finish();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    progress.end();
    if (dropped)
      progress.log(
        `size budget: dropped ${dropped} features in ${droppedTiles} tiles to stay under ${assemble.budget} bytes per tile`,
      );
    const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    return {
      output: opts.output,
      features,
      records,
      tiles: Object.values(tilesPerZoom).reduce((a, b) => a + b, 0),
      tilesPerZoom,
      largestTiles: largest,
      layers,
      dropped: { features: dropped, tiles: droppedTiles },
      bytes,
      gzip: gzipBackend(),
      scannedPoints,
      scannedShapes,
      nativeTiles,
      stages: progress.stages,
      peakRssMiB,
      seconds: Math.round(performance.now() - started) / 1000,
    };
  } finally {
    spill?.close();
    await pool.close();
  }
}

interface Job {
  bytes: Uint8Array;
  tiles: number;
  records: number;
}

function encodeJob(pool: WorkerPool, job: Job): Promise<EncodeResult & { records: number }> {
  return pool
    .run<EncodeResult>({ kind: 'encode', bytes: job.bytes, tiles: job.tiles }, [
      job.bytes.buffer as ArrayBuffer,
    ])
    .then((r) => ({ ...r, records: job.records }));
}

/** Packs the records of consecutive tiles into one transferable job: [tile id][count][records…]… */
class JobBuilder {
  private parts: Uint8Array[] = [];
  private size = 0;
  tiles = 0;
  records = 0;

  addTile(tile: TileRecords): void {
    const head = new Uint8Array(12);
    const view = new DataView(head.buffer);
    view.setFloat64(0, tile.tileId, true);
    view.setUint32(8, tile.records, true);
    this.parts.push(head);
    this.size += 12;
    for (const part of tile.parts) {
      this.parts.push(part);
      this.size += part.length;
    }
    this.records += tile.records;
    this.tiles++;
  }

  full(): boolean {
    return this.size > JOB_BYTES || this.tiles >= 4096;
  }

  finish(): Job {
    const bytes = new Uint8Array(this.size);
    let pos = 0;
    for (const p of this.parts) {
      bytes.set(p, pos);
      pos += p.length;
    }
    return { bytes, tiles: this.tiles, records: this.records };
  }
}

function mergeLayers(into: Record<string, LayerStats>, from: Record<string, LayerStats>): void {
  for (const [name, s] of Object.entries(from)) {
    const t = into[name];
    if (!t) {
      into[name] = { ...s, fields: { ...s.fields } };
      continue;
    }
    t.count += s.count;
    t.minzoom = Math.min(t.minzoom, s.minzoom);
    t.maxzoom = Math.max(t.maxzoom, s.maxzoom);
    for (const [k, v] of Object.entries(s.fields)) {
      const prev = t.fields[k];
      t.fields[k] = prev === undefined || prev === v ? v : 'Mixed';
    }
  }
}

function sortedFields(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

function trackLargest(largest: TileSize[], id: number, size: number): void {
  if (largest.length === 10 && size <= largest[9]!.bytes) return;
  const [z, x, y] = tileIdToZxy(id);
  largest.push({ tile: `${z}/${x}/${y}`, bytes: size });
  largest.sort((a, b) => b.bytes - a.bytes || (a.tile < b.tile ? -1 : 1));
  if (largest.length > 10) largest.length = 10;
}

function worldToBounds(world: [number, number, number, number]): [number, number, number, number] {
  if (!Number.isFinite(world[0])) return [-180, -85.0511287798066, 180, 85.0511287798066];
  const r = (v: number): number => Math.round(v * 1e7) / 1e7;
  return [r(unprojectX(world[0])), r(unprojectY(world[3])), r(unprojectX(world[2])), r(unprojectY(world[1]))];
}

function defaultCenter(
  bounds: [number, number, number, number],
  world: [number, number, number, number],
  minzoom: number,
  maxzoom: number,
): [number, number, number] {
  const span = Number.isFinite(world[0]) ? Math.max(world[2] - world[0], world[3] - world[1], 1e-9) : 1;
  const fit = Math.floor(Math.log2(1 / span));
  const z = Math.max(minzoom, Math.min(maxzoom, fit));
  const r = (v: number): number => Math.round(v * 1e7) / 1e7;
  return [r((bounds[0] + bounds[2]) / 2), r((bounds[1] + bounds[3]) / 2), z];
}
