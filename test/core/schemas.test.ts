// Event and command validation: errors name the field; stream and payload must agree.
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../core/domain/commands.js';
import { threadIdFor } from '../../core/domain/ids.js';
import { parseStoredEvent } from '../../core/domain/schemas.js';

const line = {
  position: 3,
  eventId: '0b7c2a55-2c5e-4b53-9d1a-6b2f0e4c9a11',
  streamId: 'node:n1',
  streamType: 'node',
  version: 1,
  type: 'NodeCreated',
  payload: {
    nodeId: 'n1',
    regionId: 'monaco',
    title: 'Market',
    kind: 'place',
    point: [7.42, 43.73],
    authorRoleId: 'r1',
  },
  metadata: { actor: 'r1' },
  occurredAt: '2025-01-01T10:00:00+01:00',
  recordedAt: '2025-01-01T09:00:00.000Z',
};

describe('parseStoredEvent', () => {
  it('accepts a valid event and normalises its times to UTC', () => {
    const e = parseStoredEvent(line);
    expect(e.occurredAt).toBe('2025-01-01T09:00:00.000Z');
    expect(e.payload).toEqual(line.payload);
  });

  it('names the field of the first problem', () => {
    expect(() => parseStoredEvent({ ...line, payload: { ...line.payload, title: '' } })).toThrow(
      /^payload\.title: must not be empty$/,
    );
    expect(() => parseStoredEvent({ ...line, payload: { ...line.payload, point: [7.42, 95] } })).toThrow(
      /^payload\.point\.1: /,
    );
    expect(() => parseStoredEvent({ ...line, version: 0 })).toThrow(/^version: /);
    expect(() => parseStoredEvent({ ...line, eventId: 'nope' })).toThrow(/^eventId: /);
    expect(() => parseStoredEvent({ ...line, type: 'NodeExploded' })).toThrow(/^type: /);
    expect(() => parseStoredEvent({ ...line, extra: 1 })).toThrow(/Unrecognized key/);
    expect(() => parseStoredEvent({ ...line, metadata: {} })).toThrow(/^metadata\.actor: /);
  });

  it('requires the stream to match the payload', () => {
    expect(() => parseStoredEvent({ ...line, streamId: 'node:n2' })).toThrow(/^streamId: must be "node:n1"/);
    expect(() => parseStoredEvent({ ...line, streamType: 'role' })).toThrow(/^streamType: must be "node"/);
    const spun = {
      ...line,
      type: 'ThreadSpun',
      streamType: 'thread',
      streamId: `thread:${threadIdFor('r1', 'n1')}`,
      payload: { threadId: threadIdFor('r1', 'n1'), roleId: 'r1', nodeId: 'n1' },
    };
    expect(parseStoredEvent(spun).type).toBe('ThreadSpun');
    expect(() => parseStoredEvent({ ...spun, payload: { ...spun.payload, nodeId: 'n2' } })).toThrow(
      /^payload\.threadId: must be the thread id of roleId and nodeId/,
    );
  });

  it('keeps an exact public home only with consent', () => {
    const placed = {
      ...line,
      type: 'RoleHomePlaced',
      streamType: 'role',
      streamId: 'role:r1',
      payload: { roleId: 'r1', publicPoint: [7.42, 43.73], inaccuracyM: 0, exactConsent: false },
    };
    expect(() => parseStoredEvent(placed)).toThrow(
      /^payload\.exactConsent: must be true when inaccuracyM is 0/,
    );
  });
});

describe('parseCommand', () => {
  it('applies defaults and names bad fields', () => {
    const c = parseCommand({ type: 'PlaceRoleHome', roleId: 'r1', point: [7.42, 43.73] });
    expect(c).toEqual({
      type: 'PlaceRoleHome',
      roleId: 'r1',
      point: [7.42, 43.73],
      inaccuracyM: 250,
      exactConsent: false,
    });
    expect(() => parseCommand({ type: 'CastVote', proposalId: 'p1', roleId: 'r1', choice: 'maybe' })).toThrow(
      /^command\.choice: /,
    );
    expect(() =>
      parseCommand({ type: 'OpenProposal', nodeId: 'n', authorRoleId: 'r', title: 't', closesAt: 'soon' }),
    ).toThrow(/^command\.closesAt: /);
    expect(() =>
      parseCommand({ type: 'RegisterRole', regionId: 'Monaco!', name: 'x', area: [1, 2] }),
    ).toThrow(/^command\.regionId: must be a lowercase region id/);
  });
});
