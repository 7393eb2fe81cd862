// Hygienic macros (bpftrace 0.24+), expanded into the probes after parsing:
//
//   macro add_one(x) { x + 1 }                 a name parameter: the argument expression
//   macro bump($a, @b) { $a += 1; @b += 1; }   a variable or a map of the caller
//
// A call as a statement runs the body as a block; a call in an expression (`one()`, or `one` for a
// macro without parameters) takes the value of a body that ends with an expression: the
// expression itself, or a block expression when statements come before it; a body that ends with
// an `if` with an `else`, each branch ending with an expression, has that if's value (as 0.26's
// stdlib writes `if comptime is_str(s) { sizeof(s) } else { strlen(s) }`). The body sees
// only its parameters: its own variables are its own (a binding per expansion, see
// Variable.binding), and a map it was not given is an error.

import type { Block, Call, Expr, IfStmt, MacroDefinition, Program, Stmt } from '../model/ast.js';
import type { Span } from '../model/span.js';
import { error, withNote, type Diagnostic } from '../diagnostics/diagnostic.js';

/** How deeply macros may expand inside one another (a macro calling itself never ends). */
const MAX_DEPTH = 100;

export function expandMacros(program: Program, diagnostics: Diagnostic[]): Program {
  // By name, then by number of parameters: `ppid()` and `ppid(task)` are two macros (0.26).
  const macros = new Map<string, MacroDefinition[]>();
  for (const m of program.macros ?? []) {
    const named = macros.get(m.name) ?? [];
    const earlier = named.find((e) => e.params.length === m.params.length);
    if (earlier) diagnostics.push(withNote(error('E_MACRO', m.span, `macro ${m.name} is defined twice`), earlier.span, 'first defined here'));
    else macros.set(m.name, [...named, m]);
  }
  const expander = new Expander(macros, diagnostics);
  const { macros: _defined, ...rest } = program;
  return { ...rest, probes: program.probes.map((p) => expander.node(p, undefined)) };
}

/** What a macro body's names stand for in one expansion. */
interface Expansion {
  readonly macro: MacroDefinition;
  readonly expressions: ReadonlyMap<string, Expr>;
  readonly variables: ReadonlyMap<string, Expr>;
  readonly maps: ReadonlyMap<string, Expr>;
  readonly id: number;
  readonly depth: number;
  /** The call being expanded, then the calls of the expansions it is inside (innermost first). */
  readonly calls: readonly Span[];
}

class Expander {
  private expansions = 0;

  constructor(private readonly macros: ReadonlyMap<string, readonly MacroDefinition[]>, private readonly diagnostics: Diagnostic[]) {}

  node<T>(value: T, inside: Expansion | undefined): T {
    if (Array.isArray(value)) return value.map((v) => this.node(v, inside)) as T;
    if (value === null || typeof value !== 'object' || !('kind' in value)) return value;
    const n = value as unknown as { kind: string } & Record<string, unknown>;
    switch (n.kind) {
      case 'ExprStmt': {
        const e = (n as unknown as { expr: Expr }).expr;
        const m = this.macroCalled(e);
        if (m) return this.asStatement(e as Call, m, inside) as T;
        break;
      }
      case 'Call':
      case 'Identifier': {
        const m = this.macroCalled(n as unknown as Expr);
        if (m) return this.asExpression(n as unknown as Call, m, inside) as T;
        if (n.kind === 'Identifier' && inside?.expressions.has(n.name as string)) return inside.expressions.get(n.name as string) as T;
        break;
      }
      case 'Variable': {
        if (!inside) return value;
        const name = n.name as string;
        // The caller's variable passed as `$p`, or one of the body's own.
        return (inside.variables.get(name) ?? { ...n, binding: `${name}#m${inside.id}` }) as T;
      }
      case 'MapRef':
        if (inside) {
          const given = inside.maps.get(n.name as string);
          if (!given) {
            this.diagnostics.push(error('E_MACRO', n.span as Span, `macro ${inside.macro.name} uses @${n.name as string}, which is not one of its parameters`,
              `pass the map in: macro ${inside.macro.name}(..., @${n.name as string})`));
          } else {
            const copied = this.copy(n, inside);
            return { ...copied, name: (given as { name: string }).name } as T;
          }
        }
        break;
    }
    const copied = this.copy(n, inside);
    // A call in a macro's body remembers where it was expanded (errorf() prints it).
    if (n.kind === 'Call' && inside) copied.expandedFrom = inside.calls;
    return copied as T;
  }

