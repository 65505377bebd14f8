// `weft pack verify`: checks a region pack end to end — the tar container, pack.json (first), SHA256SUMS, every
// file's size and sha256, the release manifest against the pack, every archive with the PMTiles verifier, and that
// each style parses. Never throws for a bad pack: every finding is one problem line.
import { stat } from 'node:fs/promises';
import { errorMessage } from '../../core/errors.js';
import { verifyArchiveSource } from '../pmtiles/verify.js';
import { fileSource, type RangeSource } from '../pmtiles/reader.js';
import { manifestKey, parseManifest, type ReleaseManifest } from '../releases/manifest.js';
import {
  CHECKSUMS_NAME,
  MAX_PACK_MANIFEST_BYTES,
  PACK_MANIFEST_NAME,
  parsePackManifest,
  type PackManifest,
} from './manifest.js';
import { entrySource, hashEntry, indexPack, readEntry, type IndexedEntry } from './reader.js';

export interface PackVerifyResult {
  /** one line per problem; empty when the pack is valid */
  problems: string[];
  /** when valid: a summary line, then one line per file */
  summary: string[];
  /** the pack manifest, when it could be read */
  manifest?: PackManifest;
}

/** Parses `SHA256SUMS` lines (`<hex>  <path>`); returns the sums by path and the lines it could not read. */
export function parseChecksums(text: string): { sums: Map<string, string>; bad: string[] } {
  const sums = new Map<string, string>();
  const bad: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) sums.set(m[2]!, m[1]!);
    else bad.push(line);
  }
  return { sums, bad };
}

/** Verify the pack at `path`. */
export async function verifyPack(path: string): Promise<PackVerifyResult> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return { problems: ['not a file'], summary: [] };
    if (st.size === 0) return { problems: ['the file is empty'], summary: [] };
  } catch (err) {
    return {
      problems: [`cannot read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`],
      summary: [],
    };
  }
  const source = fileSource(path);
  try {
    return await verifySource(source);
  } finally {
    await source.close();
  }
}

