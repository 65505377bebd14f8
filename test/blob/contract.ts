// The blob store contract: one suite every implementation (local folder, real S3 server) must pass unchanged.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../core/blob/adapter.js';
import { NotFound, RangeNotSatisfiable } from '../../core/blob/errors.js';
import { UserError } from '../../core/errors.js';

export interface ContractSubject {
  store: BlobStore;
  /** Keys per list page when the store pages (S3's MaxKeys), so the suite can list across several pages. */
  listPageSize?: number;
  /** A scratch folder for files to upload from. */
  scratch: string;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function readAll(store: BlobStore, key: string, range?: { start: number; end?: number }) {
  const res = await store.get(key, range);
  return { ...res, bytes: await buffer(res.body) };
}

async function keysOf(store: BlobStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list(prefix)) out.push(e.key);
  return out;
}

/** A stream of `total` random bytes in uneven chunks, and the bytes it will produce (for an independent hash). */
function randomStream(total: number): { stream: Readable; bytes: Buffer } {
  const bytes = randomBytes(total);
  async function* chunks() {
    for (let at = 0; at < total;) {
      const n = Math.min(total - at, 40_000 + (at % 50_000));
      yield bytes.subarray(at, at + n);
      at += n;
      await new Promise((r) => setImmediate(r));
    }
  }
  return { stream: Readable.from(chunks(), { objectMode: false }), bytes };
}

