// One prod archive as the server serves it: its bytes (serve/tiles/bytes.ts), its PMTiles header and directories
// (through our reader), and its tiles as ready-made answers — status, body as stored, ETag and the header list —
// kept in the shared byte-bounded LRU so that a cached tile is answered synchronously with nothing to compute.
import type { Logger } from 'pino';
import type { BlobStore } from '../../core/blob/adapter.js';
import { errorMessage, UserError } from '../../core/errors.js';
import { findEntry, type Entry } from '../../pipeline/pmtiles/directory.js';
import { Compression, TileType, type Header } from '../../pipeline/pmtiles/header.js';
import { PMTilesReader, type RangeSource } from '../../pipeline/pmtiles/reader.js';
import { MAX_ZOOM } from '../../pipeline/pmtiles/tileid.js';
import { HttpError } from '../http.js';
import type { Metrics } from '../metrics.js';
import { PUBLIC_HEADER_LIST } from '../headers.js';
import type { ProdArchive } from '../releases.js';
import { openArchiveBytes, type ArchiveBytes } from './bytes.js';
import type { ByteLru, LruNode } from './lru.js';

/** z/x/y tiles: revalidated after a minute (a promotion changes them behind the same URL). */
export const TILE_CACHE_CONTROL = 'public, max-age=60';
/** Leaf directories nested deeper than this are refused (as our reader does). */
const MAX_LEAF_DEPTH = 4;
/** A failed open is retried after this long; until then requests get the same error at once. */
const RETRY_OPEN_MS = 5000;
/** A retired archive's file stays open this long for the requests that were already reading it. */
const RETIRE_GRACE_MS = 30_000;

/** A tile request's answer, built once and kept in the cache. */
export interface TileAnswer {
  status: 200 | 204 | 404;
  etag: string | undefined;
  body: Buffer | undefined;
  /** the header list for writeHead (name, value, name, value, …) */
  headers: string[];
  /** the header list of a 304 */
  notModified: string[];
}

/** What is read once when an archive is first used. */
export interface OpenArchive {
  bytes: ArchiveBytes;
  reader: PMTilesReader;
  header: Header;
  root: Entry[];
  /** per zoom: the x and y tile ranges the archive's bounds cover (xmin, xmax, ymin, ymax) */
  ranges: Int32Array;
  /** the header list every 200 tile answer starts with */
  tileHeaders: string[];
}

export interface ArchiveEnv {
  blob: BlobStore;
  lru: ByteLru;
  metrics: Metrics;
  logger: Logger;
  /** memory for whole archives (local store): reserve() says whether `bytes` more fit */
  memory: MemoryBudget;
}

/** Bytes set aside for archives held whole in memory. */
export class MemoryBudget {
  held = 0;
  constructor(readonly budget: number) {}
  reserve(bytes: number): boolean {
    if (this.held + bytes > this.budget) return false;
    this.held += bytes;
    return true;
  }
  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}

export function contentTypeOf(t: TileType): string {
  switch (t) {
    case TileType.Mvt:
      return 'application/vnd.mapbox-vector-tile';
    case TileType.Png:
      return 'image/png';
    case TileType.Jpeg:
      return 'image/jpeg';
    case TileType.Webp:
      return 'image/webp';
    case TileType.Avif:
      return 'image/avif';
    case TileType.Mlt:
      return 'application/vnd.maplibre-vector-tile';
    default:
      return 'application/octet-stream';
  }
}

/** The Content-Encoding of tiles stored with `c`, or undefined when they are stored plain. */
export function contentEncodingOf(c: Compression): string | undefined {
  if (c === Compression.Gzip) return 'gzip';
  if (c === Compression.Brotli) return 'br';
  if (c === Compression.Zstd) return 'zstd';
  return undefined;
}

/** Per zoom 0–MAX_ZOOM, the x and y tile ranges covering [w, s, e, n] (empty ranges outside the zooms). */
export function tileRanges(h: Header): Int32Array {
  const out = new Int32Array((MAX_ZOOM + 1) * 4).fill(-1);
  const eps = 1e-9;
  const lat = (v: number) => Math.max(-85.0511287798, Math.min(85.0511287798, v));
  for (let z = h.minZoom; z <= Math.min(h.maxZoom, MAX_ZOOM); z++) {
    const n = 2 ** z;
    const tx = (lon: number) => Math.min(n - 1, Math.max(0, Math.floor(((lon + 180) / 360) * n)));
    const ty = (la: number) => {
      const r = (lat(la) * Math.PI) / 180;
      const y = ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n;
      return Math.min(n - 1, Math.max(0, Math.floor(y)));
    };
    out[z * 4] = tx(h.minLon);
    out[z * 4 + 1] = tx(h.maxLon - eps);
    out[z * 4 + 2] = ty(h.maxLat - eps);
    out[z * 4 + 3] = ty(h.minLat);
  }
  return out;
}

