// `weft build activity --region R [--at T]`: the region's nodes and threads as of publish time T → activity profile
// → engine → dist/R/activity.pmtiles (+ activity.stats.json). Same events and same T give a byte-identical archive:
// everything is read in one snapshot, as of the events recorded at or before T, in a fixed order, with no clock.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../core/db/adapter.js';
import { openDb } from '../core/db/open.js';
import { UserError } from '../core/errors.js';
import { fade, toMillis } from '../core/fade.js';
import { ActivitySnapshot, publishCut, type PublishCut } from './activity-state.js';
import { siblingModule } from './modules.js';
import { Compression, TileType } from './pmtiles/header.js';
import { PMTilesWriter } from './pmtiles/writer.js';
import {
  ACTIVITY_MAXZOOM,
  ACTIVITY_SOURCES,
  NODE_DETAIL_ZOOM,
  activityLayers,
  clusterFeature,
  clusterNodes,
  epochSeconds,
  nodeFeature,
  threadFeature,
  type ActivityNode,
} from './profiles/activity.js';
import { Progress } from './progress.js';
import { loadRegion, type Region } from './region.js';
import { runEngine, type EngineStats, type InputChunk } from './tiler/engine.js';
import type { SourceFeature } from './tiler/types.js';

/** The activity layer is the community's work, not OpenStreetMap's. */
export function activityAttribution(region: Region): string {
  return `Activity © the ${region.name} weave’s participants`;
}

export interface BuildActivityOptions {
  /** publish time T (default: now) */
  at?: Date | string;
  /** output folder (default dist/<region id>) */
  outDir?: string;
  /** the database to read (default: openDb(), closed afterwards) */
  db?: Db;
  quiet?: boolean;
  workers?: number;
}

export interface ActivityCounts {
  /** visible nodes at T (not hidden, fade > 0) */
  nodes: number;
  /** live threads at T drawn (fade > 0, to a visible node) */
  threads: number;
  /** aggregated points per zoom below NODE_DETAIL_ZOOM */
  clusters: Record<string, number>;
  /** rows changed after T, folded again from the events up to T */
  refolded: { nodes: number; threads: number; proposals: number; events: number };
}

export interface ActivityBuildResult {
  region: Region;
  archive: string;
  statsFile: string;
  /** T, ISO */
  at: string;
  /** the last event position that counts at T */
  position: number;
  counts: ActivityCounts;
  /** engine statistics (null when nothing was visible and an empty archive was written) */
  stats: EngineStats | null;
}

/** Features per chunk handed to the engine (a fixed number: chunking decides input order, hence bytes). */
const CHUNK = 20_000;

export function parsePublishTime(at: Date | string | undefined): Date {
  if (at === undefined) return new Date();
  const d = at instanceof Date ? new Date(at.getTime()) : new Date(at);
  if (Number.isNaN(d.getTime()))
    throw new UserError(`--at: not a valid time: ${String(at)} (use ISO 8601, e.g. 2025-06-01T12:00:00Z)`);
  return d;
}

/**
 * Builds the activity archive of a region as of publish time T (default: now) from the database (default: the
 * one openDb() opens, closed afterwards). Reads in one REPEATABLE READ, READ ONLY transaction; writes
 * <outDir>/activity.pmtiles and activity.stats.json. Throws UserError for a bad region or time, or when the
 * projections lag behind the events that count at T.
 */
export async function buildActivity(
  regionArg: string,
  opts: BuildActivityOptions = {},
): Promise<ActivityBuildResult> {
  const region = loadRegion(regionArg);
  const T = parsePublishTime(opts.at);
  const outDir = opts.outDir ?? join('dist', region.id);
  await mkdir(outDir, { recursive: true });
  const archive = join(outDir, 'activity.pmtiles');
  const statsFile = join(outDir, 'activity.stats.json');
  const progress = new Progress(process.stderr, opts.quiet);
  const db = opts.db ?? (await openDb());
  try {
    const result = await db.transaction(async (tx) => {
      // one snapshot for the cut, the projections and the events
      await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // the thread cursor sorts every live thread by id: in memory rather than on disk
      await tx.exec(`SET LOCAL work_mem = '64MB'`);
      const cut = await publishCut(tx, T);
      const snap = await ActivitySnapshot.open(tx, region.id, cut);
      progress.log(
        `building the activity of ${region.name} as of ${cut.at} (events up to ${cut.position}) → ${archive}`,
      );
      return build(region, cut, snap, archive, opts, progress);
    });
    await writeFile(
      statsFile,
      JSON.stringify(
        { at: result.at, position: result.position, ...result.counts, engine: result.stats },
        null,
        2,
      ) + '\n',
    );
    const s = result.counts;
    progress.log(
      `wrote ${archive}: ${s.nodes} nodes, ${s.threads} threads` +
        (result.stats
          ? `, ${result.stats.tiles} tiles, ${(result.stats.bytes / 1e6).toFixed(1)} MB in ${result.stats.seconds} s (peak ${result.stats.peakRssMiB} MiB)`
          : ' (nothing visible: an archive without tiles)') +
        `; stats in ${statsFile}`,
    );
    return { ...result, statsFile };
  } finally {
    if (!opts.db) await db.close();
  }
}