async function verifySource(source: RangeSource): Promise<PackVerifyResult> {
  const index = await indexPack(source);
  const problems = [...index.problems];
  const byName = new Map<string, IndexedEntry>();
  for (const e of index.entries) {
    if (byName.has(e.name)) problems.push(`entry ${e.name} appears twice`);
    else byName.set(e.name, e);
    if (e.typeflag !== '0') problems.push(`entry ${e.name} is not a regular file (tar type '${e.typeflag}')`);
  }
  const missing = (name: string) =>
    problems.push(`missing entry: ${name}${index.truncated ? ' (the file is truncated)' : ''}`);

  // pack.json: first, readable, valid
  const first = index.entries[0];
  if (first && first.name !== PACK_MANIFEST_NAME)
    problems.push(`the first entry is ${first.name}, not ${PACK_MANIFEST_NAME}`);
  let manifest: PackManifest | undefined;
  const mEntry = byName.get(PACK_MANIFEST_NAME);
  if (!mEntry) {
    if (index.entries.length || !index.truncated) missing(PACK_MANIFEST_NAME);
  } else if (mEntry.complete) {
    if (mEntry.size > MAX_PACK_MANIFEST_BYTES)
      problems.push(`${PACK_MANIFEST_NAME} is ${mEntry.size} bytes, more than a pack manifest can be`);
    else
      try {
        manifest = parsePackManifest(await readEntry(source, mEntry));
      } catch (err) {
        problems.push(errorMessage(err));
      }
  }

  // SHA256SUMS: covers pack.json and agrees with the manifest
  const hashes = new Map<string, string>();
  const hashOf = async (e: IndexedEntry) => {
    let h = hashes.get(e.name);
    if (h === undefined) hashes.set(e.name, (h = await hashEntry(source, e)));
    return h;
  };
  const sumsEntry = byName.get(CHECKSUMS_NAME);
  if (!sumsEntry) {
    if (manifest) missing(CHECKSUMS_NAME);
  } else if (sumsEntry.complete && sumsEntry.size <= MAX_PACK_MANIFEST_BYTES) {
    const { sums, bad } = parseChecksums(Buffer.from(await readEntry(source, sumsEntry)).toString('utf8'));
    for (const line of bad.slice(0, 3))
      problems.push(`${CHECKSUMS_NAME}: unreadable line '${line.slice(0, 80)}'`);
    const packSum = sums.get(PACK_MANIFEST_NAME);
    if (!packSum) problems.push(`${CHECKSUMS_NAME} has no line for ${PACK_MANIFEST_NAME}`);
    else if (mEntry?.complete) {
      const actual = await hashOf(mEntry);
      if (actual !== packSum)
        problems.push(
          `${PACK_MANIFEST_NAME}: sha256 is ${actual}, ${CHECKSUMS_NAME} says ${packSum} (the manifest was changed)`,
        );
    }
    if (manifest) {
      for (const f of manifest.files) {
        const s = sums.get(f.path);
        if (s === undefined) problems.push(`${CHECKSUMS_NAME} has no line for ${f.path}`);
        else if (s !== f.sha256)
          problems.push(
            `${f.path}: ${CHECKSUMS_NAME} says sha256 ${s}, ${PACK_MANIFEST_NAME} says ${f.sha256}`,
          );
      }
      for (const path of sums.keys())
        if (path !== PACK_MANIFEST_NAME && !manifest.files.some((f) => f.path === path))
          problems.push(`${CHECKSUMS_NAME} names ${path}, which ${PACK_MANIFEST_NAME} does not list`);
    }
  }
  if (!manifest) return { problems, summary: [] };

  // every listed file: present, its size and sha256
  for (const f of manifest.files) {
    const e = byName.get(f.path);
    if (!e) {
      missing(f.path);
      continue;
    }
    if (!e.complete) continue; // the truncation is already reported
    if (e.size !== f.size) {
      problems.push(`${f.path}: ${e.size} bytes, ${PACK_MANIFEST_NAME} says ${f.size}`);
      continue;
    }
    const actual = await hashOf(e);
    if (actual !== f.sha256)
      problems.push(`${f.path}: sha256 is ${actual}, ${PACK_MANIFEST_NAME} says ${f.sha256}`);
  }
  for (const e of index.entries)
    if (
      e.name !== PACK_MANIFEST_NAME &&
      e.name !== CHECKSUMS_NAME &&
      !manifest.files.some((f) => f.path === e.name)
    )
      problems.push(`unlisted entry: ${e.name} (not in ${PACK_MANIFEST_NAME})`);

  // the release manifest: valid, the same release, the same archives
  const releaseFiles = manifest.files.filter((f) => f.kind === 'release');
  if (releaseFiles.length !== 1)
    problems.push(`${PACK_MANIFEST_NAME} lists ${releaseFiles.length} release manifests, expected 1`);
  let release: ReleaseManifest | undefined;
  const rEntry = releaseFiles[0] && byName.get(releaseFiles[0].path);
  if (rEntry?.complete) {
    try {
      release = parseManifest(
        await readEntry(source, rEntry),
        manifestKey(manifest.region, manifest.release),
      );
    } catch (err) {
      problems.push(`${rEntry.name}: ${errorMessage(err)}`);
    }
  }
  if (release) problems.push(...releaseProblems(manifest, release, rEntry!.name));

  // archives and styles, read in place
  const summary: string[] = [];
  for (const f of manifest.files) {
    const e = byName.get(f.path);
    if (!e?.complete || e.size !== f.size) continue;
    if (f.kind === 'archive') {
      try {
        const r = await verifyArchiveSource(entrySource(source, e), e.size);
        for (const p of r.problems) problems.push(`${f.path}: ${p}`);
        if (!r.problems.length) summary.push(`  ${f.path}: ${f.size} bytes, ${r.summary}`);
      } catch (err) {
        problems.push(`${f.path}: not a readable PMTiles archive: ${errorMessage(err)}`);
      }
    } else if (f.kind === 'style') {
      const p = styleProblem(await readEntry(source, e));
      if (p) problems.push(`${f.path}: ${p}`);
      else summary.push(`  ${f.path}: ${f.size} bytes, style JSON`);
    } else summary.push(`  ${f.path}: ${f.size} bytes, release manifest`);
  }
  if (problems.length) return { problems, summary: [], manifest };
  const archives = manifest.files.filter((f) => f.kind === 'archive').length;
  const styles = manifest.files.filter((f) => f.kind === 'style').length;
  return {
    problems: [],
    manifest,
    summary: [
      `ok: region ${manifest.region} (${manifest.name}), release ${manifest.release}, ${archives} archive` +
        `${archives === 1 ? '' : 's'}, ${styles} style${styles === 1 ? '' : 's'}, ${index.fileSize} bytes`,
      ...summary,
    ],
  };
}

/** Where pack.json and the release manifest it carries disagree. */
function releaseProblems(m: PackManifest, r: ReleaseManifest, name: string): string[] {
  const out: string[] = [];
  if (r.release !== m.release)
    out.push(`${name} is release ${r.release}, ${PACK_MANIFEST_NAME} says ${m.release}`);
  if (r.region !== m.region)
    out.push(`${name} is of region ${r.region}, ${PACK_MANIFEST_NAME} says ${m.region}`);
  if (r.at !== m.at) out.push(`${name} has T ${r.at}, ${PACK_MANIFEST_NAME} says ${m.at}`);
  for (const rf of r.files) {
    const pf = m.files.find((f) => f.kind === 'archive' && f.layer === rf.layer);
    if (!pf) {
      out.push(`the release has a ${rf.layer} archive, ${PACK_MANIFEST_NAME} lists none`);
      continue;
    }
    if (pf.sha256 !== rf.sha256 || pf.size !== rf.size)
      out.push(
        `${pf.path}: ${PACK_MANIFEST_NAME} says ${pf.size} bytes, sha256 ${pf.sha256}; the release says ` +
          `${rf.size} bytes, sha256 ${rf.sha256}`,
      );
  }
  for (const pf of m.files)
    if (pf.kind === 'archive' && !r.files.some((f) => f.layer === pf.layer))
      out.push(`${pf.path}: the release has no ${pf.layer} archive`);
  return out;
}

/** Why the bytes are not a style (a JSON object), or undefined. */
function styleProblem(bytes: Uint8Array): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    return `style is not UTF-8 JSON: ${errorMessage(err)}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'style is not a JSON object';
  return undefined;
}
