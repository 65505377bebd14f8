// `make bench-base`: our base-map build vs tilemaker 2.2 (its shipped OpenMapTiles config) on the same OSM extracts,
// z0–14, 2 threads each, alternating runs: wall time (median), peak RSS, output size, tile count, ratios, our time
// per stage, how our time grows with input size, and the `osmium export` floor for reading each extract.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { unzipEntries } from '../pipeline/osm/shapefile.js';
import { timed, which, type Timed } from './timed.js';

const root = new URL('..', import.meta.url).pathname;
const out = path.join(root, 'bench/out/base');
const runs = Number(process.env.RUNS ?? 3);
const threads = Number(process.env.THREADS ?? 2);
const regionIds = (process.env.REGIONS ?? 'monaco,liechtenstein,andorra').split(',');
const osmDirs = [
  ...(process.env.WEFT_OSM_PATH ?? '').split(path.delimiter).filter(Boolean),
  path.join(root, '../shared/data/osm'),
];
const coastlineZip = path.join(root, '../shared/data/coastline/water-polygons-split-3857.zip');
const tilemakerExamples = '/usr/share/doc/tilemaker/examples';
const exportConfig = path.join(root, 'pipeline/osm/export-config.json');
const MIB = 1024 * 1024;

/** Runs a command under GNU time: wall seconds and peak RSS of the process, measured alike for both tools. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Timed {
  return timed(cmd, args, { timeFile: path.join(out, '.time'), cwd: opts.cwd ?? root, env: opts.env });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Least squares y ≈ a + b·x. */
function linearFit(xs: number[], ys: number[]): { a: number; b: number; r2: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  const b = sxx > 0 ? sxy / sxx : 0;
  return { a: my - b * mx, b, r2: syy > 0 ? (sxy * sxy) / (sxx * syy) : 1 };
}

/**
 * Rewrites a polygon shapefile's coordinates from EPSG:3857 metres to EPSG:4326 degrees, in place. The record
 * layout keeps its sizes, so the .shx index and the .dbf stay valid. tilemaker 2.2 reads .shp coordinates as
 * longitude/latitude and ignores the .prj, so the water polygons we read in 3857 must be handed to it in 4326.
 */
function reprojectShpTo4326(shp: Buffer): number {
  const R = 6378137;
  const lon = (x: number) => ((x / R) * 180) / Math.PI;
  const lat = (y: number) => ((2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) * 180) / Math.PI;
  const box = (at: number) => {
    shp.writeDoubleLE(lon(shp.readDoubleLE(at)), at);
    shp.writeDoubleLE(lat(shp.readDoubleLE(at + 8)), at + 8);
    shp.writeDoubleLE(lon(shp.readDoubleLE(at + 16)), at + 16);
    shp.writeDoubleLE(lat(shp.readDoubleLE(at + 24)), at + 24);
  };
  if (shp.readInt32BE(0) !== 9994) throw new Error('not a shapefile (.shp magic)');
  box(36);
  let records = 0;
  for (let at = 100; at + 8 <= shp.length;) {
    const length = shp.readInt32BE(at + 4) * 2;
    const content = at + 8;
    const type = shp.readInt32LE(content);
    if (type === 5) {
      box(content + 4);
      const parts = shp.readInt32LE(content + 36);
      const points = shp.readInt32LE(content + 40);
      const first = content + 44 + 4 * parts;
      for (let p = 0; p < points; p++) {
        const o = first + 16 * p;
        shp.writeDoubleLE(lon(shp.readDoubleLE(o)), o);
        shp.writeDoubleLE(lat(shp.readDoubleLE(o + 8)), o + 8);
      }
      records++;
    } else if (type !== 0) throw new Error(`shape type ${type} is not a polygon`);
    at = content + length;
  }
  return records;
}

const WGS84_PRJ =
  'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],' +
  'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]';

