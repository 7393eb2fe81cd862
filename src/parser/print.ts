// A readable dump of the AST for -d/-dd, one node a line, children indented one space (as
// bpftrace -d prints its AST): the node's kind, its own values (names, operators, literals) and,
// once type-checked, its type after `::`.
import type { Program } from '../model/ast.js';

/** The AST as text; `typeOf` (after type checking) names the type of an expression node. */
export function printAst(program: Program, typeOf?: (node: object) => string | undefined): string {
  const lines: string[] = [];
  const print = (node: object, depth: number, label?: string) => {
    const values: string[] = [];
    const children: [string, object][] = [];
    for (const [key, value] of Object.entries(node)) {
      // An empty name is meaningful (the map `@`); other empty values are noise.
      if (key === 'kind' || key.endsWith('span') || key.endsWith('Span') || (key !== 'name' && isEmpty(value))) continue;
      if (isNode(value)) children.push([key, value]);
      else if (Array.isArray(value) && value.some(isNode)) for (const v of value) children.push([key, v]);
      else values.push(`${key}=${show(value)}`);
    }
    const kind = (node as { kind?: string }).kind ?? '';
    const type = typeOf?.(node);
    const head = [label ? `${label}:` : '', kind, ...values].filter(Boolean).join(' ');
    lines.push(`${' '.repeat(depth)}${head}${type ? ` :: ${type}` : ''}`);
    // A child is labelled with its field when the node has several kinds of children.
    const labelled = new Set(children.map(([k]) => k)).size > 1;
    for (const [key, child] of children) print(child, depth + 1, labelled ? key : undefined);
  };
  print(program, 0);
  return `${lines.join('\n')}\n`;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

function isNode(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'kind' in v;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.entries(v).filter(([k]) => !k.endsWith('span')).map(([k, x]) => `${k}: ${show(x)}`).join(', ')}}`;
  }
  return String(v);
}
