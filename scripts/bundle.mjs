// Bundles the CLI for start-up speed, in two forms:
//  - dist/bundle/tracelet.mjs: one ESM file (bin/tracelet.js runs it), so that start-up does not
//    pay for resolving and loading ~400 modules one by one (chevrotain pulls in lodash-es file by
//    file). commander is CommonJS and calls require() for node: builtins, which an ESM bundle
//    lacks: the banner gives the bundle a real `require`.
//  - dist/bundle/tracelet.blob: a V8 start-up snapshot (bin/tracelet starts Node from it) made by
//    running a CommonJS bundle of src/cli/snapshot.ts under `node --build-snapshot`. That bundle
//    has no file at run time: `import.meta.url` becomes the blob's URL, set when Node starts.
//    (Stack traces of internal errors are clearer from bin/tracelet.js, which has a source map.)
// The native addon stays outside both (loaded on first use). dist/bundle/ is two levels below the
// package root, like dist/runtime/, so native.ts finds build/Release/tracelet_native.node the
// same way from all three.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const common = { absWorkingDir: root, bundle: true, platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/bundle/tracelet.mjs',
  format: 'esm',
  sourcemap: true,
  banner: {
    js: "import { createRequire as __tracelet_createRequire } from 'node:module';\n"
      + 'const require = __tracelet_createRequire(import.meta.url);',
  },
});

await build({
  ...common,
  entryPoints: ['src/cli/snapshot.ts'],
  outfile: 'dist/bundle/snapshot.cjs',
  format: 'cjs',
  // The snapshot keeps every function's source text: minified, it loads ~25 ms faster.
  minify: true,
  define: { 'import.meta.url': 'globalThis.__traceletBundleUrl' },
});
// The start-up snapshot from that bundle (also made on its own when the package is installed).
await import('./snapshot.mjs');
