// A pre-order walk over AST nodes, for the later stages' questions about a piece of code
// ("does this probe use `args`?", "which variables does this loop body touch?").

/** A node of the AST: any object with a `kind` (spans and other plain data are skipped). */
export interface AstNode {
  readonly kind: string;
}

/**
 * Calls `visit` on `root` and every node below it, parents first. `visit` returns `false` to
 * skip a node's children, or `'stop'` to end the whole walk.
 */
export function walk(root: unknown, visit: (node: AstNode) => boolean | 'stop' | void): void {
  let stopped = false;
  const go = (value: unknown): void => {
    if (stopped || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const v of value) go(v);
      return;
    }
    if (!('kind' in value)) return;
    const result = visit(value as AstNode);
    if (result === 'stop') {
      stopped = true;
      return;
    }
    if (result === false) return;
    for (const v of Object.values(value)) go(v);
  };
  go(root);
}
