// Checks .bt files without loading anything into the kernel (an editor's or CI's linter):
// prints each diagnostic as the CLI would and exits 1 if any file has errors.
// Usage: npx tsx examples/api/lint.ts FILE.bt...
import { readFileSync } from 'node:fs';
import { compile } from 'tracelet';

let failed = false;
for (const file of process.argv.slice(2)) {
  const { diagnostics } = compile(readFileSync(file, 'utf8'), { file, object: false });
  for (const d of diagnostics) process.stderr.write(d.rendered);
  if (diagnostics.some((d) => d.severity === 'error')) failed = true;
}
process.exitCode = failed ? 1 : 0;
