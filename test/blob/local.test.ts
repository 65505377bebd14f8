// The blob contract on the local folder store, plus what only a folder shows: files on disk, hidden tags, no temp files.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../core/blob/local.js';
import { defaultBlobDir, openBlobStore } from '../../core/blob/open.js';
import { S3BlobStore } from '../../core/blob/s3.js';
import { repoRoot } from '../../core/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { blobContract } from './contract.js';

const root = tempDir('weft-blob-local-');

blobContract('local folder', async () => ({
  store: new LocalBlobStore(join(root, 'contract')),
  scratch: tempDir('weft-blob-scratch-'),
}));

describe('local folder store on disk', () => {
  const dir = join(root, 'disk');
  const store = new LocalBlobStore(dir);

  it('keeps each object as a plain file under the root and its tags in a hidden tree', async () => {
    await store.put('releases/r1/base.pmtiles', Buffer.from('PMTiles'), {
      contentType: 'application/vnd.pmtiles',
      tags: { stage: 'staging' },
    });
    expect(readFileSync(join(dir, 'releases/r1/base.pmtiles'), 'utf8')).toBe('PMTiles');
    const meta = JSON.parse(readFileSync(join(dir, '.weft/meta/releases/r1/base.pmtiles.json'), 'utf8'));
    expect(meta).toMatchObject({
      tags: { stage: 'staging' },
      contentType: 'application/vnd.pmtiles',
      size: 7,
    });
    await store.putTags('releases/r1/base.pmtiles', { stage: 'prod' });
    expect(
      JSON.parse(readFileSync(join(dir, '.weft/meta/releases/r1/base.pmtiles.json'), 'utf8')).tags,
    ).toEqual({
      stage: 'prod',
    });
    const keys: string[] = [];
    for await (const e of store.list('')) keys.push(e.key);
    expect(keys).toEqual(['releases/r1/base.pmtiles']);
    // Every write went through a temp file that was renamed away.
    expect(readdirSync(join(dir, '.weft/tmp'))).toEqual([]);
  });

  it('refuses a key that is also the folder of other keys, clearly', async () => {
    await store.put('clash/a/b', Buffer.from('x'));
    await expect(store.put('clash/a', Buffer.from('y'))).rejects.toThrow(
      /cannot store blob 'clash\/a' .*a key that is also the folder of other keys/,
    );
    await store.put('clash/c', Buffer.from('y'));
    await expect(store.put('clash/c/d', Buffer.from('z'))).rejects.toThrow(/cannot store blob 'clash\/c\/d'/);
    expect(readdirSync(join(dir, '.weft/tmp'))).toEqual([]);
    expect(await store.head('clash/a')).toBeUndefined();
  });

  it('removes emptied folders on delete', async () => {
    await store.put('prune/x/y/z', Buffer.from('x'));
    await store.delete('prune/x/y/z');
    expect(existsSync(join(dir, 'prune'))).toBe(false);
    expect(existsSync(join(dir, '.weft/meta/prune'))).toBe(false);
  });

  it('reports an object placed by hand, without an etag', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'hand'), { recursive: true });
    writeFileSync(join(dir, 'hand/made.txt'), 'by hand');
    expect(await store.head('hand/made.txt')).toMatchObject({ size: 7, etag: undefined });
    expect(await store.getTags('hand/made.txt')).toEqual({});
    await store.putTags('hand/made.txt', { stage: 'staging' });
    expect(await store.getTags('hand/made.txt')).toEqual({ stage: 'staging' });
  });
});

describe('openBlobStore', () => {
  it('opens the local folder when S3_ENDPOINT is unset: $WEFT_BLOB_DIR or <repo>/.data/blob', () => {
    const local = openBlobStore({ WEFT_BLOB_DIR: join(root, 'env') });
    expect(local).toBeInstanceOf(LocalBlobStore);
    expect(local.location).toBe(join(root, 'env'));
    expect(defaultBlobDir({})).toBe(join(repoRoot(), '.data', 'blob'));
  });

  it('opens S3 when S3_ENDPOINT is set, accepting the AWS_* credential names', async () => {
    const s3 = openBlobStore({
      S3_ENDPOINT: 'http://127.0.0.1:9',
      S3_BUCKET: 'weft',
      AWS_ACCESS_KEY_ID: 'k',
      AWS_SECRET_ACCESS_KEY: 's',
    });
    expect(s3).toBeInstanceOf(S3BlobStore);
    expect(s3.location).toBe('s3://weft at http://127.0.0.1:9');
    await s3.close();
  });

  it('names the missing setting when S3 is half configured', () => {
    expect(() => openBlobStore({ S3_ENDPOINT: 'http://x:9000', S3_ACCESS_KEY_ID: 'k' })).toThrow(
      'S3_ENDPOINT is set (http://x:9000) but S3_BUCKET is not',
    );
    expect(() =>
      openBlobStore({ S3_ENDPOINT: 'http://x:9000', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'k' }),
    ).toThrow(/S3_SECRET_ACCESS_KEY \/ AWS_SECRET_ACCESS_KEY is not/);
  });
});
