// The release manifest: what one publish of a region holds (files, sizes, sha256, T, event position, source), its
// deterministic id, the content-addressed keys of its objects, and reading/writing it as JSON.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { repoRoot } from '../../core/paths.js';

/** The archives a release carries, one of each; base and activity stay separate archives. */
export const LAYERS = ['base', 'activity'] as const;
export type ReleaseLayer = (typeof LAYERS)[number];

export const MANIFEST_SCHEMA = 'weft.release/1';

const sha256Text = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

const fileSchema = z
  .object({
    layer: z.enum(LAYERS),
    key: z.string().min(1),
    size: z.number().int().nonnegative(),
    sha256: sha256Text,
  })
  .strict();

const manifestSchema = z
  .object({
    schema: z.literal(MANIFEST_SCHEMA),
    release: z
      .string()
      .regex(/^\d{8}T\d{6}Z-[0-9a-f]{16}$/, 'must look like 20250101T120000Z-<16 hex digits>'),
    region: z.string().min(1),
    at: z.iso.datetime(),
    eventPosition: z.number().int().nonnegative().nullable(),
    source: z
      .object({ file: z.string().min(1), url: z.string().optional(), sha256: sha256Text.nullable() })
      .strict()
      .nullable(),
    weft: z.string().min(1),
    files: z.array(fileSchema).min(1),
  })
  .strict();

export type ReleaseFile = z.infer<typeof fileSchema>;
export type ReleaseManifest = z.infer<typeof manifestSchema>;

/** Where a region's manifests live: `releases/<region>/`. */
export function releasesPrefix(region: string): string {
  return `releases/${region}/`;
}

/** The manifest's key: `releases/<region>/<releaseId>.json`. */
export function manifestKey(region: string, releaseId: string): string {
  return `${releasesPrefix(region)}${releaseId}.json`;
}

/** The release id of a manifest key under `releases/<region>/`, or undefined for any other key. */
export function releaseIdOfKey(region: string, key: string): string | undefined {
  const prefix = releasesPrefix(region);
  if (!key.startsWith(prefix) || !key.endsWith('.json')) return undefined;
  const id = key.slice(prefix.length, -'.json'.length);
  return id.includes('/') ? undefined : id;
}

/** An archive's immutable, content-addressed key: `tiles/<region>/<layer>-<sha256>.pmtiles`. */
export function archiveKey(region: string, layer: ReleaseLayer, sha256: string): string {
  return `tiles/${region}/${layer}-${sha256}.pmtiles`;
}

/** `2025-01-02T03:04:05.678Z` → `20250102T030405Z`: sorts like the time itself. */
export function compactTime(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/**
 * The release id: the publish time T (to the second) and a hash of the region and its files' content, so that it
 * sorts by T and the same T with the same archives always gives the same id.
 */
export function releaseIdFor(region: string, at: Date, files: readonly ReleaseFile[]): string {
  const hash = createHash('sha256').update(`${region}\n`);
  for (const f of [...files].sort((a, b) => a.layer.localeCompare(b.layer)))
    hash.update(`${f.layer} ${f.sha256} ${f.size}\n`);
  return `${compactTime(at)}-${hash.digest('hex').slice(0, 16)}`;
}

let cachedVersion: string | undefined;

/** This weft's version (package.json). */
export function weftVersion(): string {
  if (cachedVersion) return cachedVersion;
  const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version?: string };
  return (cachedVersion = pkg.version ?? '0.0.0');
}

/** The manifest as stored: fixed key order, two-space indent, final newline (the same manifest, the same bytes). */
export function serializeManifest(m: ReleaseManifest): Uint8Array {
  const ordered: ReleaseManifest = {
    schema: m.schema,
    release: m.release,
    region: m.region,
    at: m.at,
    eventPosition: m.eventPosition,
    source: m.source && {
      file: m.source.file,
      ...(m.source.url !== undefined ? { url: m.source.url } : {}),
      sha256: m.source.sha256,
    },
    weft: m.weft,
    files: [...m.files]
      .sort((a, b) => LAYERS.indexOf(a.layer) - LAYERS.indexOf(b.layer))
      .map((f) => ({ layer: f.layer, key: f.key, size: f.size, sha256: f.sha256 })),
  };
  return Buffer.from(JSON.stringify(ordered, null, 2) + '\n');
}

/**
 * Parses and checks a stored manifest: its schema, that it belongs to `key`, and that its id matches its T and
 * files (so a manifest whose sizes or sha256 were edited no longer names itself).
 */
export function parseManifest(bytes: Uint8Array, key: string): ReleaseManifest {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new UserError(`release manifest '${key}' is not JSON: ${(err as Error).message}`, 'bad_manifest');
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new UserError(`release manifest '${key}': field "${field}": ${issue.message}`, 'bad_manifest');
  }
  const m = parsed.data;
  if (manifestKey(m.region, m.release) !== key)
    throw new UserError(
      `release manifest '${key}' names release ${m.release} of region ${m.region}, which belongs under ` +
        `'${manifestKey(m.region, m.release)}'`,
      'bad_manifest',
    );
  const expected = releaseIdFor(m.region, new Date(m.at), m.files);
  if (expected !== m.release)
    throw new UserError(
      `release manifest '${key}' does not match its id: its T and files give ${expected}`,
      'bad_manifest',
    );
  for (const f of m.files)
    if (f.key !== archiveKey(m.region, f.layer, f.sha256))
      throw new UserError(
        `release manifest '${key}': file ${f.layer} has key '${f.key}', expected '${archiveKey(m.region, f.layer, f.sha256)}'`,
        'bad_manifest',
      );
  if (new Set(m.files.map((f) => f.layer)).size !== m.files.length)
    throw new UserError(`release manifest '${key}' names a layer twice`, 'bad_manifest');
  return m;
}
