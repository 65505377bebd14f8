// Builds the SDF glyph PBFs MapLibre loads for labels (`glyphs: /fonts/{fontstack}/{range}.pbf`): every
// 256-codepoint range each Noto Sans font covers, rendered by fontnik (its npm tarball carries the native binary), into
// build/glyphs/<fontstack>/<start>-<end>.pbf plus manifest.json. Skips the work when the manifest says the same
// fonts were built by the same fontnik already (`--force` rebuilds). Run: npx tsx scripts/build-glyphs.ts [outDir]
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FONTSTACKS, NOTO_DIR } from '../styles/src/fonts.js';

const require = createRequire(import.meta.url);

interface FontnikFace {
  family_name: string;
  style_name?: string;
  points: number[];
}

interface Fontnik {
  load(font: Buffer, cb: (err: Error | null, faces: FontnikFace[]) => void): void;
  range(
    opts: { font: Buffer; start: number; end: number },
    cb: (err: Error | null, pbf: Buffer) => void,
  ): void;
}

/** The default output folder (outside git: /build/ is ignored). */
export const GLYPHS_DIR = fileURLToPath(new URL('../build/glyphs/', import.meta.url));

/** Bump when the output format or layout changes: a manifest of another version is rebuilt. */
const LAYOUT_VERSION = 1;

export interface GlyphFontSource {
  /** fontstack name, e.g. "Noto Sans Regular" */
  name: string;
  /** path of the TrueType/OpenType file */
  file: string;
}

export interface GlyphManifest {
  layout: number;
  fontnik: string;
  fontstacks: Record<
    string,
    { file: string; bytes: number; mtimeMs: number; codepoints: number; ranges: string[] }
  >;
}

export interface BuildGlyphsOptions {
  outDir?: string;
  fonts?: GlyphFontSource[];
  /** rebuild even when the manifest matches */
  force?: boolean;
  /** ranges rendered at once (fontnik renders on libuv's thread pool); default 2 */
  concurrency?: number;
  log?: (line: string) => void;
}

export interface BuildGlyphsResult {
  outDir: string;
  skipped: boolean;
  manifest: GlyphManifest;
  files: number;
  bytes: number;
  seconds: number;
}

/** The fontstacks the styles use, from Debian's fonts-noto-core. */
export function defaultFonts(): GlyphFontSource[] {
  return Object.entries(FONTSTACKS).map(([name, file]) => ({ name, file: join(NOTO_DIR, file) }));
}

/** "0-255" … "65280-65535" for the range holding codepoint block `block` (codepoint >> 8). */
export function rangeName(block: number): string {
  return `${block * 256}-${block * 256 + 255}`;
}

/** The 256-codepoint blocks (codepoint >> 8) holding at least one of `codepoints`, ascending, BMP only. */
export function coveredBlocks(codepoints: Iterable<number>): number[] {
  const blocks = new Set<number>();
  for (const cp of codepoints) if (cp >= 0 && cp <= 0xffff) blocks.add(cp >> 8);
  return [...blocks].sort((a, b) => a - b);
}

function fontnik(): Fontnik {
  return require('fontnik') as Fontnik;
}

function fontnikVersion(): string {
  return (require('fontnik/package.json') as { version: string }).version;
}

function loadFace(font: Buffer): Promise<FontnikFace> {
  return new Promise((ok, fail) =>
    fontnik().load(font, (err, faces) =>
      err ? fail(err) : faces[0] ? ok(faces[0]) : fail(new Error('no face')),
    ),
  );
}

function renderRange(font: Buffer, block: number): Promise<Buffer> {
  return new Promise((ok, fail) =>
    fontnik().range({ font, start: block * 256, end: block * 256 + 255 }, (err, pbf) =>
      err ? fail(err) : ok(pbf),
    ),
  );
}

function readManifest(outDir: string): GlyphManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as GlyphManifest;
  } catch {
    return undefined;
  }
}

