// Worker thread of the tiling engine: runs the map stage (parse, profile, tile) and the encode stage (assemble,
// compress) on batches the main thread hands it.
import { parentPort } from 'node:worker_threads';
import { ByteReader } from './bytes.js';
import {
  assembleRecords,
  assembleRecordsAt,
  encodedTiles,
  type AssembledTile,
  type AssembleOptions,
} from './assemble.js';
import { mapFeatures, mapNdjsonBytes, type MapContext, type MapResult } from './map-stage.js';
import type { TilingOptions } from './tile-feature.js';
import { setRunBytes, type RecordBatch } from './records.js';
import { forEachTile, placeRun, sharedBytes, useArena, type ArenaShare } from './shared-runs.js';
import type { ProfileModule, ProfileRef, SourceFeature } from './types.js';

export type WorkerRequest =
  | {
      kind: 'init';
      profile: ProfileRef;
      tiling: TilingOptions;
      minzoom: number;
      maxzoom: number;
      clip?: [number, number, number, number];
      assemble: AssembleOptions;
      /** where sorted runs go (shared-runs.ts) */
      arena?: ArenaShare;
    }
  /** stop putting runs in the arena, or use another */
  | { kind: 'arena'; arena?: ArenaShare }
  | { kind: 'ndjson'; bytes: Uint8Array; input: string; source: string; firstLine: number; firstSeq: number }
  | {
      kind: 'features';
      features: SourceFeature[];
      input: string;
      source: string;
      firstIndex: number;
      firstSeq: number;
    }
  | { kind: 'encode'; bytes: Uint8Array; tiles: number }
  /** the sorted runs, in shared memory, that encode-runs jobs refer to (an empty list lets them go) */
  | { kind: 'runs'; runs: RecordBatch[] }
  /** encode the tiles of these slices of the runs: [run, first record, end record]… (see shared-runs.ts) */
  | { kind: 'encode-runs'; slices: Uint32Array };

export interface EncodeResult {
  tileIds: Float64Array;
  /** tile i is data[offsets[i] .. offsets[i+1]] */
  offsets: Uint32Array;
  data: Uint8Array;
  rawSizes: Uint32Array;
  dropped: number;
  droppedTiles: number[];
  /** tiles encoded by the native encoder (native/tile.c); the others by JavaScript */
  nativeTiles: number;
}

let ctx: MapContext | undefined;
let assembleOptions: AssembleOptions | undefined;

async function handle(msg: WorkerRequest): Promise<{ result: unknown; transfer: ArrayBuffer[] }> {
  switch (msg.kind) {
    case 'init': {
      const mod = (await import(msg.profile.module)) as ProfileModule;
      ctx = {
        profile: mod.createProfile(msg.profile.options),
        tiling: msg.tiling,
        minzoom: msg.minzoom,
        maxzoom: msg.maxzoom,
        clip: msg.clip,
      };
      assembleOptions = msg.assemble;
      useArena(msg.arena);
      setRunBytes(sharedBytes);
      return { result: true, transfer: [] };
    }
    case 'arena':
      useArena(msg.arena);
      return { result: true, transfer: [] };
    case 'ndjson': {
      return mapped(mapNdjsonBytes(ctx!, msg.bytes, msg));
    }
    case 'features': {
      const r = mapFeatures(ctx!, msg.features, {
        input: msg.input,
        source: msg.source,
        firstSeq: msg.firstSeq,
        position: (i) => `feature ${msg.firstIndex + i}`,
      });
      return mapped(r);
    }
    case 'encode':
      return encode(msg.bytes, msg.tiles);
    case 'runs':
      runs = msg.runs;
      return { result: true, transfer: [] };
    case 'encode-runs': {
      const out = new EncodedTiles();
      forEachTile(runs, msg.slices, (tileId, buf, starts, count) => out.addAt(tileId, buf, starts, count));
      return out.finish();
    }
  }
}

/** The runs go back in shared memory, where the encode stage's workers read them (shared-runs.ts). */
function mapped(r: MapResult): { result: MapResult; transfer: ArrayBuffer[] } {
  return { result: { ...r, runs: r.runs.map(placeRun) }, transfer: [] };
}

let runs: RecordBatch[] = [];

function encode(bytes: Uint8Array, tiles: number): { result: EncodeResult; transfer: ArrayBuffer[] } {
  const r = new ByteReader(bytes);
  const out = new EncodedTiles();
  for (let t = 0; t < tiles; t++) {
    const tileId = r.f64();
    const count = r.u32();
    r.pos = out.add(tileId, bytes, r.pos, count);
  }
  return out.finish();
}

/** The encoded tiles of one job, collected for the reply. */
class EncodedTiles {
  private readonly tileIds: number[] = [];
  private readonly rawSizes: number[] = [];
  private readonly parts: Uint8Array[] = [];
  private total = 0;
  private dropped = 0;
  private readonly droppedTiles: number[] = [];
  private readonly nativeBefore = encodedTiles.native;

  /** Encodes the tile whose `count` records start at buf[start], one after another; returns where they end. */
  add(tileId: number, buf: Uint8Array, start: number, count: number): number {
    const tile = assembleRecords(buf, start, count, assembleOptions!);
    this.push(tileId, tile);
    return tile.end;
  }

  /** Encodes the tile whose records start at buf[starts[0]], …, buf[starts[count - 1]]. */
  addAt(tileId: number, buf: Uint8Array, starts: Uint32Array, count: number): void {
    this.push(tileId, assembleRecordsAt(buf, starts, count, assembleOptions!));
  }

  private push(tileId: number, tile: AssembledTile): void {
    this.tileIds.push(tileId);
    this.rawSizes.push(tile.rawSize);
    this.parts.push(tile.data);
    this.total += tile.data.length;
    if (tile.dropped) {
      this.dropped += tile.dropped;
      this.droppedTiles.push(tileId);
    }
  }

  finish(): { result: EncodeResult; transfer: ArrayBuffer[] } {
    const n = this.tileIds.length;
    const offsets = new Uint32Array(n + 1);
    const data = new Uint8Array(this.total);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      offsets[i] = pos;
      data.set(this.parts[i]!, pos);
      pos += this.parts[i]!.length;
    }
    offsets[n] = pos;
    const tileIds = Float64Array.from(this.tileIds);
    const rawSizes = Uint32Array.from(this.rawSizes);
    const { dropped, droppedTiles } = this;
    return {
      result: {
        tileIds,
        offsets,
        data,
        rawSizes,
        dropped,
        droppedTiles,
        nativeTiles: encodedTiles.native - this.nativeBefore,
      },
      transfer: [tileIds.buffer, offsets.buffer, data.buffer, rawSizes.buffer],
    };
  }
}

parentPort!.on('message', (msg: { id: number; req: WorkerRequest }) => {
  handle(msg.req).then(
    ({ result, transfer }) => parentPort!.postMessage({ id: msg.id, result }, transfer),
    (err: unknown) =>
      parentPort!.postMessage({
        id: msg.id,
        error: err instanceof Error ? err.message : String(err),
        input: err instanceof Error && err.name !== 'Error' ? err.name : undefined,
        kind: err instanceof Error ? err.constructor.name : 'Error',
      }),
  );
});