/**
 * tilemaker's working folder: its OpenMapTiles process script, its config without the layers whose shapefiles we do
 * not have (Natural Earth urban areas, ice shelves, glaciers), and our water polygons reprojected to 4326 for its
 * ocean layer. Returns the layers dropped.
 */
function prepareTilemaker(dir: string): { dropped: string[]; oceanRecords: number } {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'coastline'), { recursive: true });
  copyFileSync(path.join(tilemakerExamples, 'process-openmaptiles.lua'), path.join(dir, 'process.lua'));
  let oceanRecords = 0;
  if (existsSync(coastlineZip)) {
    const files = unzipEntries(new Uint8Array(readFileSync(coastlineZip)), (f) =>
      /\.(shp|shx|dbf)$/i.test(f),
    );
    for (const [name, bytes] of files) {
      const file = Buffer.from(bytes);
      if (/\.shp$/i.test(name)) oceanRecords = reprojectShpTo4326(file);
      writeFileSync(path.join(dir, 'coastline', path.basename(name)), file);
    }
    writeFileSync(path.join(dir, 'coastline/water_polygons.prj'), WGS84_PRJ);
  }
  const config = JSON.parse(
    readFileSync(path.join(tilemakerExamples, 'config-openmaptiles.json'), 'utf8'),
  ) as {
    layers: Record<string, { source?: string }>;
    settings: Record<string, unknown>;
  };
  const dropped: string[] = [];
  for (const [name, layer] of Object.entries(config.layers)) {
    if (layer.source && !existsSync(path.join(dir, layer.source))) {
      delete config.layers[name];
      dropped.push(name);
    }
  }
  config.settings.minzoom = 0;
  config.settings.maxzoom = 14;
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return { dropped, oceanRecords };
}

interface StageStat {
  stage: string;
  seconds: number;
  items: number;
  unit: string;
  perSecond: number;
  peakRssMiB?: number;
}
interface BaseStats {
  features: number;
  tiles: number;
  bytes: number;
  seconds: number;
  peakRssMiB: number;
  tilesPerZoom: Record<string, number>;
  stages: StageStat[];
}
interface OursRun extends Timed {
  stats: BaseStats;
  fileBytes: number;
}
interface TilemakerRun extends Timed {
  tiles: number;
  tileBytes: number;
  fileBytes: number;
  shapePolygons: number;
}

function runOurs(regionId: string): OursRun {
  const dir = path.join(out, regionId, 'ours');
  rmSync(dir, { recursive: true, force: true });
  const t = run('node', [
    path.join(root, 'bin/weft.js'),
    'build',
    'base',
    '--region',
    regionId,
    '-o',
    dir,
    '--workers',
    String(threads),
    '-q',
  ]);
  const stats = JSON.parse(readFileSync(path.join(dir, 'base.stats.json'), 'utf8')) as BaseStats;
  return { ...t, stats, fileBytes: statSync(path.join(dir, 'base.pmtiles')).size };
}

function runTilemaker(regionId: string, pbf: string, tmDir: string): TilemakerRun {
  const mbtiles = path.join(out, regionId, 'tilemaker.mbtiles');
  rmSync(mbtiles, { force: true });
  const t = run(
    'tilemaker',
    [
      '--input',
      pbf,
      '--output',
      mbtiles,
      '--config',
      'config.json',
      '--process',
      'process.lua',
      '--threads',
      String(threads),
    ],
    { cwd: tmDir },
  );
  const [count, bytes] = execFileSync(
    'sqlite3',
    ['-readonly', mbtiles, 'select count(*) || " " || coalesce(sum(length(tile_data)), 0) from tiles'],
    { encoding: 'utf8' },
  )
    .trim()
    .split(' ')
    .map(Number);
  const shapes = /Shape points: \d+, lines: \d+, polygons: (\d+)/.exec(t.stdout);
  return {
    ...t,
    tiles: count!,
    tileBytes: bytes!,
    fileBytes: statSync(mbtiles).size,
    shapePolygons: shapes ? Number(shapes[1]) : -1,
  };
}