async function build(
  region: Region,
  cut: PublishCut,
  snap: ActivitySnapshot,
  archive: string,
  opts: BuildActivityOptions,
  progress: Progress,
): Promise<Omit<ActivityBuildResult, 'statsFile'>> {
  const T = cut.at;
  const Tms = toMillis(T);
  const maxzoom = Math.min(region.maxzoom, ACTIVITY_MAXZOOM);
  const minzoom = Math.min(region.minzoom, maxzoom);
  const center: [number, number, number] = [
    region.center[0],
    region.center[1],
    Math.min(maxzoom, Math.max(minzoom, region.center[2])),
  ];
  // visible nodes at T, in id order: not hidden, and some activity (a live thread, or its creation or restoration)
  // within the fade period — the node's fade is the fade rule on its last activity, the max over its live threads
  const visible = new Map<string, ActivityNode>();
  for (const n of await snap.nodes()) {
    if (n.hidden) continue;
    const f = fade(Tms, n.lastActivityMs);
    if (f <= 0) continue;
    visible.set(n.node_id, {
      id: n.node_id,
      title: n.title,
      kind: n.kind,
      lon: n.lon,
      lat: n.lat,
      fade: f,
      threads: 0,
      openProposals: 0,
      lastActivity: epochSeconds(n.lastActivityMs),
    });
  }
  for (const [nodeId, n] of await snap.openProposals()) {
    const node = visible.get(nodeId);
    if (node) node.openProposals = n;
  }
  const counts: ActivityCounts = {
    nodes: visible.size,
    threads: 0,
    clusters: {},
    refolded: snap.refoldedCounts,
  };
  const metadata = {
    name: `${region.name} activity`,
    description: `Nodes and threads of the ${region.name} weave as of ${T}, built by weft from its event store`,
    attribution: activityAttribution(region),
    format: 'pbf',
    type: 'overlay',
    schema: 'weft-activity-1',
    generator: 'weft',
    published_at: T,
    event_position: cut.position,
  };
  const vectorLayers = activityLayers.map((l) => ({
    ...l,
    minzoom: Math.max(l.minzoom, minzoom),
    maxzoom: Math.min(l.maxzoom, maxzoom),
  }));
  const base = { region, archive, at: T, position: cut.position, counts };

  if (!visible.size) {
    // nothing to show (no threads can be drawn without a visible node): a valid archive without tiles
    const writer = new PMTilesWriter(archive, {
      tileType: TileType.Mvt,
      tileCompression: Compression.Gzip,
      minZoom: minzoom,
      maxZoom: maxzoom,
      bounds: region.bbox,
      center: center,
      metadata: { ...metadata, vector_layers: vectorLayers },
    });
    await writer.finish();
    return { ...base, stats: null };
  }

  async function* chunks(): AsyncGenerator<InputChunk> {
    let index = 0;
    const chunk = (features: SourceFeature[], input: string, source: string): InputChunk => {
      const c: InputChunk = { kind: 'features', features, input, source, firstIndex: index };
      index += features.length;
      return c;
    };
    let threads: SourceFeature[] = [];
    for await (const page of snap.threads(CHUNK)) {
      for (const t of page) {
        const f = fade(Tms, t.lastActivityMs);
        const node = f > 0 ? visible.get(t.node_id) : undefined;
        if (!node) continue;
        node.threads += 1;
        counts.threads += 1;
        threads.push(
          threadFeature({
            id: t.thread_id,
            nodeId: t.node_id,
            from: [t.from_lon, t.from_lat],
            to: [t.to_lon, t.to_lat],
            fade: f,
            lastActivity: epochSeconds(t.lastActivityMs),
          }),
        );
        if (threads.length === CHUNK) {
          yield chunk(threads, 'proj_threads', ACTIVITY_SOURCES.threads);
          threads = [];
        }
      }
    }
    if (threads.length) yield chunk(threads, 'proj_threads', ACTIVITY_SOURCES.threads);
    // nodes after threads: their thread counts are complete now
    const nodes = [...visible.values()];
    if (maxzoom >= NODE_DETAIL_ZOOM) {
      for (let i = 0; i < nodes.length; i += CHUNK) {
        yield chunk(nodes.slice(i, i + CHUNK).map(nodeFeature), 'proj_nodes', ACTIVITY_SOURCES.nodes);
      }
    }
    for (let z = minzoom; z <= Math.min(NODE_DETAIL_ZOOM - 1, maxzoom); z++) {
      const clusters = clusterNodes(nodes, z);
      counts.clusters[z] = clusters.length;
      for (let i = 0; i < clusters.length; i += CHUNK) {
        yield chunk(
          clusters.slice(i, i + CHUNK).map(clusterFeature),
          `proj_nodes@z${z}`,
          ACTIVITY_SOURCES.clusters,
        );
      }
    }
  }

  const stats = await runEngine(chunks(), {
    output: archive,
    profile: { module: siblingModule(import.meta.url, './profiles/activity'), options: {} },
    minzoom: minzoom,
    maxzoom: maxzoom,
    workers: opts.workers,
    vectorLayers,
    bounds: region.bbox,
    clip: region.bbox,
    center: center,
    metadata,
    progress,
    // level 4 compresses these tiles (ids, coordinates, times: little redundancy) within 1 % of level 6's size
    // in a third of the time
    gzipLevel: 4,
    // sorted runs beyond this go to disk: keeps the build well under 1 GiB next to the engine's workers
    sortMemoryMiB: Number(process.env.WEFT_SORT_MEMORY_MB ?? 256),
  });
  return { ...base, stats };
}
