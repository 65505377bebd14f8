// Styles as served: `styles/<name>.json` with its source, glyph and sprite URLs made absolute on the serving host
// and the token `{region}` replaced. Style files use root-relative URLs ("/tiles/{region}/base.json",
// "/fonts/{fontstack}/{range}.pbf", "/sprites/…", or "pmtiles:///tiles/{region}/base.pmtiles"); MapLibre's own
// placeholders ({fontstack}, {range}, {z}, {x}, {y}) stay as they are.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../../core/errors.js';
import { HttpError } from '../http.js';

const STYLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** One URL of a style: `{region}` substituted, root-relative (and `pmtiles:///…`) made absolute on `base`. */
export function absoluteUrl(url: string, base: string, region: string | undefined): string {
  let u = region === undefined ? url : url.replaceAll('{region}', region);
  if (u.startsWith('pmtiles:///')) u = `pmtiles://${base}${u.slice('pmtiles://'.length)}`;
  else if (u.startsWith('/') && !u.startsWith('//')) u = base + u;
  return u;
}

type Json = Record<string, unknown>;

/** The style with every source, glyph and sprite URL rewritten (a new object; the input is not changed). */
export function rewriteStyle(style: Json, base: string, region: string | undefined): Json {
  const fix = (u: unknown) => (typeof u === 'string' ? absoluteUrl(u, base, region) : u);
  const out: Json = { ...style };
  if (style.sources && typeof style.sources === 'object') {
    const sources: Json = {};
    for (const [id, s] of Object.entries(style.sources as Json)) {
      if (!s || typeof s !== 'object') {
        sources[id] = s;
        continue;
      }
      const src = { ...(s as Json) };
      if ('url' in src) src.url = fix(src.url);
      if (Array.isArray(src.tiles)) src.tiles = src.tiles.map(fix);
      if (typeof src.data === 'string') src.data = fix(src.data);
      if (Array.isArray(src.urls)) src.urls = src.urls.map(fix);
      sources[id] = src;
    }
    out.sources = sources;
  }
  if ('glyphs' in style) out.glyphs = fix(style.glyphs);
  if (typeof style.sprite === 'string') out.sprite = fix(style.sprite);
  else if (Array.isArray(style.sprite))
    out.sprite = style.sprite.map((s: unknown) =>
      s && typeof s === 'object' ? { ...(s as Json), url: fix((s as Json).url) } : s,
    );
  return out;
}

/** Whether a style names the region anywhere in its URLs (then a region must be chosen). */
export function needsRegion(style: Json): boolean {
  return JSON.stringify([style.sources, style.glyphs, style.sprite]).includes('{region}');
}

/** Reads `<dir>/<name>.json`; 404 for a name that is not a style there, 500 for a style file that is not JSON. */
export async function loadStyle(dir: string, name: string): Promise<Json> {
  const notFound = () =>
    new HttpError(404, 'unknown_style', `no style named '${name}' (styles are files <name>.json in styles/)`);
  if (!STYLE_NAME.test(name)) throw notFound();
  let textContent: string;
  try {
    textContent = await readFile(path.join(dir, `${name}.json`), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') throw notFound();
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(textContent);
  } catch (err) {
    throw new HttpError(500, 'bad_style', `style '${name}' is not valid JSON: ${errorMessage(err)}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new HttpError(500, 'bad_style', `style '${name}' is not a JSON object`);
  return value as Json;
}