function errorBody(code: string, message: string): Buffer {
  return Buffer.from(JSON.stringify({ error: { code, message } }));
}

export class ServedArchive {
  /** the strong ETag of the archive: its sha256 */
  readonly etag: string;
  readonly tiles = new Map<number, LruNode<number, TileAnswer>>();
  readonly dirs = new Map<number, LruNode<number, Entry[]>>();
  /** set once open() succeeded: the synchronous path needs it */
  opened: OpenArchive | undefined;
  retired = false;
  private opening: Promise<OpenArchive> | undefined;
  private failed: { at: number; error: HttpError } | undefined;
  private readonly loading = new Map<number, Promise<TileAnswer>>();
  private readonly tileEtagPrefix: string;
  private heldInMemory = false;

  constructor(
    readonly archive: ProdArchive,
    readonly release: string,
    private readonly env: ArchiveEnv,
  ) {
    this.etag = `"${archive.sha256}"`;
    this.tileEtagPrefix = `"${archive.sha256.slice(0, 16)}-`;
  }

  /** `region/layer` for messages. */
  get name(): string {
    return `${this.archive.region}/${this.archive.layer}`;
  }

  /**
   * Opens the archive once (bytes, header, root directory); a failure is an HttpError repeated for a while. When
   * the archive was retired while it opened, `opened` stays unset: the caller looks up the current release again.
   */
  open(): Promise<OpenArchive> {
    if (this.opened) return Promise.resolve(this.opened);
    if (this.failed && Date.now() - this.failed.at < RETRY_OPEN_MS) return Promise.reject(this.failed.error);
    this.opening ??= this.load().then(
      (o) => {
        this.opening = undefined;
        if (this.retired) this.releaseBytes(o.bytes);
        else this.opened = o;
        return o;
      },
      (err: unknown) => {
        this.opening = undefined;
        const error = this.openError(err);
        this.failed = { at: Date.now(), error };
        this.env.logger.error(
          { component: 'tiles', archive: this.archive.key, release: this.release },
          error.message,
        );
        throw error;
      },
    );
    return this.opening;
  }

  private openError(err: unknown): HttpError {
    if (err instanceof HttpError) return err;
    if (err instanceof UserError && err.code === 'blob_store')
      return new HttpError(503, 'blob_store', `the archive ${this.name} is unavailable: ${err.message}`, {
        'Retry-After': '5',
      });
    return new HttpError(
      500,
      'archive_unreadable',
      `the prod archive of ${this.name} (release ${this.release}) cannot be read: ${errorMessage(err)}`,
    );
  }

  private async load(): Promise<OpenArchive> {
    const size = this.archive.size;
    const reserved = this.env.memory.reserve(size);
    let bytes: ArchiveBytes;
    try {
      bytes = await openArchiveBytes(this.env.blob, this.archive, { inMemory: reserved });
    } catch (err) {
      if (reserved) this.env.memory.release(size);
      throw err;
    }
    if (reserved && bytes.kind !== 'memory') this.env.memory.release(size);
    this.heldInMemory = bytes.kind === 'memory';
    try {
      const source: RangeSource = {
        key: this.archive.key,
        size: async () => this.archive.size,
        read: (offset, length) => bytes.read(offset, length),
      };
      // Leaf directories are cached in the shared LRU (by bytes), not in the reader (by count).
      const reader = await PMTilesReader.open(source, { cacheDirectories: 0 });
      const header = reader.header;
      const root = await reader.rootDirectory();
      await reader.metadata();
      const enc = contentEncodingOf(header.tileCompression);
      const tileHeaders = ['Content-Type', contentTypeOf(header.tileType)];
      if (enc) tileHeaders.push('Content-Encoding', enc);
      return { bytes, reader, header, root, ranges: tileRanges(header), tileHeaders };
    } catch (err) {
      this.releaseBytes(bytes);
      throw err;
    }
  }

  /** Gives back the memory reservation now and closes the file after `graceMs` (requests may still read it). */
  private releaseBytes(bytes: ArchiveBytes, graceMs = 0): void {
    if (graceMs > 0) setTimeout(() => bytes.close(), graceMs).unref();
    else bytes.close();
    if (this.heldInMemory) this.env.memory.release(this.archive.size);
    this.heldInMemory = false;
  }

  /** Whether zoom z is in the archive's zoom range (needs opened). */
  hasZoom(z: number): boolean {
    const h = this.opened!.header;
    return z >= h.minZoom && z <= h.maxZoom;
  }