function osmiumFloor(pbf: string): Timed {
  return run('osmium', [
    'export',
    pbf,
    '-f',
    'geojsonseq',
    '-x',
    'print_record_separator=false',
    '-c',
    exportConfig,
    '--no-progress',
    '-O',
    '-o',
    '/dev/null',
  ]);
}

function findExtract(regionId: string): { pbf?: string; name: string } {
  const region = JSON.parse(readFileSync(path.join(root, 'regions', `${regionId}.json`), 'utf8')) as {
    name: string;
    source: { url: string; file?: string };
  };
  const file = region.source.file ?? path.basename(new URL(region.source.url).pathname);
  const pbf = osmDirs.map((d) => path.join(d, file)).find((p) => existsSync(p));
  return { pbf, name: region.name };
}

// ---- main ----------------------------------------------------------------------------------------------------
for (const tool of ['tilemaker', 'osmium', 'sqlite3', '/usr/bin/time']) {
  if (!which(tool)) {
    console.error(`bench-base: ${tool} is not installed (run: bash scripts/setup.sh --bench); stopping`);
    process.exit(1);
  }
}
if (!existsSync(path.join(root, 'build/cli'))) {
  console.error('bench-base: the CLI is not built (run: npx tsc -p tsconfig.build.json); stopping');
  process.exit(1);
}
mkdirSync(out, { recursive: true });
const tmDir = path.join(out, 'tilemaker');
const { dropped, oceanRecords } = prepareTilemaker(tmDir);

interface Result {
  id: string;
  name: string;
  pbfBytes: number;
  /** OSM nodes in the extract (osmium fileinfo) */
  nodes: number;
  ours: OursRun[];
  tm: TilemakerRun[];
  osmium: Timed[];
}
const results: Result[] = [];
for (const id of regionIds) {
  const { pbf, name } = findExtract(id);
  if (!pbf) {
    console.error(`bench-base: no extract for region ${id} in ${osmDirs.join(', ')}; skipped`);
    continue;
  }
  mkdirSync(path.join(out, id), { recursive: true });
  const nodes = Number(
    execFileSync('osmium', ['fileinfo', '-e', '-g', 'data.count.nodes', pbf], { encoding: 'utf8' }).trim(),
  );
  const r: Result = { id, name, pbfBytes: statSync(pbf).size, nodes, ours: [], tm: [], osmium: [] };
  for (let i = 0; i < runs; i++) {
    // alternate which side goes first, so a load swing on the shared machine hits both alike
    const order = i % 2 === 0 ? (['ours', 'tm'] as const) : (['tm', 'ours'] as const);
    for (const side of order) {
      if (side === 'ours') r.ours.push(runOurs(id));
      else r.tm.push(runTilemaker(id, pbf, tmDir));
    }
    r.osmium.push(osmiumFloor(pbf));
    const o = r.ours.at(-1)!;
    const t = r.tm.at(-1)!;
    console.error(
      `${id} run ${i + 1}/${runs}: ours ${o.seconds.toFixed(2)} s ${o.rssMiB.toFixed(0)} MiB, ` +
        `tilemaker ${t.seconds.toFixed(2)} s ${t.rssMiB.toFixed(0)} MiB, osmium export ${r.osmium.at(-1)!.seconds.toFixed(2)} s`,
    );
  }
  results.push(r);
}

// ---- report --------------------------------------------------------------------------------------------------
const f2 = (x: number) => x.toFixed(2);
const mb = (b: number) => (b / 1e6).toFixed(2);
const pad = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    )
    .join('\n');
};
/** The run with the median wall time (its stats are reported alongside). */
const medianRun = <T extends Timed>(xs: T[]): T =>
  [...xs].sort((a, b) => a.seconds - b.seconds)[Math.floor(xs.length / 2)]!;

