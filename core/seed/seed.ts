// A deterministic, realistic community inside a region: roles, nodes at named places, threads whose last
// activity spreads over the 14 days before `now` (fresh, half-faded, faded), proposals and votes.
import type { Db } from '../db/adapter.js';
import { writeAudit } from '../audit.js';
import { UserError } from '../errors.js';
import { headPosition } from '../eventstore.js';
import { executeCommands, type CommandEnvelope, type ExecContext } from '../domain/execute.js';
import { fadeSweep } from '../domain/fade-sweep.js';
import type { Command } from '../domain/commands.js';
import { homeSalt } from '../privacy/salt.js';
import type { NamedPlace } from './places.js';
import { Random } from './prng.js';
import type { SeedRegion } from './region.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface SeedOptions {
  region: SeedRegion;
  /** Named places for nodes (see places.ts); synthetic ones inside the bbox when empty. */
  places: NamedPlace[];
  seed?: number;
  /** The end of the simulated 14 days. */
  now: Date;
  roles?: number;
  nodes?: number;
  proposals?: number;
  /** The home-coarsening salt; default: the database's. */
  salt?: string;
  /** Commands per transaction. */
  batchSize?: number;
}

export interface SeedResult {
  roles: number;
  nodes: number;
  threads: number;
  engagements: number;
  proposals: number;
  votes: number;
  events: number;
  fadedThreads: number;
  hiddenNodes: number;
}

const FIRST_NAMES = [
  'Anna',
  'Luca',
  'Marie',
  'Jonas',
  'Sofia',
  'Noah',
  'Elena',
  'Matteo',
  'Lea',
  'Paul',
  'Chiara',
  'Felix',
  'Clara',
  'Louis',
  'Mia',
  'Giulia',
  'Emil',
  'Nora',
  'Hugo',
  'Ida',
  'Leon',
  'Amélie',
  'Marco',
  'Hanna',
  'Julien',
  'Zoé',
  'Elias',
  'Lina',
  'Théo',
  'Greta',
  'Ben',
  'Alice',
  'Samuel',
  'Rosa',
  'Karim',
  'Yara',
  'Tomás',
  'Ines',
  'Omar',
  'Eva',
];
// prettier-ignore
const TOPICS: { title: string; kind: NamedPlace['kind'] }[] = [
  { title: 'Repair café', kind: 'meeting' }, { title: 'Bench needs fixing', kind: 'concern' },
  { title: 'Community garden', kind: 'project' }, { title: 'Bike parking', kind: 'concern' },
  { title: 'Noise at night', kind: 'concern' }, { title: 'Street lighting', kind: 'concern' },
  { title: 'Book exchange', kind: 'project' }, { title: 'Shared lunch', kind: 'meeting' },
  { title: 'Safer crossing', kind: 'concern' }, { title: 'Tree planting', kind: 'project' },
  { title: 'Neighbourhood walk', kind: 'meeting' }, { title: 'Water fountain', kind: 'topic' },
  { title: 'Shade for the playground', kind: 'topic' }, { title: 'Language tandem', kind: 'meeting' },
];
const PROPOSALS = [
  'More benches in the shade',
  'A weekly car-free morning',
  'Monthly clean-up day',
  'Extend the opening hours',
  'A notice board for neighbours',
  'Plant fruit trees',
  'Bike repair station',
  'Quiet hours after 22:00',
  'Free water refill point',
  'Open-air cinema in summer',
  'Better signage',
  'A community fridge',
];
const RADII = [100, 250, 250, 250, 500, 1000];

interface Planned {
  at: number;
  order: number;
  env: Omit<CommandEnvelope, 'at'>;
}

/** Offsets a point by up to `maxM` metres in a random direction, kept inside the bbox. */
function near(
  rng: Random,
  [lon, lat]: [number, number],
  maxM: number,
  bbox: SeedRegion['bbox'],
): [number, number] {
  const d = rng.between(0, maxM);
  const a = rng.between(0, 2 * Math.PI);
  const dLat = (d * Math.cos(a)) / 111_320;
  const dLon = (d * Math.sin(a)) / (111_320 * Math.cos((lat * Math.PI) / 180));
  const [w, s, e, n] = bbox;
  const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
  return [r6(Math.min(e, Math.max(w, lon + dLon))), r6(Math.min(n, Math.max(s, lat + dLat)))];
}

