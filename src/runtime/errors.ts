// Turns a failure to load into a diagnostic that points at what the kernel rejected: the
// statement, when the verifier log carries line info (codegen emits it), else the probe.
import { basename } from 'node:path';
import type { Probe, Stmt } from '../model/ast.js';
import type { Span } from '../model/span.js';
import { walk } from '../model/walk.js';
import { error } from '../diagnostics/diagnostic.js';
import { renderDiagnostic, type SourceFile } from '../diagnostics/render.js';
import type { Session } from './session.js';

/** The last lines of a verifier log: where the kernel explains what it refused. */
function logTail(log: string, lines = 12): string {
  return log.trimEnd().split('\n').slice(-lines).map((l) => `  ${l}`).join('\n');
}

/**
 * The script line of the last instruction the verifier annotated (`; ... @ stdin:12`). The line
 * info (BTF) names the file without its directory: `@ opensnoop.bt:12` for /usr/sbin/opensnoop.bt.
 */
function lastLine(log: string, sourceName: string): number | undefined {
  const file = basename(sourceName);
  let line: number | undefined;
  for (const m of log.matchAll(/^;.* @ (.+):(\d+)$/gm)) {
    if (m[1] === file) line = Number(m[2]);
  }
  return line;
}

const STATEMENTS = new Set(['ExprStmt', 'AssignStmt', 'IfStmt', 'WhileStmt', 'ForStmt', 'UnrollStmt', 'JumpStmt', 'BlockStmt']);

/** The innermost statement of a probe that starts on `line`. */
function statementAt(probe: Probe, line: number): Span | undefined {
  let found: Span | undefined;
  walk(probe.body, (node) => {
    const s = node as Stmt;
    if (STATEMENTS.has(s.kind) && s.span.line === line) found = s.span;
  });
  return found;
}

/**
 * `explainAt`, when given, lists the instructions compiled from a statement of a program (the
 * --explain view): shown for the statement the verifier refused, above what the verifier said.
 */
export function describeLoadError(
  e: Error,
  session: Session,
  source: SourceFile,
  explainAt?: (program: string, line: number, column: number) => string,
): string {
  const log = (e as Error & { log?: string }).log ?? '';
  const failed = /prog '([^']+)'/.exec(e.message + log)?.[1];
  const program = failed ? session.programNamed(failed.replace(/_for\d+$/, '')) : undefined;
  if (!program) return `tracelet: could not load the program: ${e.message}\n`;
  const probe = program.probe.probe;
  // The verifier gives up when a signal is pending (and libbpf retries 5 times): nothing was
  // rejected, the process kept being interrupted (a profiler's or a timer's signals).
  if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
    return renderDiagnostic(error(
      'E_LOAD_INTERRUPTED',
      probe.span,
      `the kernel's BPF verifier was interrupted by signals while checking this probe (${program.targets[0]!.name}); nothing was rejected`,
      'signals kept arriving while it ran (a profiler\'s or a timer\'s): run again without them',
    ), source);
  }
  const line = lastLine(log, source.name);
  const statement = line !== undefined && line !== probe.span.line ? statementAt(probe, line) : undefined;
  const d = error(
    'E_VERIFIER',
    statement ?? probe.span,
    `the kernel's BPF verifier rejected the code of this ${statement ? 'statement' : 'probe'} (${program.targets[0]!.name})`,
    'run with --explain to see the code of every statement, or --emit-llvm for the LLVM IR',
  );
  const view = statement && explainAt ? explainAt(program.name, statement.line, statement.column) : '';
  const code = view ? `the code of this statement:\n${view}\n` : '';
  return `${renderDiagnostic(d, source)}${code}the verifier said:\n${logTail(log || e.message)}\n`;
}
