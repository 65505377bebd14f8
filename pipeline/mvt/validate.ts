// MVT 2.1 validator: checks a tile's protobuf structure and every rule of the spec, one clear line per problem.
import {
  ProtoError,
  ProtoReader,
  WIRE_BYTES,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_NAMES,
  WIRE_VARINT,
} from './protobuf-reader.js';

export interface ValidateOptions {
  /**
   * Also report what the spec says SHOULD NOT happen: duplicate feature ids in a layer, duplicate keys or
   * values in a layer's tables, layers without features. Real-world tiles often have duplicate ids.
   */
  strict?: boolean;
  /** stop after this many problems (default 100) */
  maxProblems?: number;
}

const COMMAND_NAMES: Record<number, string> = { 1: 'MoveTo', 2: 'LineTo', 7: 'ClosePath' };
const commandName = (id: number): string => COMMAND_NAMES[id] ?? `unknown command id ${id}`;
const TYPE_NAMES = ['UNKNOWN', 'POINT', 'LINESTRING', 'POLYGON'];
const VALUE_FIELDS: Record<number, { name: string; wire: number }> = {
  1: { name: 'string_value', wire: WIRE_BYTES },
  2: { name: 'float_value', wire: WIRE_FIXED32 },
  3: { name: 'double_value', wire: WIRE_FIXED64 },
  4: { name: 'int_value', wire: WIRE_VARINT },
  5: { name: 'uint_value', wire: WIRE_VARINT },
  6: { name: 'sint_value', wire: WIRE_VARINT },
  7: { name: 'bool_value', wire: WIRE_VARINT },
};

const wireName = (w: number): string => WIRE_NAMES[w] ?? String(w);

class Problems {
  readonly list: string[] = [];
  dropped = 0;
  constructor(readonly max: number) {}
  add(line: string): void {
    if (this.list.length < this.max) this.list.push(line);
    else this.dropped++;
  }
}

/** Checks that a field has the wire type the schema gives it; reports and skips it otherwise. */
function expectWire(r: ProtoReader, wire: number, what: string, out: string[]): boolean {
  if (r.wire === wire) return true;
  out.push(`${what} has wire type ${wireName(r.wire)}, expected ${wireName(wire)}`);
  r.skip();
  return false;
}

interface LayerInfo {
  name?: string;
  version?: number;
  extent?: number;
  keys: string[];
  valueCount: number;
  features: Array<[number, number]>;
}

function readValue(
  r: ProtoReader,
  end: number,
  index: number,
  out: string[],
  identify: boolean,
): string | undefined {
  const outer = r.end;
  r.end = end;
  let seen = 0; // bit per value field number present
  let identity: string | undefined;
  try {
    while (r.pos < end) {
      r.next();
      const spec = VALUE_FIELDS[r.field];
      if (!spec) {
        r.skip(); // extensions 8 to max
        continue;
      }
      if (!expectWire(r, spec.wire, `value ${index} field ${r.field} (${spec.name})`, out)) continue;
      seen |= 1 << r.field;
      const start = r.pos;
      if (r.field === 1) r.string(true);
      else r.skip();
      if (identify) identity = `${r.field}:${Array.from(r.buf.subarray(start, r.pos)).join(',')}`;
    }
  } finally {
    r.end = outer;
  }
  if (seen === 0 || (seen & (seen - 1)) !== 0) {
    const fields = [1, 2, 3, 4, 5, 6, 7].filter((f) => seen & (1 << f));
    const names = fields.map((f) => VALUE_FIELDS[f]!.name).join(', ');
    out.push(
      `value ${index} has ${fields.length} value fields${names ? ` (${names})` : ''}, must have exactly one`,
    );
    return undefined;
  }
  return identity;
}

const zigzagDecode = (v: number): number => (v & 1 ? -(v + 1) / 2 : v / 2);

