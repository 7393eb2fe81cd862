#!/usr/bin/env node
// The tracelet command without the start-up snapshot (bin/tracelet uses this when the snapshot is
// missing or stale). It runs the one-file bundle of the CLI (dist/bundle/tracelet.mjs, built by
// `npm run build` / scripts/setup.sh): loading ~400 modules one by one costs more start-up time
// than anything else tracelet does. If the bundle is missing, or older than tsc's output (someone
// ran only tsc after a change), it runs dist/cli/main.js so that what runs is never stale code.
import { statSync } from 'node:fs';

// When tracelet's own code began, for --timings (src/runtime/timings.ts).
globalThis.__traceletEntryNs = process.hrtime.bigint();
globalThis.__traceletEntryCpu = process.cpuUsage();

const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundle = mtime('../dist/bundle/tracelet.mjs');
const { runCli } = await import(bundle >= 0 && bundle >= mtime('../dist/cli/main.js')
  ? '../dist/bundle/tracelet.mjs'
  : '../dist/cli/main.js');

runCli(process.argv.slice(2));
