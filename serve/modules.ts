// The server's parts after `ops`, in the order they see requests: tiles and archives first (the hot path), then
// packs, the write API, live deltas, and the viewer's static assets (pages, scripts, styles' fonts).
import type { ModuleFactory } from './context.js';
import { createTilesModule } from './tiles/module.js';
import { createPacksModule } from './packs/module.js';
import { createApiModule } from './api/module.js';
import { createLiveModule } from './live/module.js';
import { createViewerModule } from './viewer/module.js';

export const DEFAULT_MODULES: ModuleFactory[] = [
  createTilesModule,
  createPacksModule,
  createApiModule,
  createLiveModule,
  createViewerModule,
];
