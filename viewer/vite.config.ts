// The viewer's build: two pages (`/` the full viewer, `/embed` the partner embed) and the `/embed.js` loader, to
// static assets under build/viewer (or WEFT_VIEWER_OUT). Hashed names under assets/ (served immutable); the loader
// (`embed.js`) and the offline shell's service worker (`sw.js`, served from the root so its scope is the site) keep
// their fixed names. MapLibre (ESM, v6) and its worker are bundled; the light path's chunk holds only Leaflet.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * protomaps-leaflet's own copy of `pmtiles` (for .pmtiles URLs) is replaced by a stub: the light path uses the
 * {z}/{x}/{y} endpoints. The full viewer's `pmtiles` import is untouched.
 */
function lightPmtilesStub(): Plugin {
  return {
    name: 'weft-light-pmtiles-stub',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === 'pmtiles' && importer?.includes('/node_modules/protomaps-leaflet/'))
        return here('src/light/pmtiles-stub.ts');
      return null;
    },
  };
}

export default defineConfig({
  plugins: [lightPmtilesStub()],
  root: here('.'),
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  resolve: {
    alias: {
      // protomaps-leaflet imports @protomaps/basemaps only for its built-in "flavors", which the light path does
      // not use (it brings its own rules): a stub keeps ~20 KB of theme code out of the light path
      '@protomaps/basemaps': here('src/light/basemaps-stub.ts'),
    },
  },
  build: {
    outDir: process.env.WEFT_VIEWER_OUT || here('../build/viewer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048,
    rollupOptions: {
      input: {
        index: here('index.html'),
        embed: here('embed.html'),
        loader: here('src/embed-script.ts'),
        sw: here('src/sw/sw.ts'),
      },
      output: {
        entryFileNames: (chunk) =>
          chunk.name === 'loader' ? 'embed.js' : chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js',
      },
    },
  },
});
