// Bundles the CLI into one ESM file (dist/bundle/tracelet.mjs) so that start-up does not pay for
// resolving and loading ~400 modules one by one (chevrotain pulls in lodash-es file by file).
// commander is CommonJS and calls require() for node: builtins, which an ESM bundle lacks: the
// banner gives the bundle a real `require`. The native addon stays outside (loaded on first use).
// dist/bundle/ is two levels below the package root, like dist/runtime/, so native.ts finds
// build/Release/tracelet_native.node the same way from both.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/bundle/tracelet.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __tracelet_createRequire } from 'node:module';\n"
      + 'const require = __tracelet_createRequire(import.meta.url);',
  },
});
