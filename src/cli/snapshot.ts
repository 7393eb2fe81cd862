// Entry of tracelet's start-up snapshot. scripts/bundle.mjs runs it under `node --build-snapshot`
// to make dist/bundle/tracelet.blob, and bin/tracelet starts Node from that blob: the CLI's code
// is then already compiled and initialised, and the parser's grammar analysis already done —
// most of what start-up cost (see bench/RESULTS.md).
import { startupSnapshot } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { parse } from '../parser/index.js';
import { compileMethods, warmCompileAndPrint, warmNodeInternals } from './warm-up.js';
import { Session } from '../runtime/session.js';
import { Run } from '../run/run.js';
import { main, runCli } from './main.js';
import { buildCommandLineAhead, commandLine, parseCommandLine } from './command-line.js';
import { markEntry } from '../runtime/timings.js';

// Run every lexer mode and the main parser rules once while building.
parse('typedef int t; struct s { int a : 3; }; config = { max_map_keys = 1 }\nBEGIN /1/ { @[(t)1, "a"] = count(); }');

// Then the common path of a run, and Node's functions it calls on files (warm-up.ts; this bundle's
// own file, which Node was given to build the snapshot from).
warmCompileAndPrint();
warmNodeInternals(process.argv[1]!);
// The run's own classes, which only work against the kernel: compiled, not run.
compileMethods([Session, Run]);

// And the command line: parsing one compiles commander's code (~50 functions); the run's own is
// built ahead, kept in the snapshot.
parseCommandLine(commandLine().version('v').configureOutput({ writeOut: () => {}, writeErr: () => {} }), ['-v', '--timings', '-f', 'json', '-B', 'line', '-k', '-I', '.', '-e', 'BEGIN {}', 'file', 'arg']);
buildCommandLineAhead();
// And the command's main function itself, a long one (compiled, it returns at once).
void main([], true);

startupSnapshot.setDeserializeMainFunction(() => {
  markEntry();
  // The bundle has no file of its own: code that finds files next to it (the native addon) starts
  // from the blob, which lives where the bundle does.
  const i = process.execArgv.indexOf('--snapshot-blob');
  (globalThis as { __traceletBundleUrl?: string }).__traceletBundleUrl = pathToFileURL(process.execArgv[i + 1]!).href;
  runCli(process.argv.slice(1));
});
