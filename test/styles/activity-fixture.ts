// Test helper: a small real activity archive over Monaco made with the activity profile and the tiling engine, the
// way `weft build activity` feeds it (threads, single nodes from z12, counted cells below) — without a database.
import { join } from 'node:path';
import {
  ACTIVITY_MAXZOOM,
  ACTIVITY_SOURCES,
  NODE_DETAIL_ZOOM,
  activityLayers,
  clusterFeature,
  clusterNodes,
  nodeFeature,
  threadFeature,
  type ActivityNode,
  type ActivityThread,
} from '../../pipeline/profiles/activity.js';
import { runEngine, type InputChunk } from '../../pipeline/tiler/engine.js';
import { loadRegion } from '../../pipeline/region.js';
import type { SourceFeature } from '../../pipeline/tiler/types.js';

export interface ActivityFixture {
  archive: string;
  nodes: ActivityNode[];
  threads: ActivityThread[];
}

const KINDS = ['place', 'topic', 'meeting', 'project', 'concern'];

/** Nodes on a ring around `center` (fresh to nearly faded, some with open proposals), threads to each of them. */
export function activityFeatures(center: [number, number], n = 10): Omit<ActivityFixture, 'archive'> {
  const [lon0, lat0] = center;
  const T = Date.UTC(2025, 5, 1) / 1000;
  const nodes: ActivityNode[] = [];
  const threads: ActivityThread[] = [];
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n;
    const r = 0.004 + 0.002 * (i % 3);
    const node: ActivityNode = {
      id: `n-${String(i).padStart(4, '0')}`,
      title: `Node ${i + 1}`,
      kind: KINDS[i % KINDS.length]!,
      lon: lon0 + r * Math.cos(a),
      lat: lat0 + 0.7 * r * Math.sin(a),
      fade: i === 0 ? 1 : Math.max(0.1, 1 - i / n),
      threads: 1 + (i % 4),
      openProposals: i % 3 === 0 ? 1 + (i % 2) : 0,
      lastActivity: T - i * 3600,
    };
    nodes.push(node);
    for (let t = 0; t < node.threads; t++) {
      const b = a + 0.6 * (t + 1);
      threads.push({
        id: `t-${(i * 16 + t).toString(16).padStart(24, '0')}`,
        nodeId: node.id,
        from: [node.lon + 0.003 * Math.cos(b), node.lat + 0.002 * Math.sin(b)],
        to: [node.lon, node.lat],
        fade: Math.max(0.05, node.fade - 0.1 * t),
        lastActivity: node.lastActivity - t * 600,
      });
    }
  }
  return { nodes, threads };
}

/** Writes `<dir>/activity.pmtiles` for Monaco (z0–13) from activityFeatures. */
export async function makeActivityArchive(dir: string, n = 10): Promise<ActivityFixture> {
  const region = loadRegion('monaco');
  const { nodes, threads } = activityFeatures([region.center[0], region.center[1]], n);
  const maxzoom = ACTIVITY_MAXZOOM;
  async function* chunks(): AsyncGenerator<InputChunk> {
    let index = 0;
    const chunk = (features: SourceFeature[], input: string, source: string): InputChunk => {
      const c: InputChunk = { kind: 'features', features, input, source, firstIndex: index };
      index += features.length;
      return c;
    };
    yield chunk(threads.map(threadFeature), 'threads', ACTIVITY_SOURCES.threads);
    yield chunk(nodes.map(nodeFeature), 'nodes', ACTIVITY_SOURCES.nodes);
    for (let z = 0; z < NODE_DETAIL_ZOOM; z++)
      yield chunk(clusterNodes(nodes, z).map(clusterFeature), `nodes@z${z}`, ACTIVITY_SOURCES.clusters);
  }
  const archive = join(dir, 'activity.pmtiles');
  await runEngine(chunks(), {
    output: archive,
    profile: { module: new URL('../../pipeline/profiles/activity.ts', import.meta.url).href, options: {} },
    minzoom: 0,
    maxzoom,
    workers: 1,
    vectorLayers: activityLayers,
    bounds: region.bbox,
    clip: region.bbox,
    center: [region.center[0], region.center[1], 12],
    metadata: { name: 'Monaco activity (test)', format: 'pbf', attribution: 'weft test participants' },
  });
  return { archive, nodes, threads };
}
