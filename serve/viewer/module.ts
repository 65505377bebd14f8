// PLACEHOLDER: replaced by the viewer module.
import type { ServeContext, ServeModule } from '../context.js';

export function createViewerModule(_ctx: ServeContext): ServeModule {
  return { name: 'viewer' };
}