  private copy(n: Record<string, unknown>, inside: Expansion | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(n)) out[key] = this.node(n[key], inside);
    return out;
  }

  /**
   * The macro an expression calls: `name(...)` (the one of its number of arguments, else the first
   * of that name, which then reports the mismatch), or `name` for one without parameters.
   */
  private macroCalled(e: Expr): MacroDefinition | undefined {
    if (e.kind === 'Call') {
      const named = this.macros.get(e.name);
      return named?.find((m) => m.params.length === e.args.length) ?? named?.[0];
    }
    if (e.kind === 'Identifier') return this.macros.get(e.name)?.find((m) => m.params.length === 0);
    return undefined;
  }

  /**
   * The body of `m` for one call, or undefined (reported) when the arguments do not fit. `asValue`:
   * the body's last expression is the value, so a macro called there is expanded as a value too.
   */
  private expand(call: Call, m: MacroDefinition, inside: Expansion | undefined, asValue = false): Block | undefined {
    const args = call.kind === 'Call' ? call.args.map((a) => this.node(a, inside)) : [];
    const depth = (inside?.depth ?? 0) + 1;
    const report = (span: Span, message: string, hint?: string) => {
      this.diagnostics.push(withNote(error('E_MACRO', span, message, hint), m.span, `macro ${m.name} is defined here`));
      return undefined;
    };
    if (depth > MAX_DEPTH) return report(call.span, `macros expand more than ${MAX_DEPTH} levels deep here`, 'does the macro call itself?');
    if (args.length !== m.params.length) {
      return report(call.span, `macro ${m.name} takes ${m.params.length} argument${m.params.length === 1 ? '' : 's'}, got ${args.length}`);
    }
    const expressions = new Map<string, Expr>();
    const variables = new Map<string, Expr>();
    const maps = new Map<string, Expr>();
    for (let i = 0; i < args.length; i++) {
      const p = m.params[i]!;
      const a = args[i]!;
      if (p.kind === 'variable') {
        if (a.kind !== 'Variable') return report(a.span, `macro ${m.name} expects a variable for $${p.name}`, `e.g. ${m.name}($x)`);
        variables.set(p.name, a);
      } else if (p.kind === 'map') {
        if (a.kind !== 'MapRef' || a.keys) return report(a.span, `macro ${m.name} expects a map for @${p.name}`, `e.g. ${m.name}(@counts)`);
        maps.set(p.name, a);
      } else expressions.set(p.name, a);
    }
    const calls = [call.span, ...(inside?.calls ?? [])];
    const expansion: Expansion = { macro: m, expressions, variables, maps, id: ++this.expansions, depth, calls };
    let last = m.body.statements.at(-1);
    // A trailing if/else as the value: the conditional expression of its branches' values.
    const value = asValue && last?.kind === 'IfStmt' ? ifValue(last) : undefined;
    if (value) last = { kind: 'ExprStmt', span: last!.span, expr: value };
    if (!asValue || last?.kind !== 'ExprStmt') return this.node(m.body, expansion);
    const before = this.node(m.body.statements.slice(0, -1), expansion);
    return { ...m.body, statements: [...before, { ...last, expr: this.node(last.expr, expansion) }] };
  }

  private asStatement(call: Call, m: MacroDefinition, inside: Expansion | undefined): Stmt | undefined {
    const body = this.expand(call, m, inside);
    return body && { kind: 'BlockStmt', span: call.span, block: { ...body, span: call.span } };
  }

  private asExpression(call: Call, m: MacroDefinition, inside: Expansion | undefined): Expr {
    const body = this.expand(call, m, inside, true);
    const last = body?.statements.at(-1);
    if (!body || last?.kind !== 'ExprStmt') {
      if (body) {
        this.diagnostics.push(withNote(error('E_MACRO', call.span, `macro ${m.name} is used as a value, but its body does not end with an expression`,
          'a macro used as a value ends with its value, e.g. macro add_one(x) { let $x = x; $x + 1 }'), m.span, `macro ${m.name} is defined here`));
      }
      return { kind: 'IntLiteral', span: call.span, value: 0n, suffix: '' };
    }
    // One expression is the value itself; statements before it make a block expression.
    if (body.statements.length === 1) return last.expr;
    return { kind: 'BlockExpr', span: call.span, statements: body.statements.slice(0, -1), value: last.expr };
  }
}

/** `if c { ...; a } else { ...; b }` as the value of its branches (a Ternary), or undefined when a branch has none. */
function ifValue(s: IfStmt): Expr | undefined {
  const otherwise = s.otherwise?.kind === 'IfStmt' ? ifValue(s.otherwise) : s.otherwise && blockValue(s.otherwise);
  const then = blockValue(s.then);
  if (!then || !otherwise) return undefined;
  return { kind: 'Ternary', span: s.span, ...(s.comptime ? { comptime: true } : {}), condition: s.condition, then, otherwise };
}

/** A block's value: its last expression (after its statements, as a block expression), or a trailing if/else's. */
function blockValue(b: Block): Expr | undefined {
  const last = b.statements.at(-1);
  const value = last?.kind === 'ExprStmt' ? last.expr : last?.kind === 'IfStmt' ? ifValue(last) : undefined;
  if (!value) return undefined;
  return b.statements.length === 1 ? value : { kind: 'BlockExpr', span: b.span, statements: b.statements.slice(0, -1), value };
}
