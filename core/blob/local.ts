// The blob store as a local folder: one file per object, writes atomic (temp file + rename), tags and content type
// in a parallel hidden tree `<root>/.weft/meta/<key>.json` so that listing never shows them.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type {
  BlobBody,
  BlobStore,
  BlobTags,
  ByteRange,
  GetResult,
  HeadResult,
  ListEntry,
  PutOptions,
  PutResult,
} from './adapter.js';
import { errorMessage, UserError } from '../errors.js';
import { bodyStream, DigestStream, isBytes, sha256Hex } from './digest.js';
import { BlobStoreError, NotFound, RangeNotSatisfiable } from './errors.js';
import { checkKey, checkPrefix, checkRange, checkTags, RESERVED_SEGMENT } from './keys.js';

/** What the local store keeps beside each object. */
interface Meta {
  sha256: string;
  size: number;
  contentType?: string;
  tags: BlobTags;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;
  readonly location: string;
  private readonly root: string;
  private readonly metaRoot: string;
  private readonly tmpRoot: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.location = this.root;
    this.metaRoot = path.join(this.root, RESERVED_SEGMENT, 'meta');
    this.tmpRoot = path.join(this.root, RESERVED_SEGMENT, 'tmp');
  }

  private objectPath(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  private metaPath(key: string): string {
    return path.join(this.metaRoot, ...key.split('/')) + '.json';
  }

  private tempPath(): string {
    return path.join(this.tmpRoot, `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  /** Moves a finished temp file to `dest`, creating folders; a key that collides with a folder is a clear error. */
  private async install(tmp: string, dest: string, key: string): Promise<void> {
    try {
      await mkdir(path.dirname(dest), { recursive: true });
      await rename(tmp, dest);
    } catch (err) {
      const code = errno(err);
      if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTEMPTY')
        throw new BlobStoreError(
          `cannot store blob '${key}' in ${this.location}: a folder store cannot hold a key that is also ` +
            `the folder of other keys (or the reverse)`,
          { cause: err },
        );
      throw err;
    }
  }

  private async writeMeta(key: string, meta: Meta): Promise<void> {
    await mkdir(this.tmpRoot, { recursive: true });
    const tmp = this.tempPath();
    await writeFile(tmp, JSON.stringify(meta) + '\n', { flush: true });
    try {
      await this.install(tmp, this.metaPath(key), key);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  private async readMeta(key: string): Promise<Meta | undefined> {
    try {
      return JSON.parse(await readFile(this.metaPath(key), 'utf8')) as Meta;
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  /** The object file's size and mtime, or undefined when there is no object (a folder is not one). */
  private async statObject(key: string): Promise<{ size: number; mtime: Date } | undefined> {
    try {
      const info = await stat(this.objectPath(key));
      return info.isFile() ? { size: info.size, mtime: info.mtime } : undefined;
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  async put(key: string, body: BlobBody, opts: PutOptions = {}): Promise<PutResult> {
    checkKey(key);
    const tags = checkTags(key, opts.tags ?? {});
    await mkdir(this.tmpRoot, { recursive: true });
    const tmp = this.tempPath();
    try {
      let size: number;
      let sha256: string;
      if (isBytes(body)) {
        await writeFile(tmp, body, { flush: true });
        ({ size, sha256 } = { size: body.byteLength, sha256: sha256Hex(body) });
      } else {
        const digest = new DigestStream();
        await pipeline(await bodyStream(key, body), digest, createWriteStream(tmp, { flush: true }));
        ({ size, sha256 } = digest.result());
      }
      await this.install(tmp, this.objectPath(key), key);
      const meta: Meta = { sha256, size, tags };
      if (opts.contentType) meta.contentType = opts.contentType;
      await this.writeMeta(key, meta);
      return { key, size, sha256, etag: `"${sha256}"` };
    } catch (err) {
      await rm(tmp, { force: true });
      if (err instanceof UserError) throw err;
      throw new BlobStoreError(`cannot store blob '${key}' in ${this.location}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    checkKey(key);
    if (range) checkRange(key, range);
    let handle;
    try {
      handle = await open(this.objectPath(key), 'r');
    } catch (err) {
      if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes(errno(err) ?? '')) throw new NotFound(key, this.location);
      throw err;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new NotFound(key, this.location);
      const meta = await this.readMeta(key);
      const total = info.size;
      const base = { totalSize: total, contentType: meta?.contentType, etag: this.etag(meta, total) };
      if (!range) return { ...base, body: handle.createReadStream(), size: total };
      if (range.start >= total) throw new RangeNotSatisfiable(key, range, total);
      const end = Math.min(range.end ?? total - 1, total - 1);
      const body = handle.createReadStream({ start: range.start, end });
      return { ...base, body, size: end - range.start + 1, contentRange: { start: range.start, end, total } };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The sha256 recorded at put time, when the file still has that size (it was not replaced behind our back). */
  private etag(meta: Meta | undefined, size: number): string | undefined {
    return meta && meta.size === size ? `"${meta.sha256}"` : undefined;
  }

  async head(key: string): Promise<HeadResult | undefined> {
    checkKey(key);
    const info = await this.statObject(key);
    if (!info) return undefined;
    const meta = await this.readMeta(key);
    return {
      size: info.size,
      etag: this.etag(meta, info.size),
      contentType: meta?.contentType,
      lastModified: info.mtime,
    };
  }

  async *list(prefix: string): AsyncIterable<ListEntry> {
    checkPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash + 1);
    yield* this.walk(dirKey, prefix);
  }

  /** Walks the folder of `dirKey` (ends with `/` or is empty) in key byte order, yielding keys starting with prefix. */
  private async *walk(dirKey: string, prefix: string): AsyncGenerator<ListEntry> {
    let entries;
    try {
      entries = await readdir(path.join(this.root, ...dirKey.split('/')), { withFileTypes: true });
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
      throw err;
    }
    // A folder's keys all start with `name/`: ordering siblings by that spelling gives the keys' byte order.
    const named = entries
      .filter((e) => !(dirKey === '' && e.name === RESERVED_SEGMENT) && (e.isFile() || e.isDirectory()))
      .map((e) => ({ e, sortKey: Buffer.from(dirKey + e.name + (e.isDirectory() ? '/' : '')) }))
      .sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
    for (const { e } of named) {
      const key = dirKey + e.name;
      if (e.isDirectory()) {
        const sub = key + '/';
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) yield* this.walk(sub, prefix);
      } else if (key.startsWith(prefix)) {
        const info = await this.statObject(key);
        if (info) yield { key, size: info.size };
      }
    }
  }

  async getTags(key: string): Promise<BlobTags> {
    checkKey(key);
    if (!(await this.statObject(key))) throw new NotFound(key, this.location);
    return { ...((await this.readMeta(key))?.tags ?? {}) };
  }

  async putTags(key: string, tags: BlobTags): Promise<void> {
    checkKey(key);
    checkTags(key, tags);
    const info = await this.statObject(key);
    if (!info) throw new NotFound(key, this.location);
    const meta = (await this.readMeta(key)) ?? { sha256: '', size: -1, tags: {} };
    await this.writeMeta(key, { ...meta, tags: { ...tags } });
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    if (await this.statObject(key)) await rm(this.objectPath(key), { force: true });
    await rm(this.metaPath(key), { force: true }).catch((err: unknown) => {
      if (errno(err) !== 'ENOTDIR') throw err;
    });
    await this.pruneEmptyFolders(path.dirname(this.objectPath(key)), this.root);
    await this.pruneEmptyFolders(path.dirname(this.metaPath(key)), this.metaRoot);
  }

  /** Removes now-empty folders from `dir` up to (not including) `stop`, so a freed name can hold an object again. */
  private async pruneEmptyFolders(dir: string, stop: string): Promise<void> {
    while (dir.startsWith(stop + path.sep)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): stop here
      }
      dir = path.dirname(dir);
    }
  }

  async close(): Promise<void> {}
}
