// A pre-order walk over AST nodes, for the later stages' questions about a piece of code
// ("does this probe use `args`?", "which variables does this loop body touch?"). Both walks here
// keep their own stack instead of recursing: a program may nest MAX_NESTING levels deep.

import type { Span } from './span.js';

/** A node of the AST: any object with a `kind` (spans and other plain data are skipped). */
export interface AstNode {
  readonly kind: string;
}

/** The values below a node or in an array, in order. */
function children(value: object): unknown[] {
  return Array.isArray(value) ? value : Object.values(value);
}

/**
 * Calls `visit` on `root` and every node below it, parents first. `visit` returns `false` to
 * skip a node's children, or `'stop'` to end the whole walk.
 */
export function walk(root: unknown, visit: (node: AstNode) => boolean | 'stop' | void): void {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (value === null || typeof value !== 'object') continue;
    if (!Array.isArray(value)) {
      if (!('kind' in value)) continue;
      const result = visit(value as AstNode);
      if (result === 'stop') return;
      if (result === false) continue;
    }
    const below = children(value);
    for (let i = below.length - 1; i >= 0; i--) pending.push(below[i]);
  }
}

/**
 * The first node (in source order) nested more than `limit` nodes deep, if any. Blocks are not
 * counted: an `if` and its block are one level.
 */
export function nodeDeeperThan(root: unknown, limit: number): (AstNode & { span: Span }) | undefined {
  const pending: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  while (pending.length > 0) {
    const { value, depth: above } = pending.pop()!;
    if (value === null || typeof value !== 'object') continue;
    let depth = above;
    if (!Array.isArray(value)) {
      if (!('kind' in value)) continue;
      if (value.kind !== 'Block') depth++;
      if (depth > limit) return value as AstNode & { span: Span };
    }
    const below = children(value);
    for (let i = below.length - 1; i >= 0; i--) pending.push({ value: below[i], depth });
  }
  return undefined;
}