/** Checks a geometry's command sequence against the rules of its type (spec 4.3); returns the problems found. */
export function checkGeometry(type: number, g: ArrayLike<number>): string[] {
  if (type === 0) return []; // UNKNOWN: experimental encodings, no rules
  const len = g.length;
  if (len === 0) return ['geometry is empty'];
  const missing = (ci: number, id: number, count: number, available: number): string[] => [
    `geometry command ${ci} (${commandName(id)}) count ${count} needs ${2 * count} parameters, ${available} remain`,
  ];

  if (type === 1) {
    const id = g[0]! & 7;
    const count = Math.floor(g[0]! / 8);
    if (id !== 1) return [`geometry command 0 (${commandName(id)}): a POINT geometry must be one MoveTo`];
    if (count === 0) return ['geometry command 0 (MoveTo) count 0'];
    if (2 * count > len - 1) return missing(0, id, count, len - 1);
    if (1 + 2 * count < len) {
      return [
        `geometry command 1 (${commandName(g[1 + 2 * count]! & 7)}): a POINT geometry must be a single MoveTo`,
      ];
    }
    return [];
  }

  const what = type === 2 ? 'line' : 'ring';
  const minLineTo = type === 2 ? 1 : 2;
  let i = 0;
  let ci = 0; // index of the command being checked
  let ring = 0;
  let x = 0;
  let y = 0;
  while (i < len) {
    // MoveTo with count 1
    let id = g[i]! & 7;
    let count = Math.floor(g[i]! / 8);
    i++;
    if (id !== 1) return [`geometry command ${ci} (${commandName(id)}): expected MoveTo to start a ${what}`];
    if (count !== 1) return [`geometry command ${ci} (MoveTo) count ${count}, must be 1`];
    if (len - i < 2) return missing(ci, id, 1, len - i);
    x += zigzagDecode(g[i]!);
    y += zigzagDecode(g[i + 1]!);
    i += 2;
    const sx = x;
    const sy = y;
    ci++;
    // LineTo with count > 0 (lines) or > 1 (rings), no zero-length segment
    if (i >= len) return [`geometry command ${ci}: missing LineTo after MoveTo`];
    id = g[i]! & 7;
    count = Math.floor(g[i]! / 8);
    i++;
    if (id !== 2) return [`geometry command ${ci} (${commandName(id)}): expected LineTo after MoveTo`];
    if (count < minLineTo)
      return [`geometry command ${ci} (LineTo) count ${count}, must be at least ${minLineTo}`];
    if (2 * count > len - i) return missing(ci, id, count, len - i);
    let area2 = 0;
    for (let k = 0; k < count; k++, i += 2) {
      const dx = g[i]!;
      const dy = g[i + 1]!;
      if (dx === 0 && dy === 0) return [`geometry command ${ci} (LineTo) point ${k}: zero-length segment`];
      const px = x;
      const py = y;
      x += zigzagDecode(dx);
      y += zigzagDecode(dy);
      area2 += px * y - x * py;
    }
    ci++;
    if (type === 2) {
      if (i < len && (g[i]! & 7) === 7) {
        return [`geometry command ${ci} (ClosePath): not allowed in a LINESTRING geometry`];
      }
      continue;
    }
    // ClosePath with count 1; the ring must not end on its first point and must have an area of the right sign
    if (i >= len) return [`geometry command ${ci}: missing ClosePath at the end of ring ${ring}`];
    id = g[i]! & 7;
    count = Math.floor(g[i]! / 8);
    i++;
    if (id !== 7)
      return [`geometry command ${ci} (${commandName(id)}): expected ClosePath to end ring ${ring}`];
    if (count !== 1) return [`geometry command ${ci} (ClosePath) count ${count}, must be 1`];
    if (x === sx && y === sy)
      return [`ring ${ring}: last point repeats the first (zero-length closing segment)`];
    area2 += x * sy - sx * y;
    if (area2 === 0) return [`ring ${ring}: zero area, neither exterior nor interior`];
    if (ring === 0 && area2 < 0) {
      return ['ring 0: negative area (counter-clockwise); the first ring must be an exterior ring'];
    }
    ci++;
    ring++;
  }
  return [];
}

