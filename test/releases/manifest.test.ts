// The release manifest: deterministic ids that sort by T, stable bytes, and a manifest that no longer matches its
// id (an edited size or sha256) refused on reading.
import { describe, expect, it } from 'vitest';
import {
  archiveKey,
  compactTime,
  manifestKey,
  MANIFEST_SCHEMA,
  parseManifest,
  releaseIdFor,
  releaseIdOfKey,
  serializeManifest,
  type ReleaseManifest,
} from '../../pipeline/releases/manifest.js';
import { findPosition } from '../../pipeline/releases/inputs.js';

const shaA = 'a'.repeat(64);
const shaB = 'b'.repeat(64);
const files = [
  { layer: 'base' as const, key: archiveKey('monaco', 'base', shaA), size: 100, sha256: shaA },
  { layer: 'activity' as const, key: archiveKey('monaco', 'activity', shaB), size: 20, sha256: shaB },
];

function manifest(at = '2025-01-02T03:04:05.678Z'): ReleaseManifest {
  return {
    schema: MANIFEST_SCHEMA,
    release: releaseIdFor('monaco', new Date(at), files),
    region: 'monaco',
    at,
    eventPosition: 42,
    source: { file: 'monaco-latest.osm.pbf', url: 'https://example.org/m.pbf', sha256: shaA },
    weft: '0.1.0',
    files,
  };
}

describe('release manifest', () => {
  it('ids carry T to the second and a content hash: the same inputs give the same id, ids sort by T', () => {
    expect(compactTime(new Date('2025-01-02T03:04:05.678Z'))).toBe('20250102T030405Z');
    const id = releaseIdFor('monaco', new Date('2025-01-02T03:04:05Z'), files);
    expect(id).toMatch(/^20250102T030405Z-[0-9a-f]{16}$/);
    expect(releaseIdFor('monaco', new Date('2025-01-02T03:04:05Z'), [...files].reverse())).toBe(id);
    expect(releaseIdFor('andorra', new Date('2025-01-02T03:04:05Z'), files)).not.toBe(id);
    const otherContent = [files[0]!, { ...files[1]!, sha256: 'c'.repeat(64) }];
    expect(releaseIdFor('monaco', new Date('2025-01-02T03:04:05Z'), otherContent)).not.toBe(id);
    const later = releaseIdFor('monaco', new Date('2025-01-02T03:04:06Z'), otherContent);
    expect([later, id].sort()).toEqual([id, later]);
  });

  it('keys: content-addressed archives, one manifest per release', () => {
    expect(archiveKey('monaco', 'base', shaA)).toBe(`tiles/monaco/base-${shaA}.pmtiles`);
    const m = manifest();
    expect(manifestKey('monaco', m.release)).toBe(`releases/monaco/${m.release}.json`);
    expect(releaseIdOfKey('monaco', manifestKey('monaco', m.release))).toBe(m.release);
    expect(releaseIdOfKey('monaco', 'releases/monaco/x/y.json')).toBeUndefined();
    expect(releaseIdOfKey('monaco', 'releases/monacoa/y.json')).toBeUndefined();
  });

  it('serialises to the same bytes whatever the field order, and reads back equal', () => {
    const m = manifest();
    const shuffled = { ...m, files: [...m.files].reverse() } as ReleaseManifest;
    const reordered = Object.fromEntries(Object.entries(m).reverse()) as ReleaseManifest;
    const bytes = serializeManifest(m);
    expect(Buffer.from(serializeManifest(shuffled)).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(serializeManifest(reordered)).equals(Buffer.from(bytes))).toBe(true);
    expect(parseManifest(bytes, manifestKey('monaco', m.release))).toEqual(m);
  });

  it('refuses a manifest whose files were edited, that sits under another key, or is not a manifest', () => {
    const m = manifest();
    const key = manifestKey('monaco', m.release);
    const edited = { ...m, files: [m.files[0]!, { ...m.files[1]!, size: 21 }] };
    expect(() => parseManifest(serializeManifest(edited), key)).toThrow(
      new RegExp(`release manifest '${key}' does not match its id: its T and files give 20250102T030405Z-`),
    );
    expect(() =>
      parseManifest(serializeManifest(m), manifestKey('monaco', '20250102T030405Z-0000000000000000')),
    ).toThrow(/names release .* which belongs under/);
    const movedKey = { ...m, files: [{ ...m.files[0]!, key: 'tiles/monaco/base.pmtiles' }, m.files[1]!] };
    movedKey.release = releaseIdFor('monaco', new Date(m.at), movedKey.files);
    expect(() => parseManifest(serializeManifest(movedKey), manifestKey('monaco', movedKey.release))).toThrow(
      /file base has key 'tiles\/monaco\/base.pmtiles', expected/,
    );
    expect(() => parseManifest(Buffer.from('{"schema":"x"}'), key)).toThrow(
      `release manifest '${key}': field "schema"`,
    );
    expect(() => parseManifest(Buffer.from('nope'), key)).toThrow(`release manifest '${key}' is not JSON`);
  });

  it('finds an event position in a build result or archive metadata', () => {
    expect(findPosition({ archive: 'x', lastPosition: 17 })).toBe(17);
    expect(findPosition({ stats: { eventPosition: 5 } })).toBe(5);
    expect(findPosition({ weft: { position: '9' } })).toBe(9);
    expect(findPosition({ position: -1 })).toBeUndefined();
    expect(findPosition(undefined)).toBeUndefined();
  });
});
