// `make bench-tiles`: tiles a large generated input (1 M points, 100 k lines and polygons) at z0–14 with the built
// CLI, three runs, and prints features/s, tiles/s, peak memory and the time per stage (median run).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { generateSeq } from './generate.js';

const root = new URL('..', import.meta.url).pathname;
const out = `${root}bench/out`;
mkdirSync(out, { recursive: true });
const input = `${out}/synthetic.geojsonl`;
const points = Number(process.env.POINTS ?? 1_000_000);
const lines = Number(process.env.LINES ?? 50_000);
const polygons = Number(process.env.POLYGONS ?? 50_000);
if (!existsSync(input) || process.env.REGENERATE) {
  process.stderr.write(`generating ${points} points, ${lines} lines, ${polygons} polygons…\n`);
  await generateSeq(input, { points, lines, polygons });
}
const runs = Number(process.env.RUNS ?? 3);
interface Run {
  wall: number;
  stats: {
    features: number;
    tiles: number;
    bytes: number;
    peakRssMiB: number;
    stages: { stage: string; seconds: number; perSecond: number; unit: string }[];
  };
}
const results: Run[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  execFileSync(
    'node',
    [
      `${root}bin/weft.js`,
      'tile',
      input,
      '-o',
      `${out}/synthetic.pmtiles`,
      '-z',
      '14',
      '-q',
      '--stats',
      `${out}/stats.json`,
    ],
    {
      stdio: 'inherit',
    },
  );
  const wall = (performance.now() - t0) / 1000;
  results.push({ wall, stats: JSON.parse(readFileSync(`${out}/stats.json`, 'utf8')) });
  process.stderr.write(`run ${i + 1}: ${wall.toFixed(2)} s\n`);
}
results.sort((a, b) => a.wall - b.wall);
const median = results[Math.floor(results.length / 2)]!;
const s = median.stats;
console.log(
  `input: ${(statSync(input).size / 1e6).toFixed(0)} MB GeoJSONSeq, ${s.features} features (z0–14)`,
);
console.log(
  `wall time (median of ${runs}): ${median.wall.toFixed(2)} s  [all: ${results.map((r) => r.wall.toFixed(2)).join(', ')}]`,
);
console.log(`features/s: ${Math.round(s.features / median.wall)}`);
console.log(
  `tiles: ${s.tiles}, tiles/s: ${Math.round(s.tiles / median.wall)}, archive tile bytes: ${s.bytes}`,
);
console.log(`peak RSS: ${s.peakRssMiB} MiB`);
for (const st of s.stages)
  console.log(`  stage ${st.stage}: ${st.seconds.toFixed(2)} s (${st.perSecond} ${st.unit}/s)`);
