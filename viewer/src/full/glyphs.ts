// `weft-glyphs://{fontstack}/{range}`: the style's glyph PBFs from the server, network first, each kept in the
// browser's Cache Storage, so that labels still draw when the network is gone (a field user with a pack).
export const GLYPHS_PROTOCOL = 'weft-glyphs';
export const GLYPHS_URL = `${GLYPHS_PROTOCOL}://{fontstack}/{range}`;
const CACHE = 'weft-glyphs-v1';

let template: string | undefined;

/** The server's glyphs URL template (absolute) the protocol reads from. */
export function setGlyphTemplate(url: string): void {
  template = url;
}

export function glyphCacheAvailable(): boolean {
  return typeof caches !== 'undefined';
}

async function cached(url: string): Promise<ArrayBuffer | undefined> {
  if (!glyphCacheAvailable()) return undefined;
  try {
    const hit = await (await caches.open(CACHE)).match(url);
    return hit ? await hit.arrayBuffer() : undefined;
  } catch {
    return undefined;
  }
}

export async function glyphsProtocol(params: { url: string }): Promise<{ data: ArrayBuffer }> {
  const m = /^weft-glyphs:\/\/(.+)\/(\d+-\d+)$/.exec(params.url);
  if (!m || !template) return { data: new ArrayBuffer(0) };
  const url = template.replace('{fontstack}', m[1]!).replace('{range}', m[2]!);
  try {
    const res = await fetch(url);
    if (res.ok) {
      const data = await res.clone().arrayBuffer();
      if (glyphCacheAvailable())
        void caches
          .open(CACHE)
          .then((c) => c.put(url, res))
          .catch(() => {});
      return { data };
    }
  } catch {
    // offline: the cached copy below
  }
  const hit = await cached(url);
  if (hit) return { data: hit };
  // no glyphs for this range anywhere: an empty glyph set draws no text rather than failing the whole tile
  return { data: new ArrayBuffer(0) };
}
