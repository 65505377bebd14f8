// The fontstacks our styles name in `text-font`, and the Noto Sans file (Debian's fonts-noto-core) each is built from:
// scripts/build-glyphs.ts turns them into SDF glyph PBFs, serve/viewer/fonts.ts serves them under /fonts/.

/** Where Debian's fonts-noto-core installs Noto Sans. */
export const NOTO_DIR = '/usr/share/fonts/truetype/noto';

/** fontstack name (as in `text-font`) → font file in NOTO_DIR */
export const FONTSTACKS = {
  'Noto Sans Regular': 'NotoSans-Regular.ttf',
  'Noto Sans Bold': 'NotoSans-Bold.ttf',
  'Noto Sans Italic': 'NotoSans-Italic.ttf',
} as const;

export type Fontstack = keyof typeof FONTSTACKS;

/** `text-font` values, one fontstack each (a single font: the server has nothing to fall back to). */
export const FONT = {
  regular: ['Noto Sans Regular'],
  bold: ['Noto Sans Bold'],
  italic: ['Noto Sans Italic'],
} satisfies Record<string, [Fontstack]>;
