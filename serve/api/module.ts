// PLACEHOLDER: replaced by the api module.
import type { ServeContext, ServeModule } from '../context.js';

export function createApiModule(_ctx: ServeContext): ServeModule {
  return { name: 'api' };
}