/** True when `manifest` was built from exactly these font files (size, mtime) by this fontnik and layout. */
function upToDate(manifest: GlyphManifest | undefined, fonts: GlyphFontSource[], outDir: string): boolean {
  if (!manifest || manifest.layout !== LAYOUT_VERSION || manifest.fontnik !== fontnikVersion()) return false;
  if (Object.keys(manifest.fontstacks).length !== fonts.length) return false;
  return fonts.every((f) => {
    const m = manifest.fontstacks[f.name];
    if (!m || m.file !== f.file) return false;
    const st = statSync(f.file);
    return (
      m.bytes === st.size &&
      m.mtimeMs === st.mtimeMs &&
      m.ranges.every((r) => existsSync(join(outDir, f.name, `${r}.pbf`)))
    );
  });
}

/** Runs `tasks` with at most `n` in flight. */
async function pool(tasks: (() => Promise<void>)[], n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
}

/**
 * Builds every range each font covers into `<outDir>/<fontstack>/<start>-<end>.pbf` (written to a temporary
 * folder first, then moved into place) unless the manifest says it is current.
 */
export async function buildGlyphs(opts: BuildGlyphsOptions = {}): Promise<BuildGlyphsResult> {
  const started = performance.now();
  const outDir = resolve(opts.outDir ?? GLYPHS_DIR);
  const fonts = opts.fonts ?? defaultFonts();
  const log = opts.log ?? (() => {});
  for (const f of fonts) {
    if (!existsSync(f.file))
      throw new Error(
        `build-glyphs: ${f.file} is missing (install Debian's fonts-noto-core: scripts/setup.sh does it as root)`,
      );
    if (!f.name || /[/\\,]/.test(f.name) || f.name.startsWith('.'))
      throw new Error(`build-glyphs: "${f.name}" is not a usable fontstack name`);
  }
  const old = readManifest(outDir);
  if (!opts.force && upToDate(old, fonts, outDir)) {
    const seconds = (performance.now() - started) / 1000;
    return { outDir, skipped: true, manifest: old!, files: 0, bytes: 0, seconds };
  }

  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const manifest: GlyphManifest = { layout: LAYOUT_VERSION, fontnik: fontnikVersion(), fontstacks: {} };
  let files = 0;
  let bytes = 0;
  try {
    const tasks: (() => Promise<void>)[] = [];
    for (const f of fonts) {
      const font = readFileSync(f.file);
      const st = statSync(f.file);
      const face = await loadFace(font);
      const blocks = coveredBlocks(face.points);
      mkdirSync(join(tmp, f.name), { recursive: true });
      manifest.fontstacks[f.name] = {
        file: f.file,
        bytes: st.size,
        mtimeMs: st.mtimeMs,
        codepoints: face.points.length,
        ranges: blocks.map(rangeName),
      };
      for (const block of blocks)
        tasks.push(async () => {
          const pbf = await renderRange(font, block);
          writeFileSync(join(tmp, f.name, `${rangeName(block)}.pbf`), pbf);
          files++;
          bytes += pbf.length;
        });
      log(`build-glyphs: ${f.name} (${f.file}): ${face.points.length} codepoints in ${blocks.length} ranges`);
    }
    await pool(tasks, opts.concurrency ?? 2);
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(join(outDir, '..'), { recursive: true });
    renameSync(tmp, outDir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const seconds = (performance.now() - started) / 1000;
  log(
    `build-glyphs: wrote ${files} files, ${(bytes / 1e6).toFixed(1)} MB, to ${outDir} in ${seconds.toFixed(1)} s`,
  );
  return { outDir, skipped: false, manifest, files, bytes, seconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const outDir = args.find((a) => !a.startsWith('--'));
  buildGlyphs({ outDir, force, log: (l) => console.log(l) }).then(
    (r) => {
      if (r.skipped) console.log(`build-glyphs: ${r.outDir} is up to date`);
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
