// Worker thread of the tiling engine: runs the map stage (parse, profile, tile) and the encode stage (assemble,
// compress) on batches the main thread hands it.
import { parentPort } from 'node:worker_threads';
import { ByteReader } from './bytes.js';
import { assembleRecords, type AssembleOptions } from './assemble.js';
import { mapFeatures, mapNdjsonBytes, type MapContext, type MapResult } from './map-stage.js';
import type { TilingOptions } from './tile-feature.js';
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
    }
  | { kind: 'ndjson'; bytes: Uint8Array; input: string; source: string; firstLine: number; firstSeq: number }
  | {
      kind: 'features';
      features: SourceFeature[];
      input: string;
      source: string;
      firstIndex: number;
      firstSeq: number;
    }
  | { kind: 'encode'; bytes: Uint8Array; tiles: number };

export interface EncodeResult {
  tileIds: Float64Array;
  /** tile i is data[offsets[i] .. offsets[i+1]] */
  offsets: Uint32Array;
  data: Uint8Array;
  rawSizes: Uint32Array;
  dropped: number;
  droppedTiles: number[];
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
      return { result: true, transfer: [] };
    }
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
  }
}

function mapped(r: MapResult): { result: MapResult; transfer: ArrayBuffer[] } {
  return {
    result: r,
    transfer: r.runs.flatMap((b) => [
      b.bytes.buffer as ArrayBuffer,
      b.tileIds.buffer as ArrayBuffer,
      b.offsets.buffer as ArrayBuffer,
    ]),
  };
}

function encode(bytes: Uint8Array, tiles: number): { result: EncodeResult; transfer: ArrayBuffer[] } {
  const r = new ByteReader(bytes);
  const tileIds = new Float64Array(tiles);
  const offsets = new Uint32Array(tiles + 1);
  const rawSizes = new Uint32Array(tiles);
  const parts: Uint8Array[] = [];
  let total = 0;
  let dropped = 0;
  const droppedTiles: number[] = [];
  for (let t = 0; t < tiles; t++) {
    const tileId = r.f64();
    const count = r.u32();
    const tile = assembleRecords(bytes, r.pos, count, assembleOptions!);
    r.pos = tile.end;
    tileIds[t] = tileId;
    offsets[t] = total;
    rawSizes[t] = tile.rawSize;
    parts.push(tile.data);
    total += tile.data.length;
    if (tile.dropped) {
      dropped += tile.dropped;
      droppedTiles.push(tileId);
    }
  }
  offsets[tiles] = total;
  const data = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    data.set(p, pos);
    pos += p.length;
  }
  return {
    result: { tileIds, offsets, data, rawSizes, dropped, droppedTiles },
    transfer: [tileIds.buffer, offsets.buffer, data.buffer, rawSizes.buffer],
  };
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
