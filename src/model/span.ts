// Where a piece of source text is: every AST node, diagnostic and report points back with one.

/** A half-open range of source text; line and column are 1-based, offsets 0-based. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  /** The file it is in, when not the program's own text (a script brought in by `import`). */
  readonly file?: SourceText;
}

/** A file of source text: its name as diagnostics show it, and its text. */
export interface SourceText {
  readonly name: string;
  readonly text: string;
}
