// PLACEHOLDER: replaced by the packs module.
import type { ServeContext, ServeModule } from '../context.js';

export function createPacksModule(_ctx: ServeContext): ServeModule {
  return { name: 'packs' };
}