let load = '';
try {
  load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
} catch {
  /* not Linux */
}
const tmVersion = execFileSync('tilemaker', ['--help'], { encoding: 'utf8' }).split('\n')[0]!.trim();
console.log(
  `\n## bench-base: weft build base vs ${tmVersion} (OpenMapTiles config), z0–14, ${threads} threads each`,
);
console.log(
  `${runs} alternating runs per extract; wall time = median; peak RSS = max over runs (GNU time %M); load average now ${load}`,
);
console.log(
  `tilemaker ocean: ${oceanRecords ? `our water polygons (${oceanRecords} records) reprojected 3857→4326` : 'none (no coastline file)'}; ` +
    `layers dropped (no shapefile): ${dropped.join(', ') || 'none'}`,
);

const rows: string[][] = [
  [
    'extract',
    'PBF MB',
    'ours s',
    'tm s',
    'ratio',
    'ours MiB',
    'tm MiB',
    'ours MB',
    'tm MB',
    'ours tiles',
    'tm tiles',
    'target',
  ],
];
for (const r of results) {
  const ow = median(r.ours.map((x) => x.seconds));
  const tw = median(r.tm.map((x) => x.seconds));
  const orss = Math.max(...r.ours.map((x) => x.rssMiB));
  const trss = Math.max(...r.tm.map((x) => x.rssMiB));
  const o = medianRun(r.ours);
  const t = medianRun(r.tm);
  const ok = ow <= 0.5 * tw && orss <= 1024;
  rows.push([
    r.name,
    mb(r.pbfBytes),
    f2(ow),
    f2(tw),
    f2(ow / tw),
    orss.toFixed(0),
    trss.toFixed(0),
    mb(o.fileBytes),
    mb(t.fileBytes),
    String(o.stats.tiles),
    String(t.tiles),
    ok ? 'met' : `missed (${ow / tw > 0.5 ? 'time' : ''}${orss > 1024 ? ' memory' : ''})`,
  ]);
}
console.log('\n' + pad(rows));
console.log(
  'ratio = ours/tilemaker wall time (target ≤ 0.50, peak RSS ≤ 1024 MiB); MB = archive file size ' +
    '(ours PMTiles, tilemaker MBTiles/SQLite); tile contents differ (Shortbread 1.0 vs OpenMapTiles)',
);
const sizeRows: string[][] = [
  ['extract', 'ours tile bytes', 'tm tile bytes', 'tm ocean polygons', 'all ours s', 'all tm s'],
];
for (const r of results) {
  sizeRows.push([
    r.name,
    String(medianRun(r.ours).stats.bytes),
    String(medianRun(r.tm).tileBytes),
    String(medianRun(r.tm).shapePolygons),
    r.ours.map((x) => f2(x.seconds)).join(' '),
    r.tm.map((x) => f2(x.seconds)).join(' '),
  ]);
}
console.log('\n' + pad(sizeRows));

console.log(
  '\n### where our time goes (median run; stats.json stages, "outside" = wall − engine time: startup, exit)',
);
const stageNames = [...new Set(results.flatMap((r) => medianRun(r.ours).stats.stages.map((s) => s.stage)))];
const stageRows: string[][] = [
  ['extract', 'wall s', ...stageNames.map((s) => `${s} s`), 'outside s', 'stage rates'],
];
for (const r of results) {
  const o = medianRun(r.ours);
  stageRows.push([
    r.name,
    f2(o.seconds),
    ...stageNames.map((n) => {
      const s = o.stats.stages.find((x) => x.stage === n);
      return s ? f2(s.seconds) : '-';
    }),
    f2(o.seconds - o.stats.seconds),
    o.stats.stages.map((s) => `${s.perSecond} ${s.unit}/s`).join(', '),
  ]);
}
console.log(pad(stageRows));

