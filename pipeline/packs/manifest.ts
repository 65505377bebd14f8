// The pack manifest (`pack.json`, a region pack's first entry): which region and release the pack holds, where and
// at which zooms, the attribution, and every file with its size and sha256 (all entries but itself and SHA256SUMS,
// which covers pack.json too). Schema, bytes, parsing.
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { LAYERS, type ReleaseLayer } from '../releases/manifest.js';

export const PACK_SCHEMA = 'weft.pack/1';
/** The pack manifest's entry name: always the first entry, so a reader can stream the rest. */
export const PACK_MANIFEST_NAME = 'pack.json';
/** Every file's sha256 (`sha256sum -c` format), pack.json's included: the second entry. */
export const CHECKSUMS_NAME = 'SHA256SUMS';
/** The release manifest as stored in the blob store. */
export const RELEASE_MANIFEST_NAME = 'release.json';
export const PACK_EXTENSION = '.weftpack';
/** A pack is a plain uncompressed POSIX tar. */
export const PACK_CONTENT_TYPE = 'application/x-tar';
export const ATTRIBUTION = '© OpenStreetMap contributors';
/** A pack manifest larger than this is not one of ours (it lists a handful of files). */
export const MAX_PACK_MANIFEST_BYTES = 1 << 20;

export const FILE_KINDS = ['release', 'style', 'archive'] as const;
export type PackFileKind = (typeof FILE_KINDS)[number];

const sha256Text = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const lon = z.number().min(-180).max(180);
const lat = z.number().min(-90).max(90);

const fileSchema = z
  .object({
    path: z.string().min(1),
    kind: z.enum(FILE_KINDS),
    layer: z.enum(LAYERS).optional(),
    size: z.number().int().nonnegative(),
    sha256: sha256Text,
  })
  .strict()
  .refine((f) => (f.kind === 'archive') === (f.layer !== undefined), {
    message: 'an archive names its layer, other files do not',
  });

const manifestSchema = z
  .object({
    schema: z.literal(PACK_SCHEMA),
    region: z.string().min(1),
    name: z.string().min(1),
    release: z.string().min(1),
    at: z.iso.datetime(),
    bbox: z.tuple([lon, lat, lon, lat]),
    center: z.tuple([lon, lat, z.number().min(0).max(22)]),
    minzoom: z.number().int().min(0).max(30),
    maxzoom: z.number().int().min(0).max(30),
    attribution: z.string(),
    files: z.array(fileSchema).min(1),
  })
  .strict();

export type PackFile = z.infer<typeof fileSchema>;
export type PackManifest = z.infer<typeof manifestSchema>;

/** The entry name of a layer's archive in a pack: `base.pmtiles`, `activity.pmtiles`. */
export function archiveEntryName(layer: ReleaseLayer): string {
  return `${layer}.pmtiles`;
}

/** The file name a pack is downloaded as: `<region>-<release>.weftpack`. */
export function packFileName(region: string, release: string): string {
  return `${region}-${release}${PACK_EXTENSION}`;
}

/** The manifest as written: fixed key order, two-space indent, final newline. */
export function serializePackManifest(m: PackManifest): Uint8Array {
  const ordered: PackManifest = {
    schema: m.schema,
    region: m.region,
    name: m.name,
    release: m.release,
    at: m.at,
    bbox: [...m.bbox],
    center: [...m.center],
    minzoom: m.minzoom,
    maxzoom: m.maxzoom,
    attribution: m.attribution,
    files: m.files.map((f) => ({
      path: f.path,
      kind: f.kind,
      ...(f.layer !== undefined ? { layer: f.layer } : {}),
      size: f.size,
      sha256: f.sha256,
    })),
  };
  return Buffer.from(JSON.stringify(ordered, null, 2) + '\n');
}

/** Parses and checks a pack manifest; throws a UserError (code bad_pack) naming the first bad field. */
export function parsePackManifest(bytes: Uint8Array): PackManifest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new UserError(`${PACK_MANIFEST_NAME} is not UTF-8 JSON: ${(err as Error).message}`, 'bad_pack');
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new UserError(`${PACK_MANIFEST_NAME}: field "${field}": ${issue.message}`, 'bad_pack');
  }
  const m = parsed.data;
  const seen = new Set<string>();
  for (const f of m.files) {
    if (f.path === PACK_MANIFEST_NAME || f.path === CHECKSUMS_NAME)
      throw new UserError(`${PACK_MANIFEST_NAME} lists ${f.path} among its files`, 'bad_pack');
    if (seen.has(f.path)) throw new UserError(`${PACK_MANIFEST_NAME} lists ${f.path} twice`, 'bad_pack');
    seen.add(f.path);
  }
  return m;
}
