// `weft releases`: a region's releases as records and as a table (stage, T, sizes), newest first.
import type { BlobStore } from '../../core/blob/adapter.js';
import { listReleases } from './catalog.js';
import { TAG } from './stage.js';

export interface ReleaseRecord {
  release: string;
  stage: string;
  /** the most recently promoted prod release */
  current: boolean;
  at: string | null;
  eventPosition: number | null;
  sizes: Record<string, number>;
  totalSize: number;
  promoted: string | null;
  retired: string | null;
  problem?: string;
}

export async function releaseRecords(blob: BlobStore, region: string): Promise<ReleaseRecord[]> {
  const entries = await listReleases(blob, region);
  const current = entries
    .filter((e) => e.stage === 'prod')
    .sort((a, b) => ((a.tags[TAG.promoted] ?? '') < (b.tags[TAG.promoted] ?? '') ? 1 : -1))[0];
  return entries.map((e) => {
    const sizes = Object.fromEntries((e.manifest?.files ?? []).map((f) => [f.layer, f.size]));
    return {
      release: e.id,
      stage: e.stage ?? 'untagged',
      current: e === current,
      at: e.manifest?.at ?? null,
      eventPosition: e.manifest?.eventPosition ?? null,
      sizes,
      totalSize: Object.values(sizes).reduce((a, b) => a + b, 0),
      promoted: e.tags[TAG.promoted] ?? null,
      retired: e.tags[TAG.retired] ?? null,
      ...(e.problem ? { problem: e.problem } : {}),
    };
  });
}

/** 1234567 → "1.2 MB". */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export function releaseTable(region: string, location: string, records: ReleaseRecord[]): string {
  if (!records.length) return `no releases of ${region} in ${location}\n`;
  const rows = [['RELEASE', 'STAGE', 'T', 'BASE', 'ACTIVITY', 'TOTAL']];
  for (const r of records)
    rows.push([
      r.release,
      r.stage + (r.current ? ' *' : ''),
      r.at ?? '?',
      r.sizes.base === undefined ? '-' : formatBytes(r.sizes.base),
      r.sizes.activity === undefined ? '-' : formatBytes(r.sizes.activity),
      r.problem ? `unreadable: ${r.problem}` : formatBytes(r.totalSize),
    ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  return lines.join('\n') + `\n(* the current prod release of ${region}, in ${location})\n`;
}
