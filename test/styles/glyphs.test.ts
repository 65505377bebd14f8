// The glyph build (scripts/build-glyphs.ts): every 256-codepoint range of each Noto Sans fontstack our styles name,
// as fontnik SDF PBFs that decode with pbf and hold the glyphs a Monaco label needs; rebuilt only when needed.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGlyphs, coveredBlocks, rangeName, type BuildGlyphsResult } from '../../scripts/build-glyphs.js';
import { FONTSTACKS, NOTO_DIR } from '../../styles/src/fonts.js';
import { tempDir } from '../helpers/tmp.js';
import { decodeGlyphs, SDF_BORDER } from './glyph-pbf.js';

const HAVE_FONTS = Object.values(FONTSTACKS).every((f) => existsSync(join(NOTO_DIR, f)));
if (!HAVE_FONTS)
  console.warn(`skipped: glyph build tests (Noto Sans is not in ${NOTO_DIR}: install fonts-noto-core)`);

const LABEL = 'Monaco – Moneghe';

describe('coveredBlocks and rangeName', () => {
  it('group codepoints into the 256-codepoint ranges MapLibre requests', () => {
    expect(coveredBlocks([0x41, 0x2013, 0x42, 0xff, 0x100, 0x1f600])).toEqual([0, 1, 0x20]);
    expect([0, 1, 0x20, 255].map(rangeName)).toEqual(['0-255', '256-511', '8192-8447', '65280-65535']);
  });
});

describe.skipIf(!HAVE_FONTS)('scripts/build-glyphs.ts', () => {
  const dir = tempDir('weft-glyphs-');
  const out = join(dir, 'glyphs');
  let first: BuildGlyphsResult;

  beforeAll(async () => {
    first = await buildGlyphs({ outDir: out });
    console.log(
      `glyphs: ${first.files} files, ${(first.bytes / 1e6).toFixed(1)} MB in ${first.seconds.toFixed(2)} s`,
    );
  });

  it('builds every range each fontstack covers, with a manifest', () => {
    expect(first.skipped).toBe(false);
    expect(Object.keys(first.manifest.fontstacks).sort()).toEqual(Object.keys(FONTSTACKS).sort());
    for (const [name, m] of Object.entries(first.manifest.fontstacks)) {
      const files = readdirSync(join(out, name)).sort();
      expect(files).toEqual(m.ranges.map((r) => `${r}.pbf`).sort());
      // Noto Sans: Latin, Greek, Cyrillic, punctuation, … (a few thousand codepoints in a few dozen ranges)
      expect(m.codepoints).toBeGreaterThan(2000);
      expect(m.ranges).toContain('0-255');
      expect(m.ranges).toContain('8192-8447');
      expect(m.ranges).not.toContain('19968-20223'); // no CJK in Noto Sans
      expect(m.ranges.length).toBeGreaterThan(10);
    }
    expect(first.files).toBe(
      Object.values(first.manifest.fontstacks).reduce((n, m) => n + m.ranges.length, 0),
    );
    expect(existsSync(`${out}.tmp-${process.pid}`)).toBe(false);
  });

  it(`writes PBFs that decode and hold every glyph of "${LABEL}", as SDF bitmaps`, () => {
    const wanted = [...new Set([...LABEL].map((c) => c.codePointAt(0)!))];
    for (const name of Object.keys(FONTSTACKS)) {
      const glyphs = new Map<number, ReturnType<typeof decodeGlyphs>[number]['glyphs'][number]>();
      for (const range of ['0-255', '8192-8447']) {
        const stacks = decodeGlyphs(readFileSync(join(out, name, `${range}.pbf`)));
        expect(stacks).toHaveLength(1);
        expect(stacks[0]!.range).toBe(range);
        expect(stacks[0]!.name).toBe(name);
        const [start, end] = range.split('-').map(Number) as [number, number];
        for (const g of stacks[0]!.glyphs) {
          expect(g.id).toBeGreaterThanOrEqual(start);
          expect(g.id).toBeLessThanOrEqual(end);
          glyphs.set(g.id, g);
        }
      }
      for (const cp of wanted) expect(glyphs.has(cp), `${name} U+${cp.toString(16)}`).toBe(true);
      const m = glyphs.get('M'.codePointAt(0)!)!;
      expect(m.width).toBeGreaterThan(5);
      expect(m.advance).toBeGreaterThan(m.width / 2);
      expect(m.bitmap.length).toBe((m.width + 2 * SDF_BORDER) * (m.height + 2 * SDF_BORDER));
      // a distance field: values spread over the range, not a 1-bit mask
      expect(new Set(m.bitmap).size).toBeGreaterThan(50);
      expect(glyphs.get(0x20)!.bitmap.length).toBe(0); // a space has an advance and no bitmap
      expect(glyphs.get(0x20)!.advance).toBeGreaterThan(0);
    }
    // bold is another font, not a copy
    const regular = readFileSync(join(out, 'Noto Sans Regular', '0-255.pbf'));
    const bold = readFileSync(join(out, 'Noto Sans Bold', '0-255.pbf'));
    expect(Buffer.compare(regular, bold)).not.toBe(0);
  });

  it('skips a second run while the fonts and fontnik are the same, and rebuilds with force', async () => {
    const mtime = statSync(join(out, 'manifest.json')).mtimeMs;
    const again = await buildGlyphs({ outDir: out });
    expect(again.skipped).toBe(true);
    expect(again.seconds).toBeLessThan(1);
    expect(statSync(join(out, 'manifest.json')).mtimeMs).toBe(mtime);
    const forced = await buildGlyphs({
      outDir: out,
      force: true,
      fonts: [{ name: 'Noto Sans Regular', file: join(NOTO_DIR, FONTSTACKS['Noto Sans Regular']) }],
    });
    expect(forced.skipped).toBe(false);
    expect(readdirSync(out).sort()).toEqual(['Noto Sans Regular', 'manifest.json']);
    // a manifest of other fonts is not current for the default set
    const full = await buildGlyphs({ outDir: out });
    expect(full.skipped).toBe(false);
    expect(
      readdirSync(out)
        .filter((f) => f !== 'manifest.json')
        .sort(),
    ).toEqual(Object.keys(FONTSTACKS).sort());
  });

  it('refuses a missing font file with the package to install', async () => {
    await expect(
      buildGlyphs({ outDir: join(dir, 'x'), fonts: [{ name: 'Nope', file: join(dir, 'nope.ttf') }] }),
    ).rejects.toThrow(/fonts-noto-core/);
  });
});
