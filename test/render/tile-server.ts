// Render test helper: a local HTTP server for one browser page — tiles from a PMTiles archive through our reader,
// a TileJSON, a style, the page and MapLibre's dist files; glyphs, sprites and anything else get 404. Logs requests.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Compression } from '../../pipeline/pmtiles/header.js';
import type { PMTilesReader } from '../../pipeline/pmtiles/reader.js';

const MAPLIBRE_DIST = fileURLToPath(new URL('../../node_modules/maplibre-gl/dist/', import.meta.url));

export interface ServedRequest {
  path: string;
  status: number;
  /** true for /tiles/{z}/{x}/{y}.pbf */
  tile: boolean;
}

export interface TileServer {
  /** e.g. http://127.0.0.1:40123 (no trailing slash) */
  origin: string;
  requests: ServedRequest[];
  /** documents served by path (e.g. '/style.json' → JSON value, '/index.html' → string) */
  documents: Map<string, { type: string; body: string | (() => string) }>;
  close(): Promise<void>;
}

const TILE_PATH = /^\/tiles\/(\d+)\/(\d+)\/(\d+)\.pbf$/;
const DIST_FILES: Record<string, string> = {
  '/maplibre-gl.js': 'application/javascript',
  '/maplibre-gl.css': 'text/css',
};

/** Starts the server on 127.0.0.1 at a random port. Tile 404s are never used: a tile absent from the archive is 204. */
export async function startTileServer(reader: PMTilesReader): Promise<TileServer> {
  const requests: ServedRequest[] = [];
  const documents: TileServer['documents'] = new Map();
  const compression = reader.header.tileCompression;
  const encoding =
    compression === Compression.Gzip ? 'gzip' : compression === Compression.None ? undefined : null;
  if (encoding === null)
    throw new Error(`render test: tile compression ${compression} cannot be served to a browser`);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const send = (
      status: number,
      type?: string,
      body?: string | Uint8Array,
      headers: Record<string, string> = {},
    ) => {
      requests.push({ path, status, tile: TILE_PATH.test(path) });
      res.writeHead(status, {
        'Access-Control-Allow-Origin': '*',
        'Cache-Control': 'no-store',
        ...(type ? { 'Content-Type': type } : {}),
        ...headers,
      });
      res.end(body);
    };
    const tile = TILE_PATH.exec(path);
    if (tile) {
      const [z, x, y] = tile.slice(1).map(Number) as [number, number, number];
      const bytes = await reader.getTile(z, x, y);
      if (!bytes) return send(204);
      return send(200, 'application/x-protobuf', bytes, encoding ? { 'Content-Encoding': encoding } : {});
    }
    const doc = documents.get(path);
    if (doc) return send(200, doc.type, typeof doc.body === 'function' ? doc.body() : doc.body);
    const dist = DIST_FILES[path];
    if (dist) return send(200, dist, await readFile(MAPLIBRE_DIST + path.slice(1)));
    send(404, 'text/plain', 'not found');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const path = req.url ?? '?';
      requests.push({ path, status: 500, tile: TILE_PATH.test(path) });
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String((err as Error).message));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    documents,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
