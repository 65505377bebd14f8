// The analytics export's pure parts: output formats, address redaction, WKB → WKT (checked against DuckDB's own
// reader), the full-or-incremental decision, the state file, GeoParquet metadata and query resolution.
import { isIP } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAddressKey, redactAddresses, withoutAddresses } from '../../pipeline/analytics/coarsen.js';
import { parseSinceDay, planExport } from '../../pipeline/analytics/export.js';
import { formatCsv, formatJson, formatTable } from '../../pipeline/analytics/format.js';
import { geoMetadata } from '../../pipeline/analytics/geoparquet.js';
import { listQueries, resolveQuery } from '../../pipeline/analytics/query.js';
import { readState, stateText, STATE_FILE, type ExportState } from '../../pipeline/analytics/state.js';
import { schemaDigest, TABLES } from '../../pipeline/analytics/tables.js';
import { wkbToWkt } from '../../pipeline/analytics/wkt.js';
import { plainDuck } from './support.js';

describe('output formats', () => {
  const out = {
    columns: ['name', 'n', 'note'],
    types: ['VARCHAR', 'BIGINT', 'JSON'],
    rows: [
      ['Zoé', 12, { a: [1, 2] }],
      ['a,"b"', null, 'two\nlines'],
    ],
  };
  it('aligns a table, numbers to the right, NULL shown, newlines kept on one line', () => {
    expect(formatTable(out)).toBe(
      [
        'name  │    n │ note',
        '──────┼──────┼────────────',
        'Zoé   │   12 │ {"a":[1,2]}',
        'a,"b" │ NULL │ two↵lines',
        '(2 rows)',
        '',
      ].join('\n'),
    );
  });
  it('quotes CSV fields per RFC 4180 and leaves NULL empty', () => {
    expect(formatCsv(out)).toBe('name,n,note\r\nZoé,12,"{""a"":[1,2]}"\r\n"a,""b""",,"two\nlines"\r\n');
  });
  it('writes JSON that parses back to the rows', () => {
    expect(JSON.parse(formatJson(out))).toEqual([
      { name: 'Zoé', n: 12, note: { a: [1, 2] } },
      { name: 'a,"b"', n: null, note: 'two\nlines' },
    ]);
    expect(formatJson({ columns: ['x'], types: ['INTEGER'], rows: [] })).toBe('[]\n');
  });
});

describe('address redaction', () => {
  it('recognises address keys in any spelling, not other words', () => {
    for (const k of [
      'ip',
      'IP',
      'clientIp',
      'client_ip',
      'ipAddress',
      'remote_addr',
      'x-forwarded-for',
      'userAgent',
      'sourceIPv6',
    ])
      expect(isAddressKey(k), k).toBe(true);
    for (const k of ['zip', 'ship', 'tip', 'description', 'release', 'hiddenNodes', 'skipped'])
      expect(isAddressKey(k), k).toBe(false);
  });
  it('replaces IPv4 and IPv6 addresses in text, with ports, brackets and zones, and nothing else', () => {
    expect(redactAddresses('from 198.51.100.23:443 and 10.0.0.1.', isIP)).toBe('from [ip] and [ip].');
    expect(redactAddresses('via [2001:db8::8]:443, fe80::1 and ::1', isIP)).toBe(
      'via [[ip]]:443, [ip] and [ip]',
    );
    expect(redactAddresses('host-203.0.113.7/x', isIP)).toBe('host-[ip]/x');
    for (const keep of [
      'v1.2.3.4.5',
      '2025-06-01T10:00:00.000Z',
      '10:00:00',
      'a.b.c',
      '1.5',
      'monaco/r1',
      '999.1.1.1',
    ])
      expect(redactAddresses(keep, isIP)).toBe(keep);
  });
  it('drops address keys and redacts nested strings in JSON', () => {
    expect(
      withoutAddresses(
        {
          ip: '1.2.3.4',
          a: ['x 192.0.2.1', { remoteAddress: 'z', n: 3 }],
          note: 'ok',
          nested: { clientIp: null },
        },
        isIP,
      ),
    ).toEqual({ a: ['x [ip]', { n: 3 }], note: 'ok', nested: {} });
  });
});

describe('WKB → WKT', () => {
  it('reads what DuckDB writes, for every geometry type, in both byte orders', async () => {
    const duck = await plainDuck();
    try {
      const wkts = [
        'POINT (7.4275 43.7395)',
        'LINESTRING (7.42706 43.727131, 7.415695 43.728165)',
        'POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1, 0.2 0.1, 0.2 0.2, 0.1 0.1))',
        'MULTIPOINT ((1 2), (3 4))',
        'MULTILINESTRING ((1 2, 3 4), (5 6, 7 8))',
        'MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2)))',
        'GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))',
        'POINT EMPTY',
      ];
      for (const wkt of wkts) {
        const [r] = await duck.rows(
          `SELECT ST_AsWKB('${wkt}'::GEOMETRY) AS b, ST_AsText('${wkt}'::GEOMETRY) AS t`,
        );
        const bytes = r!.b as Uint8Array;
        expect(wkbToWkt(bytes), wkt).toBe(r!.t);
      }
      // big-endian (XDR) as PostGIS writes with 'XDR'
      const xdr = Buffer.from('00000000013ff00000000000004000000000000000', 'hex');
      expect(wkbToWkt(xdr)).toBe('POINT (1 2)');
    } finally {
      duck.close();
    }
  });
});

