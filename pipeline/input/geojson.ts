// Reads GeoJSON inputs for the engine: newline-delimited files stream in blocks cut at line ends (parsed in the
// workers); FeatureCollections are parsed whole and handed over in batches.
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { UserError } from '../../core/errors.js';
import { toFeatures, type InputError } from '../tiler/map-stage.js';
import type { InputChunk } from '../tiler/engine.js';

const BLOCK = 4 * 1024 * 1024;
const BATCH = 4096;
const SEQ_EXTENSIONS = /\.(geojsonl|geojsons|geojsonseq|ndjson|jsonl|ldgeojson)$/i;

export interface GeojsonInput {
  path: string;
  /** layer name for its features */
  source: string;
}

/** The default layer name of an input: its file name without the GeoJSON extensions. */
export function layerNameFor(path: string): string {
  return (
    basename(path).replace(/(\.(geojsonl|geojsons|geojsonseq|ndjson|jsonl|ldgeojson|geojson|json))+$/i, '') ||
    'layer'
  );
}

export async function checkReadable(path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new UserError(`${path}: not a file`);
    return s.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      `${path}: cannot read input (${code === 'ENOENT' ? 'no such file' : (code ?? String(err))})`,
    );
  }
}

/** Newline-delimited or a single GeoJSON object? Decided by extension, an RS byte, or whether line 1 is complete. */
async function isSequence(path: string): Promise<boolean> {
  if (SEQ_EXTENSIONS.test(path)) return true;
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 16);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    if (head[0] === 0x1e) return true;
    const nl = head.indexOf(10);
    if (nl < 0) return false;
    const first = head.subarray(0, nl).toString('utf8').trim();
    if (!first) return false;
    try {
      const obj = JSON.parse(first) as { type?: unknown };
      return typeof obj === 'object' && obj !== null && obj.type !== 'FeatureCollection';
    } catch {
      return false;
    }
  } finally {
    await fh.close();
  }
}

export async function* readGeojsonInputs(inputs: GeojsonInput[]): AsyncGenerator<InputChunk> {
  for (const input of inputs) {
    const size = await checkReadable(input.path);
    if (size === 0) throw new UserError(`${input.path}: empty input`);
    if (await isSequence(input.path)) yield* readSequence(input);
    else yield* readCollection(input);
  }
}

async function* readSequence(input: GeojsonInput): AsyncGenerator<InputChunk> {
  const fh = await open(input.path, 'r');
  try {
    // each block is read straight into memory of its own, after the previous block's unfinished line, and handed
    // to a worker whole (transferred, not copied); only that unfinished tail is copied
    let carry: Uint8Array = new Uint8Array(0);
    let position = 0;
    let line = 1;
    for (;;) {
      const block = Buffer.allocUnsafeSlow(carry.length + BLOCK);
      block.set(carry);
      const { bytesRead } = await fh.read(block, carry.length, BLOCK, position);
      position += bytesRead;
      const end = carry.length + bytesRead;
      if (bytesRead === 0) {
        if (end)
          yield {
            kind: 'ndjson',
            bytes: block.subarray(0, end),
            input: input.path,
            source: input.source,
            firstLine: line,
          };
        return;
      }
      const cut = block.lastIndexOf(10, end - 1);
      if (cut < 0) {
        carry = block.subarray(0, end);
        continue;
      }
      carry = new Uint8Array(block.subarray(cut + 1, end)); // a copy: the block is about to be transferred
      const lines = line;
      for (let nl = block.indexOf(10); nl >= 0 && nl <= cut; nl = block.indexOf(10, nl + 1)) line++;
      yield {
        kind: 'ndjson',
        bytes: block.subarray(0, cut + 1),
        input: input.path,
        source: input.source,
        firstLine: lines,
      };
    }
  } finally {
    await fh.close();
  }
}

async function* readCollection(input: GeojsonInput): AsyncGenerator<InputChunk> {
  const text = await readFile(input.path, 'utf8');
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${input.path}: invalid JSON (${describeJsonError(err as Error, text)})`);
  }
  let features;
  try {
    features = toFeatures(obj);
  } catch (err) {
    throw new UserError(`${input.path}: ${(err as InputError).message}`);
  }
  for (let i = 0; i < features.length; i += BATCH) {
    yield {
      kind: 'features',
      features: features.slice(i, i + BATCH),
      input: input.path,
      source: input.source,
      firstIndex: i,
    };
  }
}

/** JSON.parse names a character offset; say line and column too. */
function describeJsonError(err: Error, text: string): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return err.message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `${err.message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${col}`;
}
