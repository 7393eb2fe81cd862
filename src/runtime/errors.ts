// Turns a failure to load into a diagnostic that points at the probe the kernel rejected.
import { error } from '../diagnostics/diagnostic.js';
import { renderDiagnostic, type SourceFile } from '../diagnostics/render.js';
import type { Session } from './session.js';

/** The last lines of a verifier log: where the kernel explains what it refused. */
function logTail(log: string, lines = 12): string {
  return log.trimEnd().split('\n').slice(-lines).map((l) => `  ${l}`).join('\n');
}

export function describeLoadError(e: Error, session: Session, source: SourceFile): string {
  const log = (e as Error & { log?: string }).log ?? '';
  const failed = /prog '([^']+)'/.exec(e.message + log)?.[1];
  const program = failed ? session.programNamed(failed) : undefined;
  if (!program) return `tracelet: could not load the program: ${e.message}\n`;
  const probe = program.probe.probe;
  const d = error(
    'E_VERIFIER',
    probe.span,
    `the kernel's BPF verifier rejected the code of this probe (${program.targets[0]!.name})`,
    'run with --emit-llvm to see the generated code; the verifier said:',
  );
  return renderDiagnostic(d, source) + logTail(log || e.message) + '\n';
}
