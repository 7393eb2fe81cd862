import type { SourceText, Span } from '../model/span.js';
import type { Diagnostic } from './diagnostic.js';

/**
 * The text a diagnostic points into: its name is shown in front of positions (a path, or `stdin`
 * for -e programs, as bpftrace does).
 */
export type SourceFile = SourceText;

/**
 * Renders a diagnostic the way compilers do:
 *
 *   prog.bt:3:5: error: unknown tracepoint syscalls:sys_enter_opnat
 *   tracepoint:syscalls:sys_enter_opnat { @ = count(); }
 *   ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
 *   hint: did you mean syscalls:sys_enter_openat?
 *
 * followed by its notes, each the same way (`prog.bt:1:9: note: ...`).
 */
export function renderDiagnostic(d: Diagnostic, source: SourceFile): string {
  const out = located(d.span, `${d.severity}: ${d.message}`, source);
  if (d.hint) out.push(`hint: ${d.hint}`);
  for (const note of d.notes ?? []) out.push(...located(note.span, `note: ${note.message}`, source));
  return out.join('\n') + '\n';
}

/** `file:line:col: message`, the source line and an underline of the span (in its own file, if imported). */
function located(span: Span, message: string, program: SourceFile): string[] {
  const { line, column } = span;
  const source = span.file ?? program;
  const out = [`${source.name}:${line}:${column}: ${message}`];
  const text = source.text.split('\n')[line - 1];
  if (text !== undefined) {
    out.push(text.replace(/\t/g, ' '));
    out.push(' '.repeat(column - 1) + underline(span, text.length, column));
  }
  return out;
}

function underline(span: Span, lineLength: number, column: number): string {
  const lastColumn = span.endLine === span.line ? span.endColumn : lineLength + 1;
  const width = Math.max(1, lastColumn - column);
  return '^' + '~'.repeat(width - 1);
}

export function renderDiagnostics(ds: readonly Diagnostic[], source: SourceFile): string {
  return ds.map((d) => renderDiagnostic(d, source)).join('');
}

/** Builds a span from offsets into `text` (for stages that only know offsets). */
export function spanAt(text: string, start: number, end: number): Span {
  const pos = (offset: number) => {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset && i < text.length; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: offset - lineStart + 1 };
  };
  const s = pos(start);
  const e = pos(end);
  return { start, end, line: s.line, column: s.column, endLine: e.line, endColumn: e.column };
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `name`, if it is close enough to be a plausible typo. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