console.log(
  '\n### scaling (our wall time and memory against input size; osmium export = the floor for reading)',
);
const scaleRows: string[][] = [
  [
    'extract',
    'PBF MB',
    'OSM nodes',
    'features',
    'ours s',
    'engine s',
    'ours MiB',
    'osmium export s',
    'ours/osmium',
  ],
];
for (const r of results) {
  const o = medianRun(r.ours);
  const os = median(r.osmium.map((x) => x.seconds));
  scaleRows.push([
    r.name,
    mb(r.pbfBytes),
    String(r.nodes),
    String(o.stats.features),
    f2(median(r.ours.map((x) => x.seconds))),
    f2(o.stats.seconds),
    Math.max(...r.ours.map((x) => x.rssMiB)).toFixed(0),
    f2(os),
    os > 0 ? (median(r.ours.map((x) => x.seconds)) / os).toFixed(1) : '-',
  ]);
}
console.log(pad(scaleRows));
if (results.length >= 2) {
  const feats = results.map((r) => medianRun(r.ours).stats.features);
  const secs = results.map((r) => median(r.ours.map((x) => x.seconds)));
  const engine = results.map((r) => medianRun(r.ours).stats.seconds);
  const rss = results.map((r) => Math.max(...r.ours.map((x) => x.rssMiB)));
  const tmSecs = results.map((r) => median(r.tm.map((x) => x.seconds)));
  const fit = linearFit(feats, secs);
  const engineFit = linearFit(feats, engine);
  const rssFit = linearFit(feats, rss);
  const tmFit = linearFit(feats, tmSecs);
  const perMB = feats.reduce((s, f) => s + f, 0) / results.reduce((s, r) => s + r.pbfBytes / 1e6, 0);
  const line = (name: string, f: { a: number; b: number; r2: number }, unit: string, digits: number) =>
    `${name.padEnd(22)} ${unit} ≈ ${f.a.toFixed(digits)} + ${(f.b * 1e6).toFixed(digits)} × M features  (R² ${f2(f.r2)})`;
  console.log(`features = our exported OSM features (stats.json); fits over the ${results.length} extracts:`);
  console.log(
    line('ours, wall', fit, 'seconds', 2) +
      (fit.b > 0 ? `; marginal ${Math.round(1 / fit.b)} features/s` : ''),
  );
  console.log(line('ours, engine only', engineFit, 'seconds', 2) + ' (wall minus CLI startup and exit)');
  const nodeFit = linearFit(
    results.map((r) => r.nodes),
    secs,
  );
  console.log(
    `${'ours, wall vs nodes'.padEnd(22)} seconds ≈ ${f2(nodeFit.a)} + ${(nodeFit.b * 1e6).toFixed(2)} × M OSM nodes  (R² ${f2(nodeFit.r2)})`,
  );
  console.log(
    line('ours, peak RSS', rssFit, 'MiB', 0) +
      ' (small extracts: do not extrapolate; sorted runs spill to disk past 768 MiB)',
  );
  console.log(
    tmFit.b > 0
      ? line('tilemaker, wall', tmFit, 'seconds', 2)
      : 'tilemaker, wall: no growth resolvable over these extracts (its fixed cost and the noise dominate)',
  );
  console.log(`input density: ≈ ${Math.round(perMB)} exported features per MB of PBF (these extracts)`);
  if (!(fit.b > 0 && fit.r2 >= 0.5)) {
    console.log('rough estimate for larger extracts: not resolvable from this run (noise dominates the fit)');
  } else
    for (const pbfMB of [100, 500]) {
      const f = pbfMB * perMB;
      console.log(
        `rough estimate, a ${pbfMB} MB extract (≈ ${(f / 1e6).toFixed(1)} M features): ours ≈ ${Math.round(fit.a + fit.b * f)} s` +
          (tmFit.b > 0 ? `, tilemaker ≈ ${Math.round(tmFit.a + tmFit.b * f)} s` : '') +
          ' (linear from small extracts: an order of magnitude only)',
      );
    }
}
