// The projection reducers: apply one stored event to the in-memory rows. Pure given the state; deterministic.
import { UserError } from '../errors.js';
import type { PayloadOf, StoredEvent } from '../domain/schemas.js';
import { emptyKeys, voteKey, type Keys, type ProjectionState } from './state.js';
import type { RegionStatsRow, RoleRow, ThreadRow } from './tables.js';

/** An event that does not fit the projections (refers to something missing, or repeats a creation). */
export class ProjectionError extends UserError {
  constructor(event: StoredEvent, message: string) {
    super(`event ${event.type} (stream ${event.streamId} version ${event.version}): ${message}`, 'bad_event');
    this.name = 'ProjectionError';
  }
}

/** The rows the reducers will need for these events. */
export function keysForEvents(events: readonly StoredEvent[], keys: Keys = emptyKeys()): Keys {
  for (const e of events) {
    switch (e.type) {
      case 'RoleRegistered':
        keys.roles.add(e.payload.roleId);
        break;
      case 'RoleHomePlaced':
      case 'RoleHomeCleared':
        keys.roles.add(e.payload.roleId);
        keys.threadsOfRoles.add(e.payload.roleId);
        break;
      case 'NodeCreated':
        keys.nodes.add(e.payload.nodeId);
        break;
      case 'NodeHidden':
      case 'NodeRestored':
        keys.nodes.add(e.payload.nodeId);
        break;
      case 'ThreadSpun':
      case 'ThreadRenewed':
      case 'ThreadFaded':
        keys.threads.add(e.payload.threadId);
        keys.roles.add(e.payload.roleId);
        keys.nodes.add(e.payload.nodeId);
        break;
      case 'ProposalOpened':
        keys.proposals.add(e.payload.proposalId);
        keys.nodes.add(e.payload.nodeId);
        break;
      case 'VoteCast':
        keys.proposals.add(e.payload.proposalId);
        keys.roles.add(e.payload.roleId);
        keys.votes.add(voteKey(e.payload.proposalId, e.payload.roleId));
        break;
      case 'ProposalClosed':
        keys.proposals.add(e.payload.proposalId);
        break;
    }
  }
  return keys;
}

function later(a: string, b: string): string {
  return a >= b ? a : b;
}

/** Where a role's threads start: its public home, or its area's collective point. */
export function roleOrigin(role: RoleRow): [number, number] {
  return role.public_lon !== null && role.public_lat !== null
    ? [role.public_lon, role.public_lat]
    : [role.area_lon, role.area_lat];
}

function touchStats(state: ProjectionState, regionId: string, e: StoredEvent): RegionStatsRow {
  // the hottest rows (stats, threads, nodes, tallies) are changed in place: the state owns them, and a flush
  // in flight writes copies
  const prev = state.stats(regionId);
  const row: RegionStatsRow = prev
    ? prev
    : {
        region_id: regionId,
        roles: 0,
        located_roles: 0,
        nodes: 0,
        hidden_nodes: 0,
        threads: 0,
        faded_threads: 0,
        engagements: 0,
        proposals: 0,
        closed_proposals: 0,
        votes: 0,
        events: 0,
        first_activity_at: e.occurredAt,
        last_activity_at: e.occurredAt,
        last_position: e.position,
      };
  row.events += 1;
  row.first_activity_at = row.first_activity_at <= e.occurredAt ? row.first_activity_at : e.occurredAt;
  row.last_activity_at = later(row.last_activity_at, e.occurredAt);
  row.last_position = e.position;
  state.putStats(row);
  return row;
}

function timeline(
  state: ProjectionState,
  e: StoredEvent,
  regionId: string,
  summary: string,
  at: [number, number] | null,
): string {
  state.addTimeline({
    position: e.position,
    occurred_at: e.occurredAt,
    region_id: regionId,
    stream_type: e.streamType,
    stream_id: e.streamId,
    type: e.type,
    actor: e.metadata.actor,
    summary,
    lon: at ? at[0] : null,
    lat: at ? at[1] : null,
  });
  return regionId;
}

function need<T>(e: StoredEvent, row: T | undefined, what: string): T {
  if (!row) throw new ProjectionError(e, `${what} does not exist`);
  return row;
}

