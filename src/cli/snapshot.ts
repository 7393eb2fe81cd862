// Entry of tracelet's start-up snapshot. scripts/bundle.mjs runs it under `node --build-snapshot`
// to make dist/bundle/tracelet.blob, and bin/tracelet starts Node from that blob: the CLI's code
// is then already compiled and initialised, and the parser's grammar analysis already done —
// most of what start-up cost (see bench/RESULTS.md).
import { startupSnapshot } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { parse } from '../parser/index.js';
import { compile } from '../compile/compile.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import { runCli } from './main.js';
import { markEntry } from '../runtime/timings.js';

// Run every lexer mode and the main parser rules once while building.
parse('typedef int t; struct s { int a : 3; }; config = { max_map_keys = 1 }\nBEGIN /1/ { @[(t)1, "a"] = count(); }');

// And the type checker and code generator on the common statements, against a kernel that has
// nothing (no tracepoint, type or symbol): their functions are then compiled in the snapshot,
// not on a run's first use (~5 ms of a one-liner's 10 ms of parse, check and codegen).
const nothing: KernelInfo = {
  ensureTracefs: () => ({ mounted: true }), listTracepoints: () => [], hasTracepoint: () => false,
  tracepointFormat: () => undefined, listRawTracepoints: () => [], kernelType: () => undefined,
  kernelSymbols: () => [], elfSymbols: () => [], usdtProbes: () => [], resolveBinary: () => undefined,
  hasFeature: () => false, possibleCpus: () => 2,
};
compile({
  source: 'BEGIN { printf("%d %s %s\\n", pid, comm, str("x")); @c[comm, tid] = count(); @h = hist(2); @l = lhist(3, 0, 10, 1); }'
    + ' profile:hz:99 /pid != 1/ { @k[kstack, ustack] = count(); @s = sum(nsecs); $x = @s; if ($x > 1) { delete(@s); } }'
    + ' interval:s:1 { time(); print(@c); clear(@h); exit(); } END { @a = avg(1); @m = max(2); }',
  object: false,
}, nothing);

startupSnapshot.setDeserializeMainFunction(() => {
  markEntry();
  // The bundle has no file of its own: code that finds files next to it (the native addon) starts
  // from the blob, which lives where the bundle does.
  const i = process.execArgv.indexOf('--snapshot-blob');
  (globalThis as { __traceletBundleUrl?: string }).__traceletBundleUrl = pathToFileURL(process.execArgv[i + 1]!).href;
  runCli(process.argv.slice(1));
});