  /** The cached answer for a tile id, or undefined (counts the hit; a miss is counted by loadTile). */
  cached(tileId: number): TileAnswer | undefined {
    const node = this.env.lru.get(this.tiles, tileId);
    if (node === undefined) return undefined;
    this.env.metrics.tileCacheHits.inc();
    return node.value;
  }

  /** Reads a tile's answer (one read per tile at a time) and caches it. */
  loadTile(z: number, x: number, y: number, tileId: number): Promise<TileAnswer> {
    let p = this.loading.get(tileId);
    if (p) return p;
    this.env.metrics.tileCacheMisses.inc();
    p = this.readTile(z, x, y, tileId).finally(() => this.loading.delete(tileId));
    this.loading.set(tileId, p);
    return p;
  }

  private async readTile(z: number, x: number, y: number, tileId: number): Promise<TileAnswer> {
    const o = await this.open();
    const entry = await this.findTile(o, tileId);
    let answer: TileAnswer;
    if (entry) {
      const body = await o.bytes.read(o.header.tileDataOffset + entry.offset, entry.length);
      answer = this.answer200(o, tileId, body);
    } else answer = this.answerEmpty(o, z, x, y, tileId);
    if (!this.retired) this.env.lru.set(this.tiles, tileId, answer, (answer.body?.length ?? 0) + 256);
    return answer;
  }

  private answer200(o: OpenArchive, tileId: number, body: Buffer): TileAnswer {
    const etag = this.tileEtagPrefix + tileId + '"';
    return {
      status: 200,
      etag,
      body,
      headers: [
        ...o.tileHeaders,
        'Content-Length',
        String(body.length),
        'ETag',
        etag,
        'Cache-Control',
        TILE_CACHE_CONTROL,
        ...PUBLIC_HEADER_LIST,
      ],
      notModified: ['ETag', etag, 'Cache-Control', TILE_CACHE_CONTROL, ...PUBLIC_HEADER_LIST],
    };
  }

  /** No tile stored: 204 inside the archive's bounds (an empty tile), 404 outside. */
  private answerEmpty(o: OpenArchive, z: number, x: number, y: number, tileId: number): TileAnswer {
    const r = o.ranges;
    const inside = x >= r[z * 4]! && x <= r[z * 4 + 1]! && y >= r[z * 4 + 2]! && y <= r[z * 4 + 3]!;
    if (inside) {
      const etag = this.tileEtagPrefix + tileId + '"';
      const headers = ['ETag', etag, 'Cache-Control', TILE_CACHE_CONTROL, ...PUBLIC_HEADER_LIST];
      return { status: 204, etag, body: undefined, headers, notModified: headers };
    }
    return this.notFound(`tile ${z}/${x}/${y} is outside the bounds of ${this.name}`);
  }

  /** A 404 answer with the error shape (not cached by callers unless they choose to). */
  notFound(message: string): TileAnswer {
    const body = errorBody('not_found', message);
    const headers = [
      'Content-Type',
      'application/json; charset=utf-8',
      'Content-Length',
      String(body.length),
      'Cache-Control',
      TILE_CACHE_CONTROL,
      ...PUBLIC_HEADER_LIST,
    ];
    return { status: 404, etag: undefined, body, headers, notModified: headers };
  }

  /** The entry of a tile id, following leaf directories (cached in the LRU by bytes). */
  private async findTile(o: OpenArchive, tileId: number): Promise<Entry | undefined> {
    const h = o.header;
    let entries = o.root;
    for (let depth = 0; depth <= MAX_LEAF_DEPTH; depth++) {
      const e = findEntry(entries, tileId);
      if (!e) return undefined;
      if (e.runLength > 0) return e;
      entries = await this.directory(o, h.leafDirectoryOffset + e.offset, e.length);
    }
    throw new UserError(
      `${this.archive.key}: leaf directories nested deeper than ${MAX_LEAF_DEPTH} levels`,
      'bad_archive',
    );
  }

  private async directory(o: OpenArchive, offset: number, length: number): Promise<Entry[]> {
    const node = this.env.lru.get(this.dirs, offset);
    if (node) {
      this.env.metrics.tileCacheHits.inc();
      return node.value;
    }
    this.env.metrics.tileCacheMisses.inc();
    const entries = await o.reader.directory(offset, length);
    if (!this.retired) this.env.lru.set(this.dirs, offset, entries, 64 + entries.length * 56);
    return entries;
  }

  /**
   * Stops serving: drops its cache entries now and closes its file after a grace period, so that requests that
   * were already answering from it finish with its bytes (never a mix with the next release's).
   */
  retire(graceMs = RETIRE_GRACE_MS): void {
    if (this.retired) return;
    this.retired = true;
    this.env.lru.drop(this.tiles);
    this.env.lru.drop(this.dirs);
    if (this.opened) this.releaseBytes(this.opened.bytes, graceMs);
  }
}
