// The glyph route on the hot path: GET /fonts/{fontstack}/{range}.pbf answers the SDF glyph PBFs that
// scripts/build-glyphs.ts built into build/glyphs (a fontstack folder of <start>-<end>.pbf files). A comma list of
// fontstacks (MapLibre joins `text-font` with commas) is served by the first one we have; a range the font lacks
// gets a valid glyphs PBF without glyphs (200), so MapLibre never falls back to system fonts. Files are read once
// and kept in memory with their gzip form.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { RequestTarget } from '../context.js';
import { sendJson } from '../http.js';
import { noneMatch } from '../conditional.js';
import { PUBLIC_HEADERS } from '../headers.js';
import { setRoute } from '../ops.js';

export const FONT_ROUTE = '/fonts/{fontstack}/{range}.pbf';
const PREFIX = '/fonts/';
/** Glyphs change only when the fonts are rebuilt: a month, revalidated by ETag afterwards. */
const CACHE_CONTROL = 'public, max-age=2592000, stale-while-revalidate=86400';
const MAX_STACKS = 8;
const RANGE = /^(\d{1,5})-(\d{1,5})\.pbf$/;

/** A parsed /fonts/ path: the fontstack names asked for (in order) and the range's first codepoint. */
export interface FontRequest {
  stacks: string[];
  start: number;
}

/** Parses `/fonts/<stack>[,<stack>…]/<start>-<end>.pbf` (decoded path); undefined when malformed. */
export function parseFontPath(path: string): FontRequest | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  const parts = path.slice(PREFIX.length).split('/');
  if (parts.length !== 2) return undefined;
  const [stackList, file] = parts as [string, string];
  const m = RANGE.exec(file);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start % 256 !== 0 || end !== start + 255 || end > 65535) return undefined;
  const stacks = stackList.split(',').map((s) => s.trim());
  if (stacks.length > MAX_STACKS || stacks.some((s) => !s || s.length > 100)) return undefined;
  return { stacks, start };
}

/** A glyphs PBF with one fontstack and no glyphs: `glyphs { stacks { name, range } }`. */
export function emptyGlyphsPbf(fontstack: string, start: number): Uint8Array {
  const name = Buffer.from(fontstack, 'utf8');
  const range = Buffer.from(`${start}-${start + 255}`, 'utf8');
  // both strings are short (< 128 bytes), so every length is a one-byte varint
  const stack = Buffer.concat([
    Buffer.from([0x0a, name.length]),
    name,
    Buffer.from([0x12, range.length]),
    range,
  ]);
  return Buffer.concat([Buffer.from([0x0a, stack.length]), stack]);
}

/** The repository's build/glyphs, found from this file whether it runs from sources or from build/. */
export function defaultGlyphsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'build', 'glyphs');
    const up = dirname(dir);
    if (up === dir) return join(process.cwd(), 'build', 'glyphs');
    dir = up;
  }
}

interface Body {
  raw: Buffer;
  gzip: Buffer;
  etag: string;
}

export interface FontServer {
  /** The hot-path handler: true when the request was a /fonts/ request (then answered). */
  serve(req: IncomingMessage, res: ServerResponse, target: RequestTarget): boolean;
  /** The fontstacks on disk with their ranges' first codepoints (empty when the glyphs are not built). */
  fontstacks(): Map<string, Set<number>>;
  /** For /readyz: the glyphs are built. */
  ready(): boolean;
}

/** A handler over the glyph folder `dir` (default: build/glyphs); the folder is listed once, on first use. */
export function createFontServer(dir: string = defaultGlyphsDir()): FontServer {
  let index: Map<string, Set<number>> | undefined;
  const bodies = new Map<string, Body>();

  const load = (): Map<string, Set<number>> => {
    if (index) return index;
    const found = new Map<string, Set<number>>();
    if (!existsSync(join(dir, 'manifest.json'))) return found; // not built (yet): look again next time
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.includes('.tmp-')) continue;
      const starts = new Set<number>();
      for (const f of readdirSync(join(dir, e.name))) {
        const m = RANGE.exec(f);
        if (m) starts.add(Number(m[1]));
      }
      found.set(e.name, starts);
    }
    return (index = found);
  };

  const body = (stack: string, start: number, hasRange: boolean): Body => {
    const key = `${stack}/${start}`;
    let b = bodies.get(key);
    if (!b) {
      const raw = hasRange
        ? readFileSync(join(dir, stack, `${start}-${start + 255}.pbf`))
        : Buffer.from(emptyGlyphsPbf(stack, start));
      const etag = `"${createHash('sha256').update(raw).digest('base64url').slice(0, 27)}"`;
      b = { raw, gzip: gzipSync(raw, { level: 6 }), etag };
      bodies.set(key, b);
    }
    return b;
  };

  const notFound = (res: ServerResponse, status: number, code: string, message: string): true => {
    sendJson(res, status, { error: { code, message } }, PUBLIC_HEADERS);
    return true;
  };

  return {
    fontstacks: load,
    ready: () => load().size > 0,
    serve(req, res, target) {
      if (!target.path.startsWith(PREFIX)) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      setRoute(res, FONT_ROUTE);
      const parsed = parseFontPath(target.path);
      if (!parsed)
        return notFound(
          res,
          404,
          'not_found',
          'not a glyph range: use /fonts/{fontstack}/{start}-{start+255}.pbf with start a multiple of 256 up to 65280',
        );
      const fonts = load();
      if (fonts.size === 0)
        return notFound(
          res,
          503,
          'unavailable',
          'the map glyphs are not built on this server (run make setup)',
        );
      const available = parsed.stacks.filter((s) => fonts.has(s));
      if (available.length === 0)
        return notFound(res, 404, 'not_found', `no such fontstack: ${parsed.stacks.join(',')}`);
      // the first fontstack that has the range, else the first we have (answered without glyphs)
      const stack = available.find((s) => fonts.get(s)!.has(parsed.start)) ?? available[0]!;
      const b = body(stack, parsed.start, fonts.get(stack)!.has(parsed.start));
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/x-protobuf',
        'Cache-Control': CACHE_CONTROL,
        ETag: b.etag,
        Vary: 'Accept-Encoding',
        ...PUBLIC_HEADERS,
      };
      if (noneMatch(req.headers['if-none-match'], b.etag)) {
        res.writeHead(304, headers);
        res.end();
        return true;
      }
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const bytes = gzip ? b.gzip : b.raw;
      if (gzip) headers['Content-Encoding'] = 'gzip';
      headers['Content-Length'] = bytes.length;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : bytes);
      return true;
    },
  };
}

let shared: FontServer | undefined;

/** The hot-path handler over build/glyphs, for the viewer module's `fast()`: true when it answered. */
export function serveFont(req: IncomingMessage, res: ServerResponse, target: RequestTarget): boolean {
  shared ??= createFontServer();
  return shared.serve(req, res, target);
}

/** Whether build/glyphs holds glyphs (for the viewer module's readiness). */
export function fontsReady(): boolean {
  shared ??= createFontServer();
  return shared.ready();
}
