// Test helper: decodes a glyphs PBF (MapLibre's glyphs.proto: glyphs → fontstack {name, range, glyph*}) with pbf.
import { PbfReader } from 'pbf';

export interface Glyph {
  id: number;
  bitmap: Uint8Array;
  width: number;
  height: number;
  left: number;
  top: number;
  advance: number;
}

export interface GlyphStack {
  name: string;
  range: string;
  glyphs: Glyph[];
}

function readGlyph(tag: number, g: Glyph, pbf: PbfReader): void {
  if (tag === 1) g.id = pbf.readVarint();
  else if (tag === 2) g.bitmap = pbf.readBytes();
  else if (tag === 3) g.width = pbf.readVarint();
  else if (tag === 4) g.height = pbf.readVarint();
  else if (tag === 5) g.left = pbf.readSVarint();
  else if (tag === 6) g.top = pbf.readSVarint();
  else if (tag === 7) g.advance = pbf.readVarint();
}

function readStack(tag: number, s: GlyphStack, pbf: PbfReader): void {
  if (tag === 1) s.name = pbf.readString();
  else if (tag === 2) s.range = pbf.readString();
  else if (tag === 3) {
    const g: Glyph = { id: -1, bitmap: new Uint8Array(0), width: 0, height: 0, left: 0, top: 0, advance: 0 };
    pbf.readMessage(readGlyph, g);
    s.glyphs.push(g);
  }
}

/** Every fontstack in a glyphs PBF; throws on bytes that are not one. */
export function decodeGlyphs(bytes: Uint8Array): GlyphStack[] {
  const stacks: GlyphStack[] = [];
  new PbfReader(bytes).readFields((tag, out: GlyphStack[], pbf) => {
    if (tag !== 1) throw new Error(`glyphs PBF: unexpected field ${tag}`);
    const s: GlyphStack = { name: '', range: '', glyphs: [] };
    pbf.readMessage(readStack, s);
    out.push(s);
  }, stacks);
  return stacks;
}

/** SDF bitmaps carry a 3-px border: a glyph's bitmap is (width + 6) × (height + 6) bytes, or empty (spaces). */
export const SDF_BORDER = 3;
