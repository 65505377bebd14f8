// PLACEHOLDER: replaced by the tiles module.
import type { ServeContext, ServeModule } from '../context.js';

export function createTilesModule(_ctx: ServeContext): ServeModule {
  return { name: 'tiles' };
}