describe('full or incremental', () => {
  const state: ExportState = {
    format: 1,
    position: 100,
    eventId: 'e100',
    since: null,
    schema: schemaDigest(),
    days: { events: ['2025-05-01'] },
  };
  const db = { head: 150, eventIdAtPrevious: 'e100' };
  it('continues after the previous position when everything matches', () => {
    expect(planExport(state, db, null, undefined, false)).toEqual({
      mode: 'incremental',
      reason: 'continuing after event 100',
      from: 100,
    });
  });
  it('starts over for --full, no state, another --since, fewer events, another database, a missing file', () => {
    const reasons = [
      planExport(state, db, null, undefined, true),
      planExport(undefined, db, null, undefined, false),
      planExport(state, db, '2025-05-02', undefined, false),
      planExport(state, { head: 99, eventIdAtPrevious: null }, null, undefined, false),
      planExport(state, { head: 150, eventIdAtPrevious: 'other' }, null, undefined, false),
      planExport(state, db, null, 'events/day=2025-05-01/events.parquet', false),
      planExport({ ...state, schema: 'older' }, db, null, undefined, false),
    ];
    expect(reasons.map((r) => [r.mode, r.from])).toEqual(Array(7).fill(['full', 0]));
    expect(reasons.map((r) => r.reason)).toEqual([
      '--full',
      'no earlier export here',
      "--since differs from the earlier export's (null)",
      'the database has fewer events than the earlier export',
      'the earlier export came from another database',
      'events/day=2025-05-01/events.parquet of the earlier export is missing',
      "the export's tables or columns changed since the earlier export",
    ]);
  });
  it('has a layout digest that changes with any column', () => {
    const changed = TABLES.map((t) =>
      t.name === 'votes' ? { ...t, columns: [...t.columns, { name: 'extra', type: 'INTEGER' }] } : t,
    );
    expect(schemaDigest()).toMatch(/^[0-9a-f]{16}$/);
    expect(schemaDigest(changed)).not.toBe(schemaDigest());
  });
  it('accepts only calendar days for --since', () => {
    expect(parseSinceDay('2025-02-28')).toBe('2025-02-28');
    for (const bad of ['2025-02-30', '2025-2-1', 'yesterday', '2025-05-01T00:00:00Z'])
      expect(() => parseSinceDay(bad)).toThrow(`--since: "${bad}" is not a day (YYYY-MM-DD)`);
  });
});

describe('state file and GeoParquet metadata', () => {
  it('writes the state without clock times, sorted, and reads it back; a damaged one counts as none', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'weft-state-'));
    try {
      const s: ExportState = {
        format: 1,
        position: 7,
        eventId: 'x',
        since: null,
        schema: 'abc',
        days: { timeline: ['b', 'a'], events: ['c'] },
      };
      const text = stateText(s);
      expect(text).toBe(stateText({ ...s, days: { events: ['c'], timeline: ['a', 'b'] } }));
      writeFileSync(path.join(dir, STATE_FILE), text);
      expect(readState(dir)).toEqual({ ...s, days: { events: ['c'], timeline: ['a', 'b'] } });
      writeFileSync(path.join(dir, STATE_FILE), '{"format":1,"position":"7"}');
      expect(readState(dir)).toBeUndefined();
      writeFileSync(path.join(dir, STATE_FILE), 'not json');
      expect(readState(dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('describes points and lines with bbox and covering', () => {
    expect(
      JSON.parse(geoMetadata({ type: 'Point', bbox: ['lon', 'lat', 'lon', 'lat'] }, [1, 2, 3, 4])),
    ).toEqual({
      version: '1.1.0',
      primary_column: 'geometry',
      columns: { geometry: { encoding: 'WKB', geometry_types: ['Point'], bbox: [1, 2, 3, 4] } },
    });
    const line = JSON.parse(
      geoMetadata({ type: 'LineString', bbox: ['a', 'b', 'c', 'd'], covering: 'bbox' }, null),
    );
    expect(line.columns.geometry.bbox).toBeUndefined();
    expect(line.columns.geometry.covering.bbox.ymax).toEqual(['bbox', 'ymax']);
  });
});

describe('ready-made queries', () => {
  it('each starts with a one-line comment saying what it answers', () => {
    const queries = listQueries();
    expect(queries.length).toBe(5);
    for (const q of queries) expect(q.question).toMatch(/^[A-Z].{30,}[.?]$/);
  });
  it('resolves a name, a name with .sql, a file, or SQL', () => {
    expect(resolveQuery('most-engaged-nodes').sql).toMatch(/^-- Which nodes/);
    expect(resolveQuery('most-engaged-nodes.sql').sql).toMatch(/^-- Which nodes/);
    expect(resolveQuery('SELECT 1')).toEqual({ sql: 'SELECT 1', source: 'query' });
    expect(() => resolveQuery('nothing-here')).toThrow(/nothing-here: no such file and no ready-made query/);
  });
});
