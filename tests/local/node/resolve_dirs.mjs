// @civitai/client's ESM build imports directories (written for bundlers); Node needs
// `<dir>/index.js`. Registered with `node --import ./resolve_dirs.mjs`.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (error.code === 'ERR_UNSUPPORTED_DIR_IMPORT' || error.code === 'ERR_MODULE_NOT_FOUND') {
      for (const suffix of ['/index.js', '.js']) {
        try { return await next(specifier + suffix, context); } catch {}
      }
    }
    throw error;
  }
}`),
  import.meta.url,
);
