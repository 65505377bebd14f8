// Test helper: a small valid MVT 2.1 tile written by hand with `pbf` (independent of our encoder): one layer of points.
import { PbfWriter } from 'pbf';

export interface SamplePoint {
  id: number;
  x: number;
  y: number;
  props: Record<string, string>;
}

const zigzag = (n: number) => (n << 1) ^ (n >> 31);

export function samplePointTile(layerName: string, points: SamplePoint[]): Uint8Array {
  const keys: string[] = [];
  const values: string[] = [];
  const index = (list: string[], v: string) => {
    const i = list.indexOf(v);
    return i >= 0 ? i : list.push(v) - 1;
  };
  const features = points.map((p) => ({
    id: p.id,
    tags: Object.entries(p.props).flatMap(([k, v]) => [index(keys, k), index(values, v)]),
    geometry: [(1 & 0x7) | (1 << 3), zigzag(p.x), zigzag(p.y)],
  }));
  const pbf = new PbfWriter();
  pbf.writeMessage(
    3,
    (_: null, w: PbfWriter) => {
      w.writeVarintField(15, 2);
      w.writeStringField(1, layerName);
      for (const f of features) {
        w.writeMessage(
          2,
          (feature: typeof f, fw: PbfWriter) => {
            fw.writeVarintField(1, feature.id);
            fw.writePackedVarint(2, feature.tags);
            fw.writeVarintField(3, 1);
            fw.writePackedVarint(4, feature.geometry);
          },
          f,
        );
      }
      for (const k of keys) w.writeStringField(3, k);
      for (const v of values) w.writeMessage(4, (s: string, vw: PbfWriter) => vw.writeStringField(1, s), v);
      w.writeVarintField(5, 4096);
    },
    null,
  );
  return pbf.finish().slice();
}
