// `make bench-tiles`: tiles a large generated input (1 M points, 100 k lines and polygons) at z0–14 with the built
// CLI, three runs, and prints features/s, tiles/s, CPU seconds, peak memory and the time per stage (median run).
// Then it measures the floor of reading and compressing this input: the native scan of every line (it takes the
// plain points, lines and polygons; native/geojson.c), JSON.parse of the lines it leaves and gzip of every tile
// written, each on one core, and the features/s that floor alone would allow on this machine's cores.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { generateSeq } from './generate.js';
import { timed } from './timed.js';
import { PMTilesReader, fileSource } from '../pipeline/pmtiles/reader.js';
import { tileIdToZxy } from '../pipeline/pmtiles/tileid.js';
import { TileGzip, gzipBackend } from '../pipeline/tiler/gzip.js';
import {
  nativeScanner,
  nativeScannerError,
  SCAN_POINTS,
  SCAN_SHAPES,
} from '../pipeline/tiler/native-points.js';
import { nativeTileEncoderError } from '../pipeline/tiler/native-tiles.js';

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
  /** user + system CPU seconds of the tiling process and its worker threads */
  cpu: number;
  stats: {
    features: number;
    tiles: number;
    bytes: number;
    peakRssMiB: number;
    gzip: string;
    scannedPoints: number;
    scannedShapes: number;
    nativeTiles: number;
    stages: { stage: string; seconds: number; perSecond: number; unit: string }[];
  };
}
const results: Run[] = [];
for (let i = 0; i < runs; i++) {
  const t = timed(
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
    { timeFile: `${out}/time.txt`, inherit: true },
  );
  results.push({
    wall: t.seconds,
    cpu: t.cpuSeconds,
    stats: JSON.parse(readFileSync(`${out}/stats.json`, 'utf8')),
  });
  process.stderr.write(`run ${i + 1}: ${t.seconds.toFixed(2)} s, ${t.cpuSeconds.toFixed(1)} CPU-s\n`);
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
console.log(`peak RSS: ${s.peakRssMiB} MiB; tiles gzipped by ${s.gzip}`);
console.log(
  `features read by the native scanner: ${s.scannedPoints} points and ${s.scannedShapes} lines and polygons of ${s.features}` +
    (s.scannedPoints + s.scannedShapes ? '' : ` (${nativeScannerError() || 'none in the input'})`),
);
console.log(
  `tiles encoded by the native encoder: ${s.nativeTiles} of ${s.tiles}` +
    (s.nativeTiles ? '' : ` (${nativeTileEncoderError() || 'left to JavaScript'})`),
);
for (const st of s.stages)
  console.log(`  stage ${st.stage}: ${st.seconds.toFixed(2)} s (${st.perSecond} ${st.unit}/s)`);
console.log(
  `CPU: ${median.cpu.toFixed(1)} s (user + system; ${(median.cpu / median.wall).toFixed(2)} cores busy)`,
);

// ---- the floor: parsing the input and compressing the output, each alone on one core ----------------------------
const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};
// reading: the native scan of every line (it takes the plain points, lines and polygons), then JSON.parse of the
// lines it leaves
const inputBytes = readFileSync(input);
const scanner = nativeScanner();
let c0 = process.cpuUsage();
const rest: [number, number][] = [];
/** lines read (by the scanner, or split here without it) */
let scannedLines = 0;
const CHUNK = 4 << 20;
for (let from = 0; from < inputBytes.length;) {
  let to = Math.min(inputBytes.length, from + CHUNK);
  if (to < inputBytes.length) to = inputBytes.indexOf(10, to) + 1 || inputBytes.length;
  const chunk = inputBytes.subarray(from, to);
  if (scanner) {
    const { items } = scanner.scanPoints(chunk, SCAN_POINTS | SCAN_SHAPES);
    for (let k = 0; k < items.length; k += scanner.ITEM_SIZE, scannedLines++)
      if (items[k] === 0) rest.push([from + items[k + 2]!, from + items[k + 3]!]);
  } else {
    for (let start = 0; start < chunk.length;) {
      let end = chunk.indexOf(10, start);
      if (end < 0) end = chunk.length;
      if (end > start) {
        rest.push([from + start, from + end]);
        scannedLines++;
      }
      start = end + 1;
    }
  }
  from = to;
}
const scanCpu = scanner ? cpuSeconds(c0) : 0;
c0 = process.cpuUsage();
for (const [start, end] of rest) JSON.parse(inputBytes.toString('latin1', start, end)); // the generator writes ASCII
const parseCpu = cpuSeconds(c0);
const reader = await PMTilesReader.open(fileSource(`${out}/synthetic.pmtiles`));
const raws: Uint8Array[] = [];
for await (const e of reader.entries()) {
  const [z, x, y] = tileIdToZxy(e.tileId);
  raws.push(gunzipSync((await reader.getTile(z, x, y))!));
}
await reader.close();
const gzipCpuOf = (kind: 'native' | 'zlib'): number => {
  const gz = new TileGzip(6, kind);
  const c = process.cpuUsage();
  for (const t of raws) gz.gzip(t);
  gz.close();
  return cpuSeconds(c);
};
const gzipCpu = gzipCpuOf('native');
console.log(
  `gzip (level 6) of the ${raws.length} tiles: ${gzipBackend()} ${gzipCpu.toFixed(2)} CPU-s, ` +
    `zlib ${process.versions.zlib} ${gzipCpuOf('zlib').toFixed(2)} CPU-s`,
);
const cores = availableParallelism();
const floor = scanCpu + parseCpu + gzipCpu;
console.log(
  `floor: ${scanner ? `native scan of ${scannedLines} lines ${scanCpu.toFixed(2)} CPU-s + ` : ''}` +
    `JSON.parse of the ${rest.length} lines ${scanner ? 'it leaves' : ''} ${parseCpu.toFixed(2)} CPU-s + ` +
    `gzip (${gzipBackend()}, level 6) of the ${raws.length} stored tiles ` +
    `${gzipCpu.toFixed(2)} CPU-s = ${floor.toFixed(2)} CPU-s, ${((100 * floor) / median.cpu).toFixed(0)} % of the run's CPU; ` +
    `on ${cores} cores that alone allows at most ${Math.round((s.features * cores) / floor)} features/s`,
);