function checkLayer(
  r: ProtoReader,
  end: number,
  index: number,
  names: Map<string, number>,
  problems: Problems,
  strict: boolean,
): void {
  const info: LayerInfo = { keys: [], valueCount: 0, features: [] };
  const local: string[] = [];
  const valueIds = new Map<string, number>();
  let broken = false;
  r.end = end;
  try {
    while (r.pos < end) {
      r.next();
      switch (r.field) {
        case 15:
          if (expectWire(r, WIRE_VARINT, 'version', local)) info.version = r.varint();
          break;
        case 1:
          if (expectWire(r, WIRE_BYTES, 'name', local)) info.name = r.string(true);
          break;
        case 2:
          if (expectWire(r, WIRE_BYTES, `feature ${info.features.length}`, local)) {
            const fend = r.bytesEnd();
            info.features.push([r.pos, fend]);
            r.pos = fend;
          }
          break;
        case 3:
          if (expectWire(r, WIRE_BYTES, `key ${info.keys.length}`, local)) {
            const k = r.string(true);
            if (strict && info.keys.includes(k)) local.push(`key ${info.keys.length} "${k}" is a duplicate`);
            info.keys.push(k);
          }
          break;
        case 4: {
          const vi = info.valueCount++;
          if (expectWire(r, WIRE_BYTES, `value ${vi}`, local)) {
            const id = readValue(r, r.bytesEnd(), vi, local, strict);
            if (strict && id !== undefined) {
              const prev = valueIds.get(id);
              if (prev !== undefined) local.push(`value ${vi} is a duplicate of value ${prev}`);
              else valueIds.set(id, vi);
            }
          }
          break;
        }
        case 5:
          if (expectWire(r, WIRE_VARINT, 'extent', local)) info.extent = r.varint();
          break;
        default:
          r.skip(); // extensions 16 to max, or unknown fields
      }
    }
  } catch (err) {
    if (!(err instanceof ProtoError)) throw err;
    local.push(`malformed: ${err.message}`);
    broken = true;
  }

  const label = info.name !== undefined ? `layer "${info.name}"` : `layer ${index}`;
  if (info.name === undefined) local.unshift('missing name');
  else if (names.has(info.name)) local.unshift(`duplicate name (also layer ${names.get(info.name)})`);
  else names.set(info.name, index);
  if (info.version === undefined) local.push('missing version');
  else if (info.version !== 2 && info.version !== 1)
    local.push(`version ${info.version} is not 2 (or the older 1)`);
  if (info.extent !== undefined && (info.extent === 0 || info.extent >= 0x100000000)) {
    local.push(`extent ${info.extent} is not a positive uint32`);
  }
  if (strict && info.features.length === 0 && !broken) local.push('has no features');
  for (const s of local) problems.add(`${label}: ${s}`);

  const ids = strict ? new Map<number, number>() : null;
  for (let fi = 0; fi < info.features.length; fi++) {
    const [fstart, fend] = info.features[fi]!;
    for (const s of checkFeature(r, fstart, fend, info, ids, fi))
      problems.add(`${label} feature ${fi}: ${s}`);
  }
}

// reused by every feature checked
const scratchTags: number[] = [];
const scratchGeometry: number[] = [];

