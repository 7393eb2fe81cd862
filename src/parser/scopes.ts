// Block scoping of declared variables (bpftrace 0.22+), resolved once after parsing.
//
// `let $x` and the variable of a range `for` declare a variable of their block: uses of `$x` in
// that block (after the declaration) get a `binding` unique in the probe, and outside it `$x` is
// something else. A variable assigned without `let` keeps bpftrace 0.17's meaning, one variable
// for the whole probe known by its name, so a program without declarations is left as it is. As
// in bpftrace, a declaration may not shadow a variable visible where it is made.

import { type Program, type Variable, variableKey } from '../model/ast.js';
import type { Span } from '../model/span.js';
import { error, withNote, type Diagnostic } from '../diagnostics/diagnostic.js';

/** Names visible in one block: a declaration's binding, or undefined for a 0.17 variable assigned there. */
type Scope = Map<string, { readonly binding: string | undefined; readonly span: Span }>;

export function resolveScopes(program: Program, diagnostics: Diagnostic[]): Program {
  return { ...program, probes: program.probes.map((p) => new ScopeResolver(diagnostics).node(p)) };
}

class ScopeResolver {
  private readonly scopes: Scope[] = [new Map()];
  private declarations = 0;

  constructor(private readonly diagnostics: Diagnostic[]) {}

  /** A copy of `value` with the variables below it bound. */
  node<T>(value: T): T {
    if (Array.isArray(value)) return value.map((v) => this.node(v)) as T;
    if (value === null || typeof value !== 'object' || !('kind' in value)) return value;
    const n = value as { kind: string } & Record<string, unknown>;
    switch (n.kind) {
      case 'Block':
      case 'BlockExpr': // its value sees its statements' declarations
        return this.inScope(() => this.copy(n)) as T;
      case 'LetStmt': {
        // The value is read before the variable exists (`let $x = $x + 1` reads another $x).
        const { variable, ...rest } = n as unknown as { variable: Variable };
        const copied = this.copy(rest as Record<string, unknown>);
        return { ...copied, variable: this.declare(variable) } as T;
      }
      case 'ForRangeStmt': {
        const { variable, body, ...rest } = n as unknown as { variable: Variable; body: unknown };
        const copied = this.copy(rest as Record<string, unknown>);
        return this.inScope(() => ({ ...copied, variable: this.declare(variable), body: this.node(body) })) as T;
      }
      case 'AssignStmt': {
        const copied = this.copy(n);
        const target = copied.target as Variable;
        if (target.kind === 'Variable' && target.binding === undefined && !this.lookup(target.name)) {
          this.scopes[this.scopes.length - 1]!.set(target.name, { binding: undefined, span: target.span });
        }
        return copied as T;
      }
      case 'Variable': {
        const binding = this.lookup(variableKey(n as unknown as Variable))?.binding;
        return (binding === undefined ? n : { ...n, binding }) as T;
      }
      default:
        return this.copy(n) as T;
    }
  }

  private copy(n: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(n)) out[key] = this.node(n[key]);
    return out;
  }

  private inScope<T>(f: () => T): T {
    this.scopes.push(new Map());
    try {
      return f();
    } finally {
      this.scopes.pop();
    }
  }

  private lookup(name: string): { binding: string | undefined; span: Span } | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const found = this.scopes[i]!.get(name);
      if (found) return found;
    }
    return undefined;
  }

  private declare(v: Variable): Variable {
    // A macro's own variable is known by its expansion's binding (macros.ts), not its name.
    const key = variableKey(v);
    const seen = this.lookup(key);
    if (seen) {
      const d = error('E_REDECLARED', v.span, `$${v.name} is already a variable here; a declaration may not shadow it`,
        `give the new variable another name, or assign to $${v.name} without 'let'`);
      this.diagnostics.push(withNote(d, seen.span, `$${v.name} is ${seen.binding ? 'declared' : 'assigned'} here`));
    }
    const binding = `${v.name}#${++this.declarations}`;
    this.scopes[this.scopes.length - 1]!.set(key, { binding, span: v.span });
    return { ...v, binding };
  }
}
