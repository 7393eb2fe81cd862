import type { Span } from '../model/span.js';

export type Severity = 'error' | 'warning';

/** Another place a diagnostic involves, e.g. where a conflicting type was first given. */
export interface Note {
  readonly span: Span;
  readonly message: string;
}

/**
 * A problem found in a program. Diagnostics are data: stages return them, tests assert `code` and
 * `span`, and they are rendered once, at the edge (see render.ts).
 */
export interface Diagnostic {
  /** Stable identifier, e.g. `E_SYNTAX`, `E_UNKNOWN_TRACEPOINT`. Never reworded. */
  readonly code: string;
  readonly severity: Severity;
  readonly span: Span;
  readonly message: string;
  readonly hint?: string;
  /** Rendered after the diagnostic as `note:` lines, each with its source line. */
  readonly notes?: readonly Note[];
}

export function error(code: string, span: Span, message: string, hint?: string): Diagnostic {
  return { code, severity: 'error', span, message, hint };
}

export function warning(code: string, span: Span, message: string, hint?: string): Diagnostic {
  return { code, severity: 'warning', span, message, hint };
}

export function withNote(d: Diagnostic, span: Span, message: string): Diagnostic {
  return { ...d, notes: [...(d.notes ?? []), { span, message }] };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Thrown by stages that cannot continue; carries the diagnostics to render. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join('; '));
    this.name = 'DiagnosticError';
  }
}
