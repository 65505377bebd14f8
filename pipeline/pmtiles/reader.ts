// Reading PMTiles v3 archives from any byte-range source: header, metadata, tiles by z/x/y, and every entry.
import { open, type FileHandle } from 'node:fs/promises';
import { UserError } from '../../core/errors.js';
import { decompress } from './compression.js';
import { DirectoryError, deserializeDirectory, findEntry, type Entry } from './directory.js';
import { HeaderError, ROOT_LIMIT_BYTES, decodeHeader, type Header } from './header.js';
import { isValidZxy, tileIdToZxy, zxyToTileId } from './tileid.js';

/** Random access to the bytes of one archive (a file, a blob store object, …). */
export interface RangeSource {
  size(): Promise<number>;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** identifies the archive in errors and caches, e.g. its path */
  key: string;
  close?(): Promise<void>;
}

/** A RangeSource over a local file; the file stays open until close(). */
export function fileSource(path: string): RangeSource & { close(): Promise<void> } {
  let handle: Promise<FileHandle> | undefined;
  let cachedSize: number | undefined;
  const fail = (err: unknown): never => {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: cannot read (${code ?? (err as Error).message})`, 'not_found');
  };
  const getHandle = () => (handle ??= open(path, 'r').catch(fail));
  return {
    key: path,
    async size() {
      if (cachedSize === undefined) cachedSize = (await (await getHandle()).stat()).size;
      return cachedSize;
    },
    async read(offset: number, length: number) {
      const fh = await getHandle();
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? buf : buf.subarray(0, done);
    },
    async close() {
      const h = handle;
      handle = undefined;
      if (h) await (await h.catch(() => undefined))?.close();
    },
  };
}

/** Levels of leaf directories a reader follows below the root (the spec discourages more than one). */
const MAX_LEAF_DEPTH = 4;
const DEFAULT_CACHE_DIRECTORIES = 64;

export interface ReaderOptions {
  /** decoded directories kept in memory (LRU); default 64 */
  cacheDirectories?: number;
}

export class PMTilesReader {
  private readonly cache = new Map<number, Promise<Entry[]>>();
  private root: Promise<Entry[]> | undefined;
  private metadataPromise: Promise<unknown> | undefined;

  private constructor(
    readonly source: RangeSource,
    readonly header: Header,
    readonly fileSize: number,
    rootBytes: Uint8Array | undefined,
    private readonly cacheLimit: number,
  ) {
    if (rootBytes) this.root = Promise.resolve(this.decodeDirectory(rootBytes, 'root directory'));
  }

  /** Open an archive: reads and checks the header and the root directory. Throws UserError naming source.key. */
  static async open(source: RangeSource, options: ReaderOptions = {}): Promise<PMTilesReader> {
    const size = await source.size();
    const first = await source.read(0, Math.min(size, ROOT_LIMIT_BYTES));
    let header: Header;
    try {
      header = decodeHeader(first, size);
    } catch (err) {
      if (err instanceof HeaderError) throw new UserError(`${source.key}: ${err.message}`, 'bad_archive');
      throw err;
    }
    const rootEnd = header.rootDirectoryOffset + header.rootDirectoryLength;
    const rootBytes =
      rootEnd <= first.length ? first.subarray(header.rootDirectoryOffset, rootEnd).slice() : undefined;
    const reader = new PMTilesReader(
      source,
      header,
      size,
      rootBytes,
      options.cacheDirectories ?? DEFAULT_CACHE_DIRECTORIES,
    );
    await reader.rootDirectory();
    return reader;
  }

  /** Open a local file. */
  static openFile(path: string, options?: ReaderOptions): Promise<PMTilesReader> {
    const source = fileSource(path);
    return PMTilesReader.open(source, options).catch(async (err) => {
      await source.close();
      throw err;
    });
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }

  private fail(message: string): UserError {
    return new UserError(`${this.source.key}: ${message}`, 'bad_archive');
  }

  private decodeDirectory(compressed: Uint8Array, what: string): Entry[] {
    const raw = decompress(compressed, this.header.internalCompression, `${this.source.key}: ${what}`);
    try {
      return deserializeDirectory(raw);
    } catch (err) {
      if (err instanceof DirectoryError) throw this.fail(`${what}: ${err.message}`);
      throw err;
    }
  }

  private async readExact(offset: number, length: number, what: string): Promise<Uint8Array> {
    if (offset + length > this.fileSize) {
      throw this.fail(
        `${what} (offset ${offset}, length ${length}) reaches beyond the file length ${this.fileSize}`,
      );
    }
    const bytes = await this.source.read(offset, length);
    if (bytes.length !== length) throw this.fail(`${what}: short read (${bytes.length} of ${length} bytes)`);
    return bytes;
  }

  /** A decoded directory at absolute file offset; leaf directories are cached (LRU, bounded), the root always. */
  directory(offset: number, length: number, what = `leaf directory at byte ${offset}`): Promise<Entry[]> {
    const h = this.header;
    if (offset === h.rootDirectoryOffset && length === h.rootDirectoryLength) {
      this.root ??= this.loadDirectory(offset, length, 'root directory');
      return this.root;
    }
    const hit = this.cache.get(offset);
    if (hit) {
      this.cache.delete(offset);
      this.cache.set(offset, hit);
      return hit;
    }
    const p = this.loadDirectory(offset, length, what);
    this.cache.set(offset, p);
    p.catch(() => this.cache.delete(offset));
    if (this.cache.size > this.cacheLimit) this.cache.delete(this.cache.keys().next().value as number);
    return p;
  }

  private loadDirectory(offset: number, length: number, what: string): Promise<Entry[]> {
    return this.readExact(offset, length, what).then((bytes) => this.decodeDirectory(bytes, what));
  }

  rootDirectory(): Promise<Entry[]> {
    return this.directory(this.header.rootDirectoryOffset, this.header.rootDirectoryLength, 'root directory');
  }

  /** The parsed JSON metadata (cached). */
  metadata(): Promise<unknown> {
    this.metadataPromise ??= (async () => {
      const h = this.header;
      if (h.jsonMetadataLength === 0) return {};
      const compressed = await this.readExact(h.jsonMetadataOffset, h.jsonMetadataLength, 'metadata');
      const raw = decompress(compressed, h.internalCompression, `${this.source.key}: metadata`);
      try {
        return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown;
      } catch (err) {
        throw this.fail(`metadata is not valid UTF-8 JSON: ${(err as Error).message}`);
      }
    })();
    return this.metadataPromise;
  }

  /** The tile entry covering tileId, or undefined. Offsets are relative to the tile data section. */
  async findTileEntry(tileId: number): Promise<Entry | undefined> {
    const h = this.header;
    let offset = h.rootDirectoryOffset;
    let length = h.rootDirectoryLength;
    for (let depth = 0; depth <= MAX_LEAF_DEPTH; depth++) {
      const entries = await this.directory(offset, length);
      const e = findEntry(entries, tileId);
      if (!e) return undefined;
      if (e.runLength > 0) return e;
      offset = h.leafDirectoryOffset + e.offset;
      length = e.length;
    }
    throw this.fail(`leaf directories nested deeper than ${MAX_LEAF_DEPTH} levels`);
  }

  /** The stored bytes of a tile id (compressed as header.tileCompression says), or undefined. */
  async getTileById(tileId: number): Promise<Uint8Array | undefined> {
    const e = await this.findTileEntry(tileId);
    if (!e) return undefined;
    return this.readExact(
      this.header.tileDataOffset + e.offset,
      e.length,
      `tile ${tileIdToZxy(tileId).join('/')}`,
    );
  }

  /** The stored bytes of tile z/x/y (still compressed as header.tileCompression says), or undefined when absent. */
  getTile(z: number, x: number, y: number): Promise<Uint8Array | undefined> {
    if (!isValidZxy(z, x, y))
      return Promise.reject(new UserError(`tile ${z}/${x}/${y} does not exist at zoom ${z}`));
    return this.getTileById(zxyToTileId(z, x, y));
  }

  /** Tile z/x/y with the tile compression undone, or undefined when absent. */
  async getTileDecompressed(z: number, x: number, y: number): Promise<Uint8Array | undefined> {
    const bytes = await this.getTile(z, x, y);
    if (!bytes) return undefined;
    return decompress(bytes, this.header.tileCompression, `${this.source.key}: tile ${z}/${x}/${y}`);
  }

  /** Undo the archive's tile compression on bytes returned by getTile. */
  decompressTile(bytes: Uint8Array, what = 'tile'): Uint8Array {
    return decompress(bytes, this.header.tileCompression, `${this.source.key}: ${what}`);
  }

  /** Every tile entry in tile id order, walking the root and leaf directories. */
  async *entries(): AsyncIterable<Entry> {
    const h = this.header;
    const self = this;
    async function* walk(offset: number, length: number, depth: number, what: string): AsyncGenerator<Entry> {
      if (depth > MAX_LEAF_DEPTH)
        throw self.fail(`leaf directories nested deeper than ${MAX_LEAF_DEPTH} levels`);
      const entries = await self.directory(offset, length, what);
      for (const e of entries) {
        if (e.runLength > 0) yield e;
        else
          yield* walk(
            h.leafDirectoryOffset + e.offset,
            e.length,
            depth + 1,
            `leaf directory at byte ${h.leafDirectoryOffset + e.offset}`,
          );
      }
    }
    yield* walk(h.rootDirectoryOffset, h.rootDirectoryLength, 0, 'root directory');
  }
}