/** Plans the community's commands (pure, deterministic) in time order. */
export function planCommunity(options: SeedOptions): {
  planned: Planned[];
  counts: Omit<SeedResult, 'events' | 'fadedThreads' | 'hiddenNodes'>;
} {
  const { region } = options;
  const rng = new Random(options.seed ?? 1);
  const now = options.now.getTime();
  const start = now - 14 * DAY;
  const nRoles = options.roles ?? 300;
  const nNodes = options.nodes ?? 120;
  const nProposals = options.proposals ?? 24;
  const [w, s, e, n] = region.bbox;
  let places = options.places;
  if (!places.length) {
    places = Array.from({ length: 12 }, (_, i) => ({
      name: `${region.name} meeting point ${i + 1}`,
      lon: Math.round(rng.between(w, e) * 1e6) / 1e6,
      lat: Math.round(rng.between(s, n) * 1e6) / 1e6,
      kind: 'place' as const,
    }));
  }
  const planned: Planned[] = [];
  let order = 0;
  const plan = (at: number, actor: string, command: Command | Record<string, unknown>) =>
    planned.push({ at: Math.round(at), order: order++, env: { actor, command } });

  // roles: most join in the first two days, the rest later
  const roles: { id: string; joined: number }[] = [];
  for (let i = 0; i < nRoles; i++) {
    const id = `${region.id}-r${String(i + 1).padStart(4, '0')}`;
    const joined =
      rng.next() < 0.7 ? start + rng.between(0, 2 * DAY) : start + rng.between(2 * DAY, 13 * DAY);
    const home = near(rng, [rng.pick(places).lon, rng.pick(places).lat], 800, region.bbox);
    const name = `${rng.pick(FIRST_NAMES)} ${String.fromCharCode(65 + rng.int(0, 25))}.`;
    plan(joined, id, { type: 'RegisterRole', roleId: id, regionId: region.id, name, area: home });
    if (rng.next() < 0.45) {
      const exact = rng.next() < 0.05;
      plan(joined + rng.between(MINUTE, 12 * HOUR), id, {
        type: 'PlaceRoleHome',
        roleId: id,
        point: near(rng, home, 150, region.bbox),
        inaccuracyM: exact ? 0 : rng.pick(RADII),
        exactConsent: exact,
      });
    }
    roles.push({ id, joined });
  }

  // nodes: first at the named places themselves, then topics near them
  const nodes: { id: string; created: number }[] = [];
  for (let j = 0; j < nNodes; j++) {
    const id = `${region.id}-n${String(j + 1).padStart(4, '0')}`;
    const place = j < places.length ? places[j]! : rng.pick(places);
    const topic = j < places.length ? undefined : rng.pick(TOPICS);
    const author = rng.pick(roles);
    const early = j < places.length || rng.next() < 0.5;
    const when = start + (early ? rng.between(0, 2 * DAY) : rng.between(2 * DAY, 12 * DAY));
    const created = Math.min(now - HOUR, Math.max(author.joined + HOUR, when));
    plan(created, author.id, {
      type: 'CreateNode',
      nodeId: id,
      regionId: region.id,
      title: topic ? `${topic.title} near ${place.name}` : place.name,
      kind: topic ? topic.kind : place.kind,
      point: topic ? near(rng, [place.lon, place.lat], 400, region.bbox) : [place.lon, place.lat],
      authorRoleId: author.id,
    });
    nodes.push({ id, created });
  }

  // threads: each role engages with a few nodes (node k has popularity rank k); the last engagement is old
  // (faded by now), a few days old (half-faded) or fresh
  const popularity = nodes.map((_, k) => 1 / Math.pow(k + 1, 0.8));
  let threads = 0;
  let engagements = 0;
  for (const role of roles) {
    const chosen = new Set<number>();
    const k = rng.int(1, 6);
    for (let t = 0; t < k; t++) chosen.add(rng.weighted(popularity));
    for (const idx of chosen) {
      const node = nodes[idx]!;
      const earliest = Math.max(role.joined, node.created) + MINUTE;
      const profile = rng.next();
      let last =
        profile < 0.3
          ? now - rng.between(7.5 * DAY, 14 * DAY)
          : profile < 0.65
            ? now - rng.between(1.5 * DAY, 6.5 * DAY)
            : now - rng.between(10 * MINUTE, 20 * HOUR);
      if (last < earliest) last = earliest + rng.between(0, Math.max(0, now - 10 * MINUTE - earliest));
      if (last > now - MINUTE) continue;
      const times = [last];
      const extra = rng.int(0, 3);
      for (let x = 0; x < extra; x++) times.push(rng.between(earliest, last));
      times.sort((a, b) => a - b);
      for (const at of times) plan(at, role.id, { type: 'EngageThread', roleId: role.id, nodeId: node.id });
      threads += 1;
      engagements += times.length;
    }
  }

  // proposals with votes; those whose closing time has passed are closed at that time
  let votes = 0;
  let proposals = 0;
  for (let q = 0; q < nProposals; q++) {
    const node = nodes[rng.int(0, Math.max(0, Math.floor(nodes.length / 2) - 1))]!;
    const opened = Math.max(node.created + HOUR, start + rng.between(DAY, 12 * DAY));
    if (opened > now - HOUR) continue;
    const author = roles.filter((r) => r.joined < opened);
    if (!author.length) continue;
    const closes = opened + rng.between(2 * DAY, 9 * DAY);
    const id = `${region.id}-p${String(q + 1).padStart(3, '0')}`;
    const authorId = rng.pick(author).id;
    plan(opened, authorId, {
      type: 'OpenProposal',
      proposalId: id,
      nodeId: node.id,
      authorRoleId: authorId,
      title: rng.pick(PROPOSALS),
      body: '',
      closesAt: new Date(Math.round(closes)).toISOString(),
    });
    proposals += 1;
    const voteEnd = Math.min(closes, now) - MINUTE;
    const voters = new Set<number>();
    const want = rng.int(10, Math.min(80, roles.length));
    for (let v = 0; v < want * 2 && voters.size < want; v++) voters.add(rng.int(0, roles.length - 1));
    for (const vi of voters) {
      const voter = roles[vi]!;
      const from = Math.max(opened, voter.joined) + MINUTE;
      if (from >= voteEnd) continue;
      const at = rng.between(from, voteEnd);
      const choice = rng.weighted([0.55, 0.3, 0.15]);
      const choices = ['yes', 'no', 'abstain'] as const;
      plan(at, voter.id, { type: 'CastVote', proposalId: id, roleId: voter.id, choice: choices[choice] });
      votes += 1;
      if (rng.next() < 0.12 && at + MINUTE < voteEnd) {
        plan(rng.between(at + MINUTE, voteEnd), voter.id, {
          type: 'CastVote',
          proposalId: id,
          roleId: voter.id,
          choice: choices[(choice + 1) % 3],
        });
      }
    }
    if (closes <= now) plan(closes, 'system:seed', { type: 'CloseProposal', proposalId: id });
  }

  planned.sort((a, b) => a.at - b.at || a.order - b.order);
  return {
    planned,
    counts: { roles: roles.length, nodes: nodes.length, threads, engagements, proposals, votes },
  };
}

