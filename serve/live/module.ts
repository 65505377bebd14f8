// PLACEHOLDER: replaced by the live module.
import type { ServeContext, ServeModule } from '../context.js';

export function createLiveModule(_ctx: ServeContext): ServeModule {
  return { name: 'live' };
}
