// The snapshot file format and its tools, checked against independent implementations: signatures verified by
// the openssl CLI (and keys made by openssl accepted), compression read and written by the zstd CLI.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildSnapshot,
  checkSnapshot,
  dayOf,
  dayOfSnapshotKey,
  eventLinesOf,
  nextDay,
  previousDay,
  snapshotKey,
} from '../../jobs/snapshot-format.js';
import {
  generateSnapshotKey,
  loadSnapshotKey,
  parseSnapshotKey,
  writeSnapshotKey,
} from '../../jobs/snapshot-key.js';
import { zstdCompress, zstdDecompress } from '../../jobs/zstd.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('weft-snapshot-format-');
const lines = (after: number, n: number) =>
  Array.from(
    { length: n },
    (_, i) => `${JSON.stringify({ position: after + 1 + i, type: 'X', payload: { i } })}\n`,
  ).join('');

describe('snapshot format', () => {
  it('signs a header that the openssl CLI verifies, over the canonical JSON of the other members', () => {
    const keyFile = join(dir, 'openssl.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', keyFile], { stdio: 'pipe' });
    const key = parseSnapshotKey(keyFile, 'openssl key');
    // the key id is the sha256 of the public key's DER, as openssl writes it
    const der = execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER']);
    expect(key.keyId).toBe(execFileSync('sha256sum', { input: der }).toString().split(' ')[0]);

    const prev = { date: '2025-02-28', sha256: 'a'.repeat(64) };
    const { header, bytes } = buildSnapshot(
      key,
      { date: '2025-03-01', previous: prev, after: 10, last: 13 },
      lines(10, 3),
    );
    // written by hand in sorted key order, not with our canonicalJson
    const message =
      `{"after":10,"date":"2025-03-01","events":3,"eventsSha256":"${header.eventsSha256}","format":"weft.snapshot/1",` +
      `"keyId":"${key.keyId}","last":13,"previous":{"date":"2025-02-28","sha256":"${'a'.repeat(64)}"}}`;
    writeFileSync(join(dir, 'msg'), message);
    writeFileSync(join(dir, 'sig'), Buffer.from(header.signature, 'base64'));
    execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout', '-out', join(dir, 'pub.pem')]);
    const verified = execFileSync('openssl', [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      join(dir, 'pub.pem'),
      '-rawin',
      '-in',
      join(dir, 'msg'),
      '-sigfile',
      join(dir, 'sig'),
    ]).toString();
    expect(verified).toContain('Signature Verified Successfully');
    // the first line is the header, the rest the event lines; the event hash is over exactly those bytes
    const text = bytes.toString('utf8');
    expect(JSON.parse(text.split('\n')[0]!)).toEqual(header);
    const body = text.slice(text.indexOf('\n') + 1);
    expect(body).toBe(lines(10, 3));
    expect(execFileSync('sha256sum', { input: body }).toString().split(' ')[0]).toBe(header.eventsSha256);
    // and it checks
    const snap = checkSnapshot(bytes, 'x', key);
    expect(eventLinesOf(snap)).toEqual(lines(10, 3).trimEnd().split('\n'));
  });

  it('gives the same bytes for the same inputs and key (ed25519 is deterministic), an empty day included', () => {
    const key = parseSnapshotKey(generateSnapshotKey().privatePem, 'k');
    const f = { date: '2025-03-02', previous: null, after: 0, last: 0 };
    const a = buildSnapshot(key, f, '');
    expect(a.bytes.equals(buildSnapshot(key, f, '').bytes)).toBe(true);
    expect(a.header.events).toBe(0);
    expect(eventLinesOf(checkSnapshot(a.bytes, 'empty', key))).toEqual([]);
  });

  it('names the snapshot and the line when the events do not continue the positions', () => {
    const key = parseSnapshotKey(generateSnapshotKey().privatePem, 'k');
    const { bytes } = buildSnapshot(
      key,
      { date: '2025-03-02', previous: null, after: 5, last: 8 },
      lines(4, 3),
    );
    expect(() => checkSnapshot(bytes, 'snapshots/2025-03-02.json.zst', key)).toThrow(
      'snapshot snapshots/2025-03-02.json.zst: line 2: position 5, expected 6',
    );
    expect(() => checkSnapshot(Buffer.from('{"format":"weft.snapshot/1"}'), 'f.zst', key)).toThrow(
      'snapshot f.zst: no header line (the file has no newline)',
    );
    expect(() => checkSnapshot(Buffer.from('{"format":"weft.snapshot/1"}\n'), 'f.zst', key)).toThrow(
      /^snapshot f\.zst: line 1: header field "date": /,
    );
  });

  it('names days and keys in UTC, across months, years and leap days', () => {
    expect(dayOf(new Date('2024-02-28T23:59:59.999Z'))).toBe('2024-02-28');
    expect(nextDay('2024-02-28')).toBe('2024-02-29');
    expect(nextDay('2024-12-31')).toBe('2025-01-01');
    expect(previousDay('2025-03-01')).toBe('2025-02-28');
    expect(snapshotKey('2025-01-01')).toBe('snapshots/2025-01-01.json.zst');
    expect(dayOfSnapshotKey('snapshots/2025-01-01.json.zst')).toBe('2025-01-01');
    expect(dayOfSnapshotKey('snapshots/2025-01-01.json')).toBeUndefined();
    expect(() => nextDay('2025-02-30')).toThrow(/not a day/);
  });
});