/** Seeds the region into `db` (refusing a region seeded before), then runs the fade sweep at `now`. */
export async function seedCommunity(db: Db, options: SeedOptions): Promise<SeedResult> {
  const { planned, counts } = planCommunity(options);
  const firstRole = `${options.region.id}-r0001`;
  const { rows } = await db.query('SELECT 1 FROM events WHERE stream_id = $1 LIMIT 1', [`role:${firstRole}`]);
  if (rows.length) throw new UserError(`--region: ${options.region.id} is already seeded in ${db.location}`);
  const before = await headPosition(db);
  const idRng = new Random(((options.seed ?? 1) ^ 0x5eed) >>> 0);
  const ctx: ExecContext = {
    salt: options.salt ?? (await homeSalt(db)),
    newEventId: () => idRng.uuid(),
    recordedAt: 'occurred',
  };
  const batchSize = options.batchSize ?? 500;
  for (let i = 0; i < planned.length; i += batchSize) {
    const batch = planned.slice(i, i + batchSize).map((p) => ({ ...p.env, at: new Date(p.at) }));
    await executeCommands(db, batch, ctx);
  }
  const swept = await fadeSweep(db, options.now, { actor: 'system:seed', ctx });
  const events = (await headPosition(db)) - before;
  const result: SeedResult = {
    ...counts,
    events,
    fadedThreads: swept.fadedThreads,
    hiddenNodes: swept.hiddenNodes,
  };
  await writeAudit(db, {
    actor: 'operator:cli',
    action: 'seed',
    subject: options.region.id,
    details: { seed: options.seed ?? 1, now: options.now.toISOString(), ...result },
  });
  return result;
}