function checkFeature(
  r: ProtoReader,
  start: number,
  end: number,
  layer: LayerInfo,
  ids: Map<number, number> | null,
  index: number,
): string[] {
  const out: string[] = [];
  let id: number | undefined;
  let type: number | undefined;
  const tags = scratchTags;
  const geometry = scratchGeometry;
  tags.length = 0;
  geometry.length = 0;
  let hasGeometry = false;
  r.pos = start;
  r.end = end;
  try {
    while (r.pos < end) {
      r.next();
      switch (r.field) {
        case 1:
          if (expectWire(r, WIRE_VARINT, 'id', out)) id = r.varint();
          break;
        case 2:
          if (r.wire !== WIRE_VARINT && !expectWire(r, WIRE_BYTES, 'tags', out)) break;
          if (!r.uint32s(tags)) out.push('a tag does not fit in uint32');
          break;
        case 3:
          if (expectWire(r, WIRE_VARINT, 'type', out)) type = r.varint();
          break;
        case 4:
          if (r.wire !== WIRE_VARINT && !expectWire(r, WIRE_BYTES, 'geometry', out)) break;
          hasGeometry = true;
          if (!r.uint32s(geometry)) out.push('a geometry integer does not fit in uint32');
          break;
        default:
          r.skip(); // extensions or unknown fields
      }
    }
  } catch (err) {
    if (!(err instanceof ProtoError)) throw err;
    out.push(`malformed: ${err.message}`);
    return out;
  }
  if (tags.length % 2 !== 0) out.push(`tags has ${tags.length} integers, must be an even count`);
  for (let i = 0; i + 1 < tags.length; i += 2) {
    for (let j = 0; j < i; j += 2) {
      if (tags[j] === tags[i]) {
        out.push(`tag ${i} repeats key ${tags[i]} in the same feature`);
        break;
      }
    }
    if (tags[i]! >= layer.keys.length) {
      out.push(`tag ${i} refers to key ${tags[i]}, the layer has ${layer.keys.length} keys`);
    }
    if (tags[i + 1]! >= layer.valueCount) {
      out.push(`tag ${i + 1} refers to value ${tags[i + 1]}, the layer has ${layer.valueCount} values`);
    }
  }
  if (ids && id !== undefined) {
    const prev = ids.get(id);
    if (prev !== undefined) out.push(`id ${id} repeats the id of feature ${prev}`);
    else ids.set(id, index);
  }
  if (type === undefined) out.push('missing geometry type');
  else if (type > 3) out.push(`geometry type ${type} is not UNKNOWN, POINT, LINESTRING or POLYGON`);
  if (!hasGeometry) out.push('missing geometry');
  else if (type !== undefined && type <= 3) {
    for (const s of checkGeometry(type, geometry)) out.push(`${TYPE_NAMES[type]} ${s}`);
  }
  return out;
}

/**
 * Validates an uncompressed vector tile against MVT 2.1. Returns one line per problem; an empty list means valid.
 * Layers declaring version 1 are accepted and held to the 2.x geometry rules.
 * Not checked: self-intersection of rings, holes lying inside their exterior ring.
 */
export function validateTile(bytes: Uint8Array, options: ValidateOptions = {}): string[] {
  const problems = new Problems(options.maxProblems ?? 100);
  const strict = options.strict ?? false;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return ['tile is gzip-compressed (decompress it before validating)'];
  }
  const r = new ProtoReader(bytes);
  const names = new Map<string, number>();
  let layerIndex = 0;
  try {
    while (r.pos < bytes.length) {
      r.end = bytes.length;
      r.next();
      if (r.field !== 3) {
        r.skip();
        continue;
      }
      const index = layerIndex++;
      const wrong: string[] = [];
      if (!expectWire(r, WIRE_BYTES, `tile field 3 (layer ${index})`, wrong)) {
        for (const w of wrong) problems.add(w);
        continue;
      }
      const end = r.bytesEnd();
      checkLayer(r, end, index, names, problems, strict);
      r.pos = end;
    }
  } catch (err) {
    if (!(err instanceof ProtoError)) throw err;
    problems.add(`tile: malformed protobuf: ${err.message}`);
  }
  if (problems.dropped) problems.list.push(`… and ${problems.dropped} more problems`);
  return problems.list;
}