describe('snapshot keys', () => {
  it('keygen writes a private key (mode 600) and its public half; both load, only the private one signs', async () => {
    const file = join(dir, 'keygen.pem');
    const k = writeSnapshotKey(file);
    expect((await import('node:fs')).statSync(file).mode & 0o777).toBe(0o600);
    expect(loadSnapshotKey({ env: { WEFT_SNAPSHOT_KEY: file }, needPrivate: true }).keyId).toBe(k.keyId);
    expect(loadSnapshotKey({ env: { WEFT_SNAPSHOT_PUBLIC_KEY: `${file}.pub` } }).keyId).toBe(k.keyId);
    expect(() =>
      loadSnapshotKey({ env: { WEFT_SNAPSHOT_PUBLIC_KEY: `${file}.pub` }, needPrivate: true }),
    ).toThrow(/^no snapshot key configured: set WEFT_SNAPSHOT_KEY/);
    expect(() => loadSnapshotKey({ explicit: `${file}.pub`, needPrivate: true })).toThrow(
      '--key: writing snapshots needs the private key, this is a public key',
    );
    expect(() => writeSnapshotKey(file)).toThrow(`${file} already exists; not overwriting a key`);
    // PEM text works as well as a path
    expect(parseSnapshotKey(readFileSync(file, 'utf8'), 'text').keyId).toBe(k.keyId);
  });

  it('refuses keys that are not ed25519, and paths that do not exist', () => {
    const rsa = join(dir, 'rsa.pem');
    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'RSA',
      '-pkeyopt',
      'rsa_keygen_bits:1024',
      '-out',
      rsa,
    ]);
    expect(() => parseSnapshotKey(rsa, 'WEFT_SNAPSHOT_KEY')).toThrow(
      /^WEFT_SNAPSHOT_KEY: the snapshot key must be ed25519, this one is rsa/,
    );
    expect(() => parseSnapshotKey('/nope/key.pem', 'WEFT_SNAPSHOT_KEY')).toThrow(
      'WEFT_SNAPSHOT_KEY: neither PEM text nor an existing file: /nope/key.pem',
    );
  });
});

describe('the zstd wrapper', () => {
  it('writes frames the zstd CLI reads and reads frames the zstd CLI writes', async () => {
    const text = lines(0, 200);
    const ours = await zstdCompress(Buffer.from(text));
    expect(ours.length).toBeLessThan(text.length / 4);
    expect(execFileSync('zstd', ['-q', '-d', '-c'], { input: ours }).toString()).toBe(text);
    const theirs = execFileSync('zstd', ['-q', '-c', '-19'], { input: text });
    expect((await zstdDecompress(theirs)).toString()).toBe(text);
    expect((await zstdCompress(Buffer.from(text))).equals(ours)).toBe(true);
  });

  it('fails in one line naming the input on corrupt or truncated data', async () => {
    const good = await zstdCompress(Buffer.from(lines(0, 50)));
    const flipped = Buffer.from(good);
    flipped[flipped.length - 2]! ^= 0xff;
    await expect(zstdDecompress(flipped, 'day.zst')).rejects.toThrow(
      /^day\.zst: zstd decompression failed: .+/,
    );
    await expect(zstdDecompress(good.subarray(0, 12), 'cut.zst')).rejects.toThrow(
      /^cut\.zst: zstd decompression failed: .*premature end/,
    );
    await expect(zstdDecompress(Buffer.from('not zstd'), 'x')).rejects.toThrow(
      'x: zstd decompression failed: unsupported format',
    );
  });

  it('says how to install zstd when it is missing', async () => {
    const old = process.env.WEFT_ZSTD;
    process.env.WEFT_ZSTD = '/nonexistent/zstd';
    try {
      await expect(zstdCompress(Buffer.from('x'))).rejects.toThrow(
        'zstd is not installed (no "/nonexistent/zstd" on PATH); install it with: apt-get install -y zstd',
      );
    } finally {
      if (old === undefined) delete process.env.WEFT_ZSTD;
      else process.env.WEFT_ZSTD = old;
    }
  });
});
