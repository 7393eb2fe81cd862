// Named parameters (bpftrace 0.24+): `getopt("name", default[, "description"])` is the value of
// `--name=value` given after `--` on the command line, else the default. Like positional
// parameters they are constants of the compiled program, so each call becomes a literal here:
// an integer, a string, or for a boolean (no default, or true/false) a BoolLiteral.

import type { Call, Expr, Program } from '../model/ast.js';
import type { Span } from '../model/span.js';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';

/** `--name=value` → value; `--name` alone → true. */
export type NamedParams = ReadonlyMap<string, string | true>;

/** Splits `--name[=value]` words (named parameters) from positional ones. */
export function splitNamedParams(args: readonly string[]): { positional: string[]; named: Map<string, string | true> } {
  const positional: string[] = [];
  const named = new Map<string, string | true>();
  for (const a of args) {
    const m = /^--([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/s.exec(a);
    if (m) named.set(m[1]!, m[2] ?? true);
    else positional.push(a);
  }
  return { positional, named };
}

export function resolveGetopt(program: Program, named: NamedParams, start: Span, diagnostics: Diagnostic[]): Program {
  const defaults = new Map<string, Expr | undefined>();
  const replace = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(replace);
    if (value === null || typeof value !== 'object' || !('kind' in value)) return value;
    const n = value as Record<string, unknown> & { kind: string };
    if (n.kind === 'Call' && (n as unknown as Call).name === 'getopt') return literal(n as unknown as Call);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(n)) out[key] = replace(n[key]);
    return out;
  };

  const literal = (c: Call): Expr => {
    const [nameArg, fallback, description] = c.args;
    const bad = (span: Span, message: string, hint?: string): Expr => {
      diagnostics.push(error('E_GETOPT', span, message, hint));
      return { kind: 'IntLiteral', span: c.span, value: 0n, suffix: '' };
    };
    if (nameArg?.kind !== 'StringLiteral' || c.args.length > 3) {
      return bad(nameArg?.span ?? c.span, 'getopt() takes the name of the parameter as a string, then its default and a description',
        'e.g. getopt("count", 10, "how many")');
    }
    const def = fallback?.kind === 'Unary' && fallback.op === '-' && fallback.operand.kind === 'IntLiteral'
      ? { kind: 'IntLiteral' as const, span: fallback.span, value: -fallback.operand.value, suffix: '' }
      : fallback;
    if (def && def.kind !== 'IntLiteral' && def.kind !== 'StringLiteral' && def.kind !== 'BoolLiteral') {
      return bad(def.span, 'the default of getopt() is an integer, a string, true or false');
    }
    if (description && description.kind !== 'StringLiteral') return bad(description.span, "getopt()'s description is a string");
    const name = nameArg.value;
    const earlier = defaults.get(name);
    if (defaults.has(name) && show(earlier) !== show(def)) {
      return bad(c.span, `--${name} has another default where getopt("${name}") is used before (${show(earlier) || 'false'})`);
    }
    defaults.set(name, def);
    const given = named.get(name);
    const span = c.span;
    if (!def || def.kind === 'BoolLiteral') {
      if (given === undefined) return { kind: 'BoolLiteral', span, value: def?.kind === 'BoolLiteral' && def.value };
      if (given === true || given === 'true' || given === '1') return { kind: 'BoolLiteral', span, value: true };
      if (given === 'false' || given === '0') return { kind: 'BoolLiteral', span, value: false };
      return bad(span, `--${name} is true or false, given "${given}"`);
    }
    if (def.kind === 'StringLiteral') {
      if (given === true) return bad(span, `--${name} needs a value: --${name}=TEXT`);
      return { kind: 'StringLiteral', span, value: given ?? def.value };
    }
    if (given === undefined) return { ...def, span };
    const value = given === true ? undefined : parseInteger(given);
    if (value === undefined) return bad(span, `--${name} is an integer, given ${given === true ? 'no value' : `"${given}"`}`, `e.g. --${name}=10`);
    return { kind: 'IntLiteral', span, value, suffix: value > 0x7fffffffffffffffn ? 'u' : '' };
  };

  const resolved = replace(program) as Program;
  for (const name of named.keys()) {
    if (!defaults.has(name)) {
      const known = [...defaults.keys()].map((n) => `--${n}`).join(', ');
      diagnostics.push(error('E_GETOPT', start, `unknown named parameter --${name}: the program reads no getopt("${name}")`,
        known ? `it reads ${known}` : 'named parameters are read with getopt("name", default)'));
    }
  }
  return resolved;
}

function show(e: Expr | undefined): string {
  if (!e) return '';
  if (e.kind === 'IntLiteral') return e.value.toString();
  if (e.kind === 'StringLiteral') return JSON.stringify(e.value);
  if (e.kind === 'BoolLiteral') return String(e.value);
  return '?';
}

/** A decimal, 0x hex or negative integer, within 64 bits. */
function parseInteger(text: string): bigint | undefined {
  const m = /^(-?)(0[xX][0-9a-fA-F]+|[0-9]+)$/.exec(text.trim());
  if (!m) return undefined;
  const v = m[1] ? -BigInt(m[2]!) : BigInt(m[2]!);
  return v >= -(1n << 63n) && v < 1n << 64n ? v : undefined;
}
