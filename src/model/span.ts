// Where a piece of source text is: every AST node, diagnostic and report points back with one.

/** A half-open range of source text; line and column are 1-based, offsets 0-based. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}
