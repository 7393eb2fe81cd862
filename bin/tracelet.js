#!/usr/bin/env node
// Entry point of the tracelet command (the compiled CLI lives in dist/).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    // A bug in tracelet, not in the user's program: say so plainly; details on request.
    const detail = process.env.TRACELET_DEBUG ? `\n${e && e.stack}` : ' (set TRACELET_DEBUG=1 for details)';
    process.stderr.write(`tracelet: internal error: ${e && e.message ? e.message : e}${detail}\n`);
    process.exit(70);
  },
);