export function blobContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`blob store contract: ${name}`, () => {
    let store: BlobStore;
    let subject: ContractSubject;
    beforeAll(async () => {
      subject = await factory();
      store = subject.store;
    });

    it('stores bytes and reads them back with their sha256, size and content type', async () => {
      const data = Buffer.from('{"hello":"world","n":42}\n');
      const put = await store.put('rt/hello.json', data, { contentType: 'application/json' });
      expect(put).toMatchObject({ key: 'rt/hello.json', size: data.length, sha256: sha(data) });
      // As `sha256sum` prints it for these bytes.
      expect(put.sha256).toBe('8f430ccd80278dcac4eac7d6f99cc8940c08f8cb9bf073b8248d551bc007e6d1');
      const got = await readAll(store, 'rt/hello.json');
      expect(got.bytes.equals(data)).toBe(true);
      expect(got).toMatchObject({
        size: data.length,
        totalSize: data.length,
        contentType: 'application/json',
      });
      expect(got.contentRange).toBeUndefined();
      const head = await store.head('rt/hello.json');
      expect(head).toMatchObject({ size: data.length, contentType: 'application/json' });
      expect(head!.lastModified).toBeInstanceOf(Date);
      expect(Math.abs(head!.lastModified!.getTime() - Date.now())).toBeLessThan(5 * 60_000);
      // One entity tag for one content, wherever it is read.
      expect(put.etag).toBeTruthy();
      expect(head!.etag).toBe(put.etag);
      expect(got.etag).toBe(put.etag);
    });

    it('streams a multi-megabyte body (multipart on S3) and hashes it on the way', async () => {
      const total = 6 * 1024 * 1024 + 12_345;
      const { stream, bytes } = randomStream(total);
      const put = await store.put('big/random.bin', stream);
      expect(put.size).toBe(total);
      expect(put.sha256).toBe(sha(bytes));
      expect((await store.head('big/random.bin'))?.size).toBe(total);
      const back = await readAll(store, 'big/random.bin');
      expect(back.size).toBe(total);
      expect(sha(back.bytes)).toBe(sha(bytes));
      // A range across the 5 MiB part boundary comes back exactly.
      const at = 5 * 1024 * 1024 - 3;
      const slice = await readAll(store, 'big/random.bin', { start: at, end: at + 9 });
      expect(slice.bytes.equals(bytes.subarray(at, at + 10))).toBe(true);
    });

    it('stores a file from disk', async () => {
      const data = randomBytes(70_000);
      const file = join(subject.scratch, 'upload.bin');
      writeFileSync(file, data);
      const put = await store.put('files/upload.bin', { file });
      expect(put).toMatchObject({ size: data.length, sha256: sha(data) });
      expect((await readAll(store, 'files/upload.bin')).bytes.equals(data)).toBe(true);
      await expect(store.put('files/none.bin', { file: join(subject.scratch, 'missing') })).rejects.toThrow(
        /files\/none\.bin.*missing' is not a readable file/,
      );
      expect(await store.head('files/none.bin')).toBeUndefined();
    });

    it('serves byte ranges: start-end, open-ended, the last byte, an end past the object, a start past it', async () => {
      const data = Buffer.from('0123456789abcdefghij'); // 20 bytes
      await store.put('ranges/r.txt', data, { contentType: 'text/plain' });
      const r1 = await readAll(store, 'ranges/r.txt', { start: 2, end: 5 });
      expect(r1.bytes.toString()).toBe('2345');
      expect(r1).toMatchObject({ size: 4, totalSize: 20, contentRange: { start: 2, end: 5, total: 20 } });
      const r2 = await readAll(store, 'ranges/r.txt', { start: 15 });
      expect(r2.bytes.toString()).toBe('fghij');
      expect(r2.contentRange).toEqual({ start: 15, end: 19, total: 20 });
      const last = await readAll(store, 'ranges/r.txt', { start: 19, end: 19 });
      expect(last.bytes.toString()).toBe('j');
      expect(last.size).toBe(1);
      const first = await readAll(store, 'ranges/r.txt', { start: 0, end: 0 });
      expect(first.bytes.toString()).toBe('0');
      const clamped = await readAll(store, 'ranges/r.txt', { start: 18, end: 1000 });
      expect(clamped.bytes.toString()).toBe('ij');
      expect(clamped.contentRange).toEqual({ start: 18, end: 19, total: 20 });
      const past = store.get('ranges/r.txt', { start: 20 });
      await expect(past).rejects.toBeInstanceOf(RangeNotSatisfiable);
      await expect(store.get('ranges/r.txt', { start: 25, end: 30 })).rejects.toThrow(
        /range bytes 25-30 of blob 'ranges\/r\.txt' is not satisfiable.*20 bytes/,
      );
      await expect(store.get('ranges/r.txt', { start: 5, end: 4 })).rejects.toThrow(
        /end must be an integer ≥ start/,
      );
      await expect(store.get('ranges/r.txt', { start: -1 })).rejects.toThrow(/start must be an integer ≥ 0/);
    });

    it('keeps an empty object; any range of it is unsatisfiable', async () => {
      const put = await store.put('empty/zero', new Uint8Array(0));
      expect(put).toMatchObject({
        size: 0,
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      });
      expect((await store.head('empty/zero'))?.size).toBe(0);
      const got = await readAll(store, 'empty/zero');
      expect(got.bytes.length).toBe(0);
      await expect(store.get('empty/zero', { start: 0 })).rejects.toBeInstanceOf(RangeNotSatisfiable);
      const empty = await store.put('empty/stream', Readable.from([]));
      expect(empty.size).toBe(0);
      expect(await keysOf(store, 'empty/')).toEqual(['empty/stream', 'empty/zero']);
    });

    it('says clearly when an object is missing', async () => {
      expect(await store.head('missing/nothing')).toBeUndefined();
      const get = store.get('missing/nothing');
      await expect(get).rejects.toBeInstanceOf(NotFound);
      await expect(store.get('missing/nothing')).rejects.toThrow(/blob 'missing\/nothing' not found/);
      await expect(store.get('missing/nothing', { start: 0, end: 1 })).rejects.toBeInstanceOf(NotFound);
      await expect(store.getTags('missing/nothing')).rejects.toBeInstanceOf(NotFound);
      await expect(store.putTags('missing/nothing', { stage: 'prod' })).rejects.toBeInstanceOf(NotFound);
      await store.delete('missing/nothing'); // deleting what is not there is fine
      expect(await keysOf(store, 'missing/')).toEqual([]);
    });

    it('lists by prefix in key byte order, across pages', async () => {
      // No key is also another key's folder: a folder store cannot hold both `a` and `a/c`.
      const keys = ['ls/a.txt', 'ls/a-b', 'ls/a/c', 'ls/a/d/e', 'ls/ab', 'ls/b/x', 'ls/Z', 'ls/é'];
      await Promise.all(keys.map((k, i) => store.put(k, Buffer.alloc(i + 1, 1))));
      await store.put('lsx/other', Buffer.from('x'));
      const all: { key: string; size: number }[] = [];
      for await (const e of store.list('ls/')) all.push(e);
      // S3 lists in key byte order; s3rver does not when a name is a prefix of a sibling's (`a/…` vs `a-b`), so
      // the mixed names here are compared as sets and the order is checked below on names where all agree.
      const sorted = (ks: string[]) => [...ks].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(sorted(all.map((e) => e.key))).toEqual(sorted(keys));
      expect(all.map((e) => e.key)).toHaveLength(keys.length);
      expect(all.find((e) => e.key === 'ls/a/d/e')?.size).toBe(keys.indexOf('ls/a/d/e') + 1);
      // A prefix may end inside a name.
      expect(sorted(await keysOf(store, 'ls/a'))).toEqual([
        'ls/a-b',
        'ls/a.txt',
        'ls/a/c',
        'ls/a/d/e',
        'ls/ab',
      ]);
      expect(await keysOf(store, 'ls/a/')).toEqual(['ls/a/c', 'ls/a/d/e']);
      expect(await keysOf(store, 'ls/nothing/')).toEqual([]);
      expect(sorted(await keysOf(store, 'l'))).toEqual([...sorted(keys), 'lsx/other']);

      const page = subject.listPageSize ?? 5;
      const many = Array.from({ length: page * 4 + 3 }, (_, i) => `pages/k${String(i).padStart(3, '0')}`);
      await Promise.all(many.map((k) => store.put(k, Buffer.from(k))));
      expect(await keysOf(store, 'pages/')).toEqual(many);
    });

    it('puts, gets and replaces tags (staging → prod); a new put replaces the tags too', async () => {
      await store.put('tags/rel.pmtiles', Buffer.from('tiles'), {
        tags: { stage: 'staging', release: 'r1' },
      });
      expect(await store.getTags('tags/rel.pmtiles')).toEqual({ stage: 'staging', release: 'r1' });
      await store.putTags('tags/rel.pmtiles', { stage: 'prod' });
      expect(await store.getTags('tags/rel.pmtiles')).toEqual({ stage: 'prod' }); // replaced, not merged
      await store.putTags('tags/rel.pmtiles', { stage: 'retired', 'retired-at': '2025-01-02T03:04:05Z' });
      expect(await store.getTags('tags/rel.pmtiles')).toEqual({
        stage: 'retired',
        'retired-at': '2025-01-02T03:04:05Z',
      });
      await store.putTags('tags/rel.pmtiles', {});
      expect(await store.getTags('tags/rel.pmtiles')).toEqual({});
      // Tags leave the bytes alone.
      expect((await readAll(store, 'tags/rel.pmtiles')).bytes.toString()).toBe('tiles');

      await store.putTags('tags/rel.pmtiles', { stage: 'prod' });
      await store.put('tags/rel.pmtiles', Buffer.from('tiles v2'));
      expect(await store.getTags('tags/rel.pmtiles')).toEqual({});
      await store.put('tags/rel.pmtiles', Buffer.from('tiles v3'), { tags: { stage: 'staging' } });
      expect(await store.getTags('tags/rel.pmtiles')).toEqual({ stage: 'staging' });
      expect(await keysOf(store, 'tags/')).toEqual(['tags/rel.pmtiles']); // tags are not objects

      await expect(store.putTags('tags/rel.pmtiles', { 'bad tag!': 'x' })).rejects.toThrow(
        /invalid tags for blob/,
      );
      const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
      await expect(store.putTags('tags/rel.pmtiles', eleven)).rejects.toThrow(/11 tags, at most 10/);
      await expect(store.put('tags/other', Buffer.from('x'), { tags: { '': 'x' } })).rejects.toThrow(/1–128/);
      expect(await store.head('tags/other')).toBeUndefined();
      expect(await store.getTags('tags/rel.pmtiles')).toEqual({ stage: 'staging' });
    });

    it('deletes an object with its tags; the key can be reused, also as a folder', async () => {
      await store.put('del/a/b', Buffer.from('one'), { tags: { stage: 'staging' } });
      await store.delete('del/a/b');
      expect(await store.head('del/a/b')).toBeUndefined();
      await expect(store.get('del/a/b')).rejects.toBeInstanceOf(NotFound);
      expect(await keysOf(store, 'del/')).toEqual([]);
      await store.put('del/a', Buffer.from('two')); // the name of the former folder, now an object
      expect((await readAll(store, 'del/a')).bytes.toString()).toBe('two');
      await store.put('del/a/b', Buffer.from('three')).catch(() => undefined); // may be refused by a folder store
      await store.delete('del/a');
      await store.put('del/a/b', Buffer.from('four'));
      expect(await store.getTags('del/a/b')).toEqual({}); // the old object's tags did not come back
      expect((await readAll(store, 'del/a/b')).bytes.toString()).toBe('four');
      await store.delete('del/a/b');
    });

    it('overwrites an object as a whole', async () => {
      await store.put('over/x', Buffer.from('a longer first version'));
      await store.put('over/x', Buffer.from('short'));
      const got = await readAll(store, 'over/x');
      expect(got.bytes.toString()).toBe('short');
      expect((await store.head('over/x'))?.size).toBe(5);
    });

    it('refuses invalid keys and prefixes, naming them, before touching the store', async () => {
      const bad = [
        '',
        '/abs',
        'a/../b',
        '..',
        'a/./b',
        'a//b',
        'trail/',
        'back\\slash',
        'ctl\u0001',
        '.weft/meta/x',
      ];
      for (const key of bad) {
        for (const call of [
          () => store.put(key, Buffer.from('x')),
          () => store.get(key),
          () => store.head(key),
          () => store.getTags(key),
          () => store.putTags(key, {}),
          () => store.delete(key),
        ]) {
          const err = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, `key ${JSON.stringify(key)}`).toBeInstanceOf(UserError);
          expect((err as UserError).code).toBe('bad_key');
          expect((err as Error).message).toContain(`invalid blob key${key ? ` '${key}'` : ''}`);
        }
      }
      await expect(keysOf(store, '../x')).rejects.toThrow(/invalid blob prefix '..\/x'/);
      await expect(keysOf(store, '/x')).rejects.toThrow(/invalid blob prefix/);
      await expect(keysOf(store, 'a/..')).rejects.toThrow(/'\.\.' path segment/);
      await expect(keysOf(store, '.weft/')).rejects.toThrow(/'\.weft' is reserved/);
      expect(await keysOf(store, '.we')).toEqual([]); // reserved names never show up
      await expect(store.put('x'.repeat(1025), Buffer.from('x'))).rejects.toThrow(/longer than 1024 bytes/);
      // Unusual but valid keys work.
      const odd = 'odd/ünï cödé €/a b+c=d@e:f.txt';
      await store.put(odd, Buffer.from('odd'));
      expect(await keysOf(store, 'odd/')).toEqual([odd]);
      expect((await readAll(store, odd)).bytes.toString()).toBe('odd');
    });

    it('takes concurrent puts of different keys', async () => {
      const bodies = Array.from({ length: 24 }, (_, i) => randomBytes(1000 + i * 997));
      const results = await Promise.all(
        bodies.map((b, i) =>
          store.put(`conc/${i}`, i % 2 ? Readable.from([b.subarray(0, 500), b.subarray(500)]) : b),
        ),
      );
      results.forEach((r, i) => expect(r.sha256).toBe(sha(bodies[i]!)));
      const back = await Promise.all(bodies.map((_, i) => readAll(store, `conc/${i}`)));
      back.forEach((r, i) => expect(r.bytes.equals(bodies[i]!)).toBe(true));
      expect((await keysOf(store, 'conc/')).length).toBe(24);
    });

    it('leaves no object behind when the body fails halfway', async () => {
      async function* failing() {
        yield randomBytes(100_000);
        throw new Error('source broke');
      }
      await expect(store.put('fail/partial', Readable.from(failing()))).rejects.toThrow(
        /cannot store blob 'fail\/partial' in .*: source broke/,
      );
      expect(await store.head('fail/partial')).toBeUndefined();
      expect(await keysOf(store, 'fail/')).toEqual([]);
    });
  });
}
