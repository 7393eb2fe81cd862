#!/usr/bin/env node
// Entry point of the tracelet command. It runs the one-file bundle of the CLI
// (dist/bundle/tracelet.mjs, built by `npm run build` / scripts/setup.sh): loading ~400 modules
// one by one costs more start-up time than anything else tracelet does. If the bundle is missing,
// or older than tsc's output (someone ran only tsc after a change), it runs dist/cli/main.js so
// that what runs is never stale code.
import { statSync } from 'node:fs';

const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundle = mtime('../dist/bundle/tracelet.mjs');
const { main } = await import(bundle >= 0 && bundle >= mtime('../dist/cli/main.js')
  ? '../dist/bundle/tracelet.mjs'
  : '../dist/cli/main.js');

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    // A bug in tracelet, not in the user's program: say so plainly; details on request.
    const detail = process.env.TRACELET_DEBUG ? `\n${e && e.stack}` : ' (set TRACELET_DEBUG=1 for details)';
    process.stderr.write(`tracelet: internal error: ${e && e.message ? e.message : e}${detail}\n`);
    process.exit(70);
  },
);
