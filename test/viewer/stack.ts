// Test helper for the viewer's end-to-end tests: the built viewer (build/viewer when it is up to date, else a
// fresh vite build into a temp folder), and a real `weft serve` (fresh PostgreSQL, local blob store, memory bus)
// serving Monaco: the real base archive built from ../shared/data/osm, an activity archive built from nodes the
// helper creates in the event store, both published and promoted through the release pipeline; plus a participant's
// session token.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { executeCommand } from '../../core/domain/execute.js';
import { buildActivity } from '../../pipeline/build-activity.js';
import { buildBase } from '../../pipeline/build-base.js';
import { mintToken } from '../../serve/api/operator.js';
import type { ServeConfig } from '../../serve/config.js';
import { DEFAULT_MODULES } from '../../serve/modules.js';
import { createViewerModule, viewerModule } from '../../serve/viewer/module.js';
import { releaseFixture } from '../serve/fixtures.js';
import { startTestServer, type TestServer } from '../serve/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The newest modification time of any file under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

let built: string | undefined;

/**
 * The built viewer: build/viewer when its stamp is newer than every source (scripts/build-viewer.sh keeps it so),
 * else a build into a temp folder (once per test process). Never writes into the repository.
 */
export function viewerDir(): string {
  if (built) return built;
  const repoBuild = path.join(ROOT, 'build', 'viewer');
  const stamp = path.join(repoBuild, '.stamp');
  const sources = Math.max(
    newest(path.join(ROOT, 'viewer')),
    statSync(path.join(ROOT, 'serve', 'viewer', 'page.ts')).mtimeMs,
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) return (built = repoBuild);
  const out = mkdtempSync(path.join(tmpdir(), 'weft-viewer-build-'));
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  execFileSync('npx', ['vite', 'build', '--config', 'viewer/vite.config.ts'], {
    cwd: ROOT,
    env: { ...process.env, WEFT_VIEWER_OUT: out },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return (built = out);
}

/** A file's text contains PLACEHOLDER: a module another engineer has not delivered yet. */
export function isPlaceholder(rel: string): boolean {
  const p = path.join(ROOT, rel);
  return !existsSync(p) || /PLACEHOLDER/.test(readFileSync(p, 'utf8'));
}

export const MONACO = { id: 'monaco', center: [7.4246, 43.7384] as [number, number], zoom: 14 };

export interface SeededNode {
  nodeId: string;
  title: string;
  point: [number, number];
}

export interface ViewerStack {
  server: TestServer;
  url: string;
  token: string;
  roleId: string;
  nodes: SeededNode[];
  dir: string;
  /** the release's event position (what the activity tiles show) */
  position: number;
  stop(): Promise<void>;
}

/** Nodes near Monaco's centre, created in the event store before the activity build. */
const SEED: { title: string; point: [number, number]; kind: string }[] = [
  { title: 'Harbour garden', point: [7.4236, 43.7365], kind: 'place' },
  { title: 'Market hall', point: [7.4212, 43.7318], kind: 'place' },
  { title: 'Bus shelter repairs', point: [7.4265, 43.7402], kind: 'concern' },
  { title: 'Library reading circle', point: [7.4179, 43.7337], kind: 'meeting' },
];

export async function startViewerStack(
  opts: { config?: Partial<ServeConfig>; env?: Record<string, string | undefined> } = {},
): Promise<ViewerStack> {
  // a plain temp folder (not the test helper's): bench/viewer.ts uses this outside vitest
  const dir = mkdtempSync(path.join(tmpdir(), 'weft-viewer-e2e-'));
  const viewer = viewerDir();
  const modules = DEFAULT_MODULES.map((m) => (m === createViewerModule ? viewerModule({ dir: viewer }) : m));
  const server = await startTestServer({ modules, config: opts.config, env: opts.env });
  try {
    const { archive: base } = await buildBase('monaco', { outDir: dir, quiet: true });
    const minted = await mintToken(
      server.db,
      { regionId: 'monaco', name: 'Ada', area: [7.42, 43.735] },
      'test',
    );
    const nodes: SeededNode[] = [];
    for (const s of SEED) {
      const r = await executeCommand(server.db, {
        command: {
          type: 'CreateNode',
          regionId: 'monaco',
          title: s.title,
          kind: s.kind,
          point: s.point,
          authorRoleId: minted.roleId,
        },
        actor: 'test',
      });
      nodes.push({ nodeId: r.ids.nodeId!, title: s.title, point: s.point });
    }
    await executeCommand(server.db, {
      command: { type: 'EngageThread', roleId: minted.roleId, nodeId: nodes[0]!.nodeId },
      actor: 'test',
    });
    const at = new Date();
    const activity = await buildActivity('monaco', {
      db: server.db,
      outDir: dir,
      quiet: true,
      workers: 1,
      at,
    });
    await releaseFixture({
      blob: server.blob,
      db: server.db,
      bus: server.bus,
      at,
      archives: { base, activity: activity.archive },
    });
    const releases = server.ctx.services.get('releases') as
      { refresh(region?: string): Promise<void> } | undefined;
    await releases?.refresh('monaco');
    return {
      server,
      url: server.url,
      token: minted.token,
      roleId: minted.roleId,
      nodes,
      dir,
      position: activity.position,
      stop: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