/** Applies one event (in position order) to the state; returns the event's region. */
export function applyEvent(state: ProjectionState, e: StoredEvent): string {
  const at = e.occurredAt;
  switch (e.type) {
    case 'RoleRegistered': {
      const p = e.payload;
      if (state.role(p.roleId)) throw new ProjectionError(e, `role ${p.roleId} already exists`);
      const row: RoleRow = {
        role_id: p.roleId,
        version: e.version,
        region_id: p.regionId,
        name: p.name,
        area_lon: p.areaPoint[0],
        area_lat: p.areaPoint[1],
        public_lon: null,
        public_lat: null,
        inaccuracy_m: null,
        located: false,
        created_at: at,
        updated_at: at,
        last_position: e.position,
      };
      state.putRole(row);
      touchStats(state, p.regionId, e).roles += 1;
      return timeline(state, e, p.regionId, `${p.name} joined`, roleOrigin(row));
    }
    case 'RoleHomePlaced':
    case 'RoleHomeCleared': {
      const p = e.payload;
      const prev = need(e, state.role(p.roleId), `role ${p.roleId}`);
      const placed = e.type === 'RoleHomePlaced' ? (p as PayloadOf<'RoleHomePlaced'>) : null;
      const row: RoleRow = {
        ...prev,
        version: e.version,
        public_lon: placed ? placed.publicPoint[0] : null,
        public_lat: placed ? placed.publicPoint[1] : null,
        inaccuracy_m: placed ? placed.inaccuracyM : null,
        located: placed !== null,
        updated_at: at,
        last_position: e.position,
      };
      state.putRole(row);
      const origin = roleOrigin(row);
      for (const t of state.threadsOfRole(p.roleId)) {
        state.putThread({ ...t, from_lon: origin[0], from_lat: origin[1], last_position: e.position });
      }
      const stats = touchStats(state, row.region_id, e);
      stats.located_roles += (row.located ? 1 : 0) - (prev.located ? 1 : 0);
      const summary = placed
        ? `${row.name} placed a home (±${placed.inaccuracyM} m)`
        : `${row.name} removed their home`;
      return timeline(state, e, row.region_id, summary, origin);
    }
    case 'NodeCreated': {
      const p = e.payload;
      if (state.node(p.nodeId)) throw new ProjectionError(e, `node ${p.nodeId} already exists`);
      state.putNode({
        node_id: p.nodeId,
        version: e.version,
        region_id: p.regionId,
        title: p.title,
        kind: p.kind,
        author_role_id: p.authorRoleId,
        lon: p.point[0],
        lat: p.point[1],
        hidden: false,
        hidden_reason: null,
        hidden_at: null,
        created_at: at,
        last_activity_at: at,
        thread_count: 0,
        proposal_count: 0,
        last_position: e.position,
      });
      touchStats(state, p.regionId, e).nodes += 1;
      return timeline(state, e, p.regionId, `“${p.title}” created`, p.point);
    }
    case 'NodeHidden':
    case 'NodeRestored': {
      const p = e.payload;
      const prev = need(e, state.node(p.nodeId), `node ${p.nodeId}`);
      const hiding = e.type === 'NodeHidden';
      const reason = hiding ? (p as PayloadOf<'NodeHidden'>).reason : null;
      state.putNode({
        ...prev,
        version: e.version,
        // a restored node starts a new seven days of life
        last_activity_at: hiding ? prev.last_activity_at : later(prev.last_activity_at, at),
        hidden: hiding,
        hidden_reason: reason,
        hidden_at: hiding ? at : null,
        last_position: e.position,
      });
      const stats = touchStats(state, prev.region_id, e);
      stats.hidden_nodes += (hiding ? 1 : 0) - (prev.hidden ? 1 : 0);
      const summary = hiding ? `“${prev.title}” hidden (${reason})` : `“${prev.title}” restored`;
      return timeline(state, e, prev.region_id, summary, [prev.lon, prev.lat]);
    }
    case 'ThreadSpun': {
      const p = e.payload;
      if (state.thread(p.threadId)) throw new ProjectionError(e, `thread ${p.threadId} already exists`);
      const role = need(e, state.role(p.roleId), `role ${p.roleId}`);
      const node = need(e, state.node(p.nodeId), `node ${p.nodeId}`);
      const origin = roleOrigin(role);
      const row: ThreadRow = {
        thread_id: p.threadId,
        version: e.version,
        role_id: p.roleId,
        node_id: p.nodeId,
        region_id: node.region_id,
        from_lon: origin[0],
        from_lat: origin[1],
        to_lon: node.lon,
        to_lat: node.lat,
        spun_at: at,
        last_activity_at: at,
        engagements: 1,
        faded: false,
        faded_at: null,
        last_position: e.position,
      };
      state.putThread(row);
      node.thread_count += 1;
      node.last_activity_at = later(node.last_activity_at, at);
      node.last_position = e.position;
      state.putNode(node);
      const stats = touchStats(state, node.region_id, e);
      stats.threads += 1;
      stats.engagements += 1;
      return timeline(state, e, node.region_id, `${role.name} spun a thread to “${node.title}”`, [
        node.lon,
        node.lat,
      ]);
    }
    case 'ThreadRenewed': {
      const p = e.payload;
      const t = need(e, state.thread(p.threadId), `thread ${p.threadId}`);
      const role = need(e, state.role(p.roleId), `role ${p.roleId}`);
      const node = need(e, state.node(p.nodeId), `node ${p.nodeId}`);
      const wasFaded = t.faded;
      t.version = e.version;
      t.last_activity_at = later(t.last_activity_at, at);
      t.engagements += 1;
      t.faded = false;
      t.faded_at = null;
      t.last_position = e.position;
      state.putThread(t);
      node.last_activity_at = later(node.last_activity_at, at);
      node.last_position = e.position;
      state.putNode(node);
      const stats = touchStats(state, t.region_id, e);
      stats.engagements += 1;
      if (wasFaded) stats.faded_threads -= 1;
      return timeline(state, e, t.region_id, `${role.name} renewed their thread to “${node.title}”`, [
        node.lon,
        node.lat,
      ]);
    }
    case 'ThreadFaded': {
      const p = e.payload;
      const prev = need(e, state.thread(p.threadId), `thread ${p.threadId}`);
      const node = need(e, state.node(p.nodeId), `node ${p.nodeId}`);
      state.putThread({ ...prev, version: e.version, faded: true, faded_at: at, last_position: e.position });
      const stats = touchStats(state, prev.region_id, e);
      if (!prev.faded) stats.faded_threads += 1;
      return timeline(state, e, prev.region_id, `a thread to “${node.title}” faded`, [node.lon, node.lat]);
    }
    case 'ProposalOpened': {
      const p = e.payload;
      if (state.proposal(p.proposalId))
        throw new ProjectionError(e, `proposal ${p.proposalId} already exists`);
      const node = need(e, state.node(p.nodeId), `node ${p.nodeId}`);
      state.putProposal({
        proposal_id: p.proposalId,
        version: e.version,
        node_id: p.nodeId,
        region_id: node.region_id,
        author_role_id: p.authorRoleId,
        title: p.title,
        body: p.body,
        lon: node.lon,
        lat: node.lat,
        opened_at: at,
        closes_at: p.closesAt,
        closed: false,
        closed_at: null,
        votes_yes: 0,
        votes_no: 0,
        votes_abstain: 0,
        last_position: e.position,
      });
      state.putNode({ ...node, proposal_count: node.proposal_count + 1, last_position: e.position });
      touchStats(state, node.region_id, e).proposals += 1;
      return timeline(state, e, node.region_id, `proposal “${p.title}” opened on “${node.title}”`, [
        node.lon,
        node.lat,
      ]);
    }
    case 'VoteCast': {
      const p = e.payload;
      const prop = need(e, state.proposal(p.proposalId), `proposal ${p.proposalId}`);
      const role = need(e, state.role(p.roleId), `role ${p.roleId}`);
      const prev = state.vote(p.proposalId, p.roleId);
      if ((prev?.choice ?? null) !== p.previousChoice) {
        throw new ProjectionError(
          e,
          `previousChoice ${p.previousChoice} does not match the recorded vote ${prev?.choice ?? null}`,
        );
      }
      const tally = { yes: prop.votes_yes, no: prop.votes_no, abstain: prop.votes_abstain };
      if (prev) tally[prev.choice as keyof typeof tally] -= 1;
      tally[p.choice] += 1;
      prop.version = e.version;
      prop.votes_yes = tally.yes;
      prop.votes_no = tally.no;
      prop.votes_abstain = tally.abstain;
      prop.last_position = e.position;
      state.putProposal(prop);
      state.putVote({
        proposal_id: p.proposalId,
        role_id: p.roleId,
        choice: p.choice,
        cast_at: at,
        changes: prev ? prev.changes + 1 : 0,
        last_position: e.position,
      });
      if (!prev) touchStats(state, prop.region_id, e).votes += 1;
      else touchStats(state, prop.region_id, e);
      const verb = prev ? 'changed their vote on' : 'voted on';
      return timeline(state, e, prop.region_id, `${role.name} ${verb} “${prop.title}”`, [prop.lon, prop.lat]);
    }
    case 'ProposalClosed': {
      const p = e.payload;
      const prop = need(e, state.proposal(p.proposalId), `proposal ${p.proposalId}`);
      state.putProposal({
        ...prop,
        version: e.version,
        closed: true,
        closed_at: at,
        last_position: e.position,
      });
      const stats = touchStats(state, prop.region_id, e);
      if (!prop.closed) stats.closed_proposals += 1;
      const t = p.tally;
      const summary = `proposal “${prop.title}” closed: ${t.yes} yes, ${t.no} no, ${t.abstain} abstain`;
      return timeline(state, e, prop.region_id, summary, [prop.lon, prop.lat]);
    }
  }
}
