// Sorted runs of the tiler's records compared across map paths: the native scanner writes its own runs, JavaScript
// one, so tests put them in the order the encoder reads them before comparing.
import { ByteReader } from '../../pipeline/tiler/bytes.js';
import type { RecordBatch } from '../../pipeline/tiler/records.js';

/** A record's sequence number: after its type and geometry (pipeline/tiler/records.ts). */
export function seqOf(b: RecordBatch, i: number): number {
  const r = new ByteReader(b.bytes);
  r.pos = b.offsets[i]! + 1;
  const geometry = r.varint();
  r.pos += geometry;
  return r.varint();
}

/**
 * Sorted runs as one, ordered by tile id then sequence number (records of one feature in one tile keep their run
 * order): what the encoder reads, whatever run each record came in. Records as hex.
 */
export function mergeRuns(runs: RecordBatch[]): { tileIds: number[]; records: string[] } {
  const records: { id: number; seq: number; at: number; bytes: Uint8Array }[] = [];
  for (const run of runs)
    for (let i = 0; i < run.tileIds.length; i++) {
      const end = i + 1 < run.offsets.length ? run.offsets[i + 1]! : run.bytes.length;
      records.push({
        id: run.tileIds[i]!,
        seq: seqOf(run, i),
        at: records.length,
        bytes: run.bytes.subarray(run.offsets[i]!, end),
      });
    }
  records.sort((x, y) => x.id - y.id || x.seq - y.seq || x.at - y.at);
  return {
    tileIds: records.map((r) => r.id),
    records: records.map((r) => Buffer.from(r.bytes).toString('hex')),
  };
}
