// Boundary lines: the ways of administrative (and disputed) boundary relations, tagged with the relations' levels.
// osmium export keeps no relation membership, so one quick extra pass lists the boundary relations (as OPL) while
// the main export runs; the main export carries way ids, and member ways get a synthetic "boundaries" feature.
import type { SourceFeature } from '../tiler/types.js';
import { filterOpl } from './osmium.js';

/** Property naming the synthetic layer a reader feature belongs to (OSM tags never start with "@"). */
export const LAYER_KEY = '@layer';

export interface BoundaryMembership {
  /** lowest admin_level (2 or 4) of the administrative relations the way belongs to */
  adminLevel?: number;
  /** member of a boundary=disputed relation with admin_level unset or 2–4 */
  disputed: boolean;
}

/** One field of an OPL line ("T" tags, "M" members); values keep OPL's %xx% escapes, fine for our keys. */
function oplField(line: string, letter: string): string {
  const start = line.indexOf(` ${letter}`);
  if (start === -1) return '';
  const end = line.indexOf(' ', start + 2);
  return line.slice(start + 2, end === -1 ? undefined : end);
}

function oplTags(line: string): Map<string, string> {
  const tags = new Map<string, string>();
  const field = oplField(line, 'T');
  if (!field) return tags;
  for (const kv of field.split(',')) {
    const eq = kv.indexOf('=');
    if (eq > 0) tags.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return tags;
}

/** Way id → membership, from OPL relation lines. Only the schema's admin levels (2 and 4) count. */
export function boundaryMembership(relationLines: string[]): Map<number, BoundaryMembership> {
  const ways = new Map<number, BoundaryMembership>();
  for (const line of relationLines) {
    if (!line.startsWith('r')) continue;
    const tags = oplTags(line);
    const boundary = tags.get('boundary');
    const level = tags.get('admin_level');
    let adminLevel: number | undefined;
    let disputed = false;
    if (boundary === 'administrative' && (level === '2' || level === '4')) adminLevel = Number(level);
    else if (
      boundary === 'disputed' &&
      (level === undefined || level === '2' || level === '3' || level === '4')
    )
      disputed = true;
    else continue;
    for (const member of oplField(line, 'M').split(',')) {
      if (member[0] !== 'w') continue;
      const at = member.indexOf('@');
      const id = Number(member.slice(1, at === -1 ? undefined : at));
      const m = ways.get(id) ?? { disputed: false };
      if (adminLevel !== undefined && (m.adminLevel === undefined || adminLevel < m.adminLevel))
        m.adminLevel = adminLevel;
      if (disputed) m.disputed = true;
      ways.set(id, m);
    }
  }
  return ways;
}

/** The boundary relations of a PBF, as way membership. */
export async function readBoundaryMembership(input: string): Promise<Map<number, BoundaryMembership>> {
  return boundaryMembership(await filterOpl(input, ['r/boundary=administrative,disputed']));
}

/**
 * The synthetic boundary feature for an exported way (osmium export with the `type` and `id` attributes), or
 * undefined when the way is no member of a level 2/4 boundary. Properties:
 * `{ "@layer": "boundaries", admin_level: "2"|"4", disputed: "yes"|"no", maritime?, natural? }`.
 */
export function boundaryLine(
  feature: SourceFeature,
  members: ReadonlyMap<number, BoundaryMembership>,
): SourceFeature | undefined {
  const p = feature.properties;
  if (p['@type'] !== 'way') return undefined;
  const type = feature.geometry.type;
  if (type !== 'LineString' && type !== 'MultiLineString') return undefined;
  const m = members.get(p['@id'] as number);
  if (!m || m.adminLevel === undefined) return undefined;
  const properties: Record<string, unknown> = {
    [LAYER_KEY]: 'boundaries',
    admin_level: String(m.adminLevel),
    disputed: m.disputed || p.disputed === 'yes' ? 'yes' : 'no',
  };
  if (typeof p.maritime === 'string') properties.maritime = p.maritime;
  if (typeof p.natural === 'string') properties.natural = p.natural;
  return { geometry: feature.geometry, properties };
}
