// The activity profile's pure parts: the fade as written to tiles, thread feature ids, grid-cell counts, and which
// layer and zooms each kind of input goes to.
import { describe, expect, it } from 'vitest';
import {
  ACTIVITY_MAXZOOM,
  ACTIVITY_SOURCES,
  clusterNodes,
  createProfile,
  NODE_DETAIL_ZOOM,
  THREADS_MINZOOM,
  threadFeature,
  threadFeatureId,
  tileFade,
  type ActivityNode,
} from '../../pipeline/profiles/activity.js';
import { threadIdFor } from '../../core/domain/ids.js';
import { projectX, projectY } from '../../pipeline/tiler/project.js';

const node = (id: string, lon: number, lat: number, extra: Partial<ActivityNode> = {}): ActivityNode => ({
  id,
  title: id,
  kind: 'place',
  lon,
  lat,
  fade: 0.5,
  threads: 1,
  openProposals: 0,
  lastActivity: 1_700_000_000,
  ...extra,
});

describe('activity profile', () => {
  it('writes the fade rounded up to 1/1000, so a live thread never shows 0', () => {
    expect(tileFade(1)).toBe(1);
    expect(tileFade(0.5)).toBe(0.5);
    expect(tileFade(0.4996)).toBe(0.5);
    expect(tileFade(1e-9)).toBe(0.001);
    expect(tileFade(0)).toBe(0);
    expect(tileFade(1 - 1 / 7)).toBe(0.858);
  });

  it('gives threads a stable safe-integer feature id from their id', () => {
    const id = threadIdFor('r1', 'n1');
    expect(threadFeatureId(id)).toBe(Number.parseInt(id.slice(2, 15), 16));
    expect(threadFeatureId(id)).toBe(threadFeatureId(threadIdFor('r1', 'n1')));
    expect(threadFeatureId(id)).not.toBe(threadFeatureId(threadIdFor('r1', 'n2')));
    expect(Number.isSafeInteger(threadFeatureId('not-a-thread-id'))).toBe(true);
  });

  it('counts nodes per 64-px cell at their centroid, with max fade and summed counts', () => {
    // two nodes a few metres apart share a cell at z10; a third, 0.3° away, has its own
    const a = node('a', 7.42, 43.73, { fade: 0.25, threads: 2, openProposals: 1, lastActivity: 10 });
    const b = node('b', 7.4201, 43.7301, { fade: 0.75, threads: 3, lastActivity: 20 });
    const c = node('c', 7.72, 43.73, { fade: 1 });
    const cells = clusterNodes([a, b, c], 10);
    expect(cells).toHaveLength(2);
    const pair = cells.find((x) => x.count === 2)!;
    expect(pair).toMatchObject({ fade: 0.75, threads: 5, openProposals: 1, lastActivity: 20 });
    expect(pair.single).toBeUndefined();
    expect(projectX(pair.lon)).toBeCloseTo((projectX(7.42) + projectX(7.4201)) / 2, 12);
    expect(projectY(pair.lat)).toBeCloseTo((projectY(43.73) + projectY(43.7301)) / 2, 12);
    const alone = cells.find((x) => x.count === 1)!;
    expect(alone.single?.id).toBe('c');
    expect([alone.lon, alone.lat]).toEqual([7.72, 43.73]);
    // at z0 everything is one cell; the counts always add up
    expect(clusterNodes([a, b, c], 0).map((x) => x.count)).toEqual([3]);
  });

  it('sends threads to z12+, nodes to z12+, each cell to its own zoom, and refuses unknown inputs', () => {
    const p = createProfile({});
    const t = threadFeature({
      id: threadIdFor('r', 'n'),
      nodeId: 'n',
      from: [7.42, 43.73],
      to: [7.43, 43.74],
      fade: 0.3,
      lastActivity: 5,
    });
    const [line, ...rest] = p.map(t, ACTIVITY_SOURCES.threads);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      layer: 'threads',
      id: threadFeatureId(threadIdFor('r', 'n')),
      minzoom: THREADS_MINZOOM,
      maxzoom: ACTIVITY_MAXZOOM,
      properties: { node_id: 'n', fade: 0.3, last_activity: 5 },
    });
    const cell = p.map(
      { geometry: { type: 'Point', coordinates: [7.42, 43.73] }, properties: { z: 7, count: 4, fade: 1 } },
      ACTIVITY_SOURCES.clusters,
    );
    expect(cell).toMatchObject([
      { layer: 'nodes', minzoom: 7, maxzoom: 7, properties: { count: 4, fade: 1 } },
    ]);
    expect(cell[0]!.properties).not.toHaveProperty('z');
    const n = p.map(
      { geometry: { type: 'Point', coordinates: [7.42, 43.73] }, properties: { id: 'n', count: 1 } },
      ACTIVITY_SOURCES.nodes,
    );
    expect(n).toMatchObject([{ layer: 'nodes', minzoom: NODE_DETAIL_ZOOM, maxzoom: ACTIVITY_MAXZOOM }]);
    expect(() => p.map(t, 'elsewhere')).toThrow(/unknown input "elsewhere"/);
  });
});
