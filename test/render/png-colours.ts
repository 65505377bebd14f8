// Render test helper: what a screenshot contains — its size, its colours by area, and how much differs from the main one.
import { PNG } from 'pngjs';

export interface ColourArea {
  /** [r, g, b] */
  rgb: [number, number, number];
  /** share of all pixels, 0–1 */
  share: number;
}

export interface PngColours {
  width: number;
  height: number;
  /** distinct opaque RGB colours */
  distinct: number;
  /** colours by area, largest first */
  colours: ColourArea[];
  /** share of pixels whose colour differs from the most common colour */
  notDominant: number;
}

/** Decodes a PNG and tallies its pixels by exact RGB colour. */
export function pngColours(png: Uint8Array): PngColours {
  const image = PNG.sync.read(Buffer.from(png));
  const counts = new Map<number, number>();
  const { data, width, height } = image;
  for (let i = 0; i < data.length; i += 4) {
    const key = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const total = width * height;
  const colours = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]): ColourArea => ({ rgb: [key >> 16, (key >> 8) & 255, key & 255], share: n / total }));
  return { width, height, distinct: counts.size, colours, notDominant: 1 - (colours[0]?.share ?? 0) };
}

/** Share of pixels within `tolerance` (per channel) of rgb. */
export function shareNear(result: PngColours, rgb: [number, number, number], tolerance = 3): number {
  let share = 0;
  for (const c of result.colours) {
    if (c.rgb.every((v, i) => Math.abs(v - rgb[i]!) <= tolerance)) share += c.share;
  }
  return share;
}

/** Parses a CSS colour as the VersaTiles styles write it: #rgb, #rrggbb, rgb() or rgba() (alpha ignored). */
export function parseCssColour(css: string): [number, number, number] | undefined {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(css.trim());
  if (hex) {
    const h = hex[1]!.length === 3 ? [...hex[1]!].map((c) => c + c).join('') : hex[1]!;
    return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
  }
  const fn = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)/i.exec(css.trim());
  if (fn) return [1, 2, 3].map((i) => Math.round(Number(fn[i]))) as [number, number, number];
  return undefined;
}
