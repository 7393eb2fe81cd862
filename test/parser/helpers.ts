// Shared helpers for the parser tests: compact S-expression printing and span strings.
import { expect } from 'vitest';
import { parse } from '../../src/parser/index.js';
import type { CType, Expr, Program, Stmt, TypeName } from '../../src/model/ast.js';
import type { Span } from '../../src/model/span.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';

/** `line:col-endLine:endCol` */
export function at(s: Span): string {
  return `${s.line}:${s.column}-${s.endLine}:${s.endColumn}`;
}

export function ty(t: TypeName): string {
  return t.name + '*'.repeat(t.pointerDepth) + (t.arrayLength !== undefined ? `[${t.arrayLength}]` : '');
}

/** A C type read left to right, Go-style: `[4]*int` is an array of 4 pointers to int. */
export function cty(t: CType): string {
  switch (t.kind) {
    case 'CNamedType':
      return t.name;
    case 'CRecordType': {
      const body = t.fields?.map((f) => `${f.name ?? '_'} ${cty(f.type)}${f.bitWidth !== undefined ? `:${f.bitWidth}` : ''}`);
      return `${t.tag}${t.name ? ` ${t.name}` : ''}${body ? `{${body.join('; ')}}` : ''}`;
    }
    case 'CEnumType': {
      const body = t.enumerators?.map((e) => (e.value === undefined ? e.name : `${e.name}=${e.value}`));
      return `enum${t.name ? ` ${t.name}` : ''}${body ? `{${body.join(',')}}` : ''}`;
    }
    case 'CPointerType':
      return `*${cty(t.target)}`;
    case 'CArrayType':
      return `[${t.length}]${cty(t.element)}`;
    case 'CFunctionType':
      return `func() ${cty(t.result)}`;
  }
}

/** An expression as a compact S-expression, to check structure and precedence. */
export function sx(e: Expr): string {
  switch (e.kind) {
    case 'IntLiteral':
      return e.value.toString() + e.suffix;
    case 'StringLiteral':
      return JSON.stringify(e.value);
    case 'BoolLiteral':
      return String(e.value);
    case 'PositionalParam':
      return e.count ? '$#' : `$${e.index}`;
    case 'Builtin':
      return e.name;
    case 'Identifier':
      return `id:${e.name}`;
    case 'Variable':
      return `$${e.name}${e.binding ? `<${e.binding}>` : ''}`;
    case 'MapRef':
      return `@${e.name}` + (e.keys ? `[${e.keys.map(sx).join(', ')}]` : '');
    case 'Call':
      return `${e.name}(${e.args.map(sx).join(', ')})`;
    case 'Unary':
      return `(${e.op} ${sx(e.operand)})`;
    case 'IncDec':
      return e.prefix ? `(${e.op}pre ${sx(e.target)})` : `(${e.op}post ${sx(e.target)})`;
    case 'Binary':
      return `(${e.op} ${sx(e.left)} ${sx(e.right)})`;
    case 'Ternary':
      return `(? ${sx(e.condition)} ${sx(e.then)} ${sx(e.otherwise)})`;
    case 'FieldAccess':
      return `(${e.arrow ? '->' : '.'} ${sx(e.object)} ${e.field})`;
    case 'Index':
      return `(index ${sx(e.object)} ${sx(e.index)})`;
    case 'TupleExpr':
      return `(tuple ${e.elements.map(sx).join(' ')})`;
    case 'TupleIndex':
      return `(.${e.index} ${sx(e.tuple)})`;
    case 'Cast':
      return `(cast ${ty(e.type)} ${sx(e.operand)})`;
    case 'SizeOf':
      return `(sizeof ${e.operand.kind === 'TypeName' ? 'type:' + ty(e.operand) : sx(e.operand)})`;
    case 'OffsetOf':
      return `(offsetof ${ty(e.type)} ${e.field})`;
    case 'BlockExpr':
      return `{${[...e.statements.map(st), sx(e.value)].join('; ')} =>}`;
  }
}

/** A statement as a compact string. */
export function st(s: Stmt): string {
  switch (s.kind) {
    case 'ExprStmt':
      return sx(s.expr);
    case 'AssignStmt':
      return `${sx(s.target)} ${s.op === '=' ? '=' : s.op + '='} ${sx(s.value)}`;
    case 'IfStmt':
      return `if ${sx(s.condition)} {${s.then.statements.map(st).join('; ')}}` +
        (s.otherwise ? ` else ${s.otherwise.kind === 'IfStmt' ? st(s.otherwise) : `{${s.otherwise.statements.map(st).join('; ')}}`}` : '');
    case 'WhileStmt':
      return `while ${sx(s.condition)} {${s.body.statements.map(st).join('; ')}}`;
    case 'ForStmt':
      return `for ${sx(s.variable)} : ${sx(s.map)} {${s.body.statements.map(st).join('; ')}}`;
    case 'ForRangeStmt':
      return `for ${sx(s.variable)} : ${sx(s.start)}..${sx(s.end)} {${s.body.statements.map(st).join('; ')}}`;
    case 'LetStmt':
      return `let ${sx(s.variable)}${s.type ? `: ${ty(s.type)}` : ''}${s.value ? ` = ${sx(s.value)}` : ''}`;
    case 'UnrollStmt':
      return `unroll ${sx(s.count)} {${s.body.statements.map(st).join('; ')}}`;
    case 'JumpStmt':
      return s.jump;
    case 'BlockStmt':
      return `{${s.block.statements.map(st).join('; ')}}`;
  }
}

/** Parses, asserting there are no diagnostics. */
export function ok(src: string, params?: readonly string[]): Program {
  const r = parse(src, { params });
  expect(r.diagnostics.map((d) => `${d.code} ${at(d.span)} ${d.message}`)).toEqual([]);
  return r.program;
}

/** The statements of the single probe of `BEGIN { <body> }`, as strings. */
export function body(src: string): string[] {
  const p = ok(`BEGIN { ${src} }`);
  return p.probes[0]!.body.statements.map(st);
}

/** The expression `e` (parsed as `$x = e;`) as an S-expression. */
export function expr(e: string): string {
  const s = ok(`BEGIN { $x = ${e}; }`).probes[0]!.body.statements[0]!;
  if (s.kind !== 'AssignStmt') throw new Error(`not an assignment: ${s.kind}`);
  return sx(s.value);
}

/** Diagnostics as `[code, span]` pairs. */
export function diags(src: string, params?: readonly string[]): [string, string][] {
  return parse(src, { params }).diagnostics.map((d) => [d.code, at(d.span)]);
}

export function diagnosticsOf(src: string, params?: readonly string[]): Diagnostic[] {
  return parse(src, { params }).diagnostics;
}
