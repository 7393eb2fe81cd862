// The AST: immutable plain data, made by the parser and read by every later stage. Every node
// carries the span of source text it came from, so every later stage (type errors, verifier
// rejections, runtime helper errors) can point back at it. Later stages keep what they learn in
// side tables keyed by node, never by mutating nodes.

import type { Span } from './span.js';

export interface Program {
  readonly kind: 'Program';
  readonly span: Span;
  readonly includes: readonly Include[];
  readonly cDefinitions: readonly CDefinition[];
  readonly config: readonly ConfigAssignment[];
  readonly probes: readonly Probe[];
  /** `macro name(args) { ... }` (bpftrace 0.24+); expanded into the probes by the parser. */
  readonly macros?: readonly MacroDefinition[];
  /** `import "file.bt";` (bpftrace 0.24+); the parser merges the files in and drops these. */
  readonly imports?: readonly Import[];
  /** `let @m = lruhash(100);` (bpftrace 0.22+): a map's kernel type and size. */
  readonly mapDeclarations?: readonly MapDeclaration[];
}

/** `import "helpers.bt";`: a path relative to the importing script's directory. */
export interface Import {
  readonly kind: 'Import';
  readonly span: Span;
  readonly path: string;
  readonly pathSpan: Span;
}

/** `let @name = type(maxEntries);` at the top level. */
export interface MapDeclaration {
  readonly kind: 'MapDeclaration';
  readonly span: Span;
  /** Including the `@`. */
  readonly map: string;
  readonly mapSpan: Span;
  /** As written: hash, lruhash, percpuhash or percpulruhash (checked by the type checker). */
  readonly type: string;
  readonly typeSpan: Span;
  /** Undefined when the argument is not one integer literal (the checker says so). */
  readonly maxEntries?: bigint;
  readonly argsSpan: Span;
}

/**
 * `macro name($var, @map, expr) { ... }`: a parameter `$v` takes a variable, `@m` a map, `e`
 * any expression (substituted where `e` appears in the body).
 */
export interface MacroDefinition {
  readonly kind: 'MacroDefinition';
  readonly span: Span;
  readonly name: string;
  readonly params: readonly { readonly kind: 'variable' | 'map' | 'expression'; readonly name: string; readonly span: Span }[];
  readonly body: Block;
}

/** `#include <linux/sched.h>`: accepted; kernel types come from BTF. */
export interface Include {
  readonly kind: 'Include';
  readonly span: Span;
  /** As written, or (`#include "file"` found beside the including script) that file's path. */
  readonly path: string;
  /** Written `"file"`: the script's own header, which must be found (a `<file>` may be the kernel's, whose types BTF has). */
  readonly quoted?: true;
}

/** `config = { key = value; ... }` */
export interface ConfigAssignment {
  readonly kind: 'ConfigAssignment';
  readonly span: Span;
  readonly key: string;
  readonly value: string | bigint;
}

/**
 * A C definition at the top of a script: `struct s { ... };`, `union u { ... };`, `enum e { ... };`
 * or `typedef T name, *pname;` (the C subset bpftrace scripts use).
 */
export interface CDefinition {
  readonly kind: 'CDefinition';
  readonly span: Span;
  /** The type specifier; a struct/union/enum body defines its tag (nested bodies too, as in C). */
  readonly specifier: CType;
  /** The names a `typedef` declares, each with its whole type. Empty without `typedef`. */
  readonly typedefs: readonly CDeclarator[];
}

/** A C type as written in a definition. */
export type CType = CNamedType | CRecordType | CEnumType | CPointerType | CArrayType | CFunctionType;

/** `int`, `unsigned long`, `u64`, a typedef name. */
export interface CNamedType {
  readonly kind: 'CNamedType';
  readonly span: Span;
  readonly name: string;
}

/** `struct s` (a reference), `struct s { ... }` or `union { ... }` (a definition). */
export interface CRecordType {
  readonly kind: 'CRecordType';
  readonly span: Span;
  readonly tag: 'struct' | 'union';
  readonly name?: string;
  /** Present when the body is written here. */
  readonly fields?: readonly CField[];
  /** From `__attribute__((packed))` / `((aligned(N)))` on the struct or union. */
  readonly layout?: CLayoutAttributes;
}

/** The GCC attributes that change a layout; others are accepted and ignored. */
export interface CLayoutAttributes {
  readonly packed?: boolean;
  readonly aligned?: number;
}

/** `enum e` (a reference) or `enum e { A, B = 2 }` (a definition). */
export interface CEnumType {
  readonly kind: 'CEnumType';
  readonly span: Span;
  readonly name?: string;
  readonly enumerators?: readonly { readonly name: string; readonly value?: bigint }[];
}

export interface CPointerType {
  readonly kind: 'CPointerType';
  readonly span: Span;
  readonly target: CType;
}

export interface CArrayType {
  readonly kind: 'CArrayType';
  readonly span: Span;
  readonly element: CType;
  readonly length: number;
}

/** A function type: only meaningful behind a pointer (`void (*fn)(int)`). Parameters are not kept. */
export interface CFunctionType {
  readonly kind: 'CFunctionType';
  readonly span: Span;
  readonly result: CType;
}

/** A declared name with its whole type: the specifier wrapped in the declarator's `*`, `[N]`, `(...)`. */
export interface CDeclarator {
  readonly span: Span;
  readonly name: string;
  readonly type: CType;
}

/** A struct/union member. */
export interface CField {
  readonly span: Span;
  /** Absent for an anonymous struct/union member (its fields belong to the parent) and an unnamed bit-field. */
  readonly name?: string;
  readonly type: CType;
  readonly bitWidth?: number;
  readonly layout?: CLayoutAttributes;
}

/** A type as written in source: `uint32`, `struct task_struct *`, `char[16]`. */
export interface TypeName {
  readonly kind: 'TypeName';
  readonly span: Span;
  /** The base name, with `struct `/`union `/`enum ` prefix where written. */
  readonly name: string;
  readonly pointerDepth: number;
  readonly arrayLength?: number;
  /** `uint8[]` in a cast: the length follows from the value's size (0.2x). */
  readonly unsizedArray?: boolean;
}

export interface Probe {
  readonly kind: 'Probe';
  readonly span: Span;
  readonly attachPoints: readonly AttachPoint[];
  readonly predicate?: Expr;
  readonly body: Block;
}

/**
 * One attach point as written, e.g. `tracepoint:syscalls:sys_enter_openat` or `i:ms:100`.
 * `provider` is the canonical long name (t -> tracepoint); `parts` are the colon-separated fields
 * after it, with positional parameters already substituted; `raw` is the text as written.
 */
export interface AttachPoint {
  readonly kind: 'AttachPoint';
  readonly span: Span;
  readonly raw: string;
  readonly provider: ProbeProvider;
  readonly parts: readonly string[];
}

export type ProbeProvider =
  | 'BEGIN' | 'END' | 'self' | 'test' | 'bench'
  | 'tracepoint' | 'rawtracepoint'
  | 'kprobe' | 'kretprobe'
  | 'uprobe' | 'uretprobe' | 'usdt'
  | 'profile' | 'interval' | 'software' | 'hardware'
  | 'kfunc' | 'kretfunc'
  | 'watchpoint' | 'asyncwatchpoint'
  | 'iter';

export interface Block {
  readonly kind: 'Block';
  readonly span: Span;
  readonly statements: readonly Stmt[];
}

export type Stmt =
  | ExprStmt
  | AssignStmt
  | IfStmt
  | WhileStmt
  | ForStmt
  | ForRangeStmt
  | UnrollStmt
  | JumpStmt
  | BlockStmt
  | LetStmt;

export interface ExprStmt {
  readonly kind: 'ExprStmt';
  readonly span: Span;
  readonly expr: Expr;
}

/** `target = value`, `target op= value`; `x++`/`x--` statements are IncDec expressions. */
export interface AssignStmt {
  readonly kind: 'AssignStmt';
  readonly span: Span;
  readonly target: MapRef | Variable;
  /** `=` or the binary operator of a compound assignment (`+` for `+=`). */
  readonly op: '=' | BinaryOp;
  /** The `=` / `+=` token (bpftrace reports failed map updates there). */
  readonly opSpan: Span;
  readonly value: Expr;
}

export interface IfStmt {
  readonly kind: 'IfStmt';
  readonly span: Span;
  /** `if comptime (c)` (0.26): c is a constant, and only the branch it picks is checked and compiled. */
  readonly comptime?: true;
  readonly condition: Expr;
  readonly then: Block;
  /** `else { }` or `else if ...` (an IfStmt). */
  readonly otherwise?: Block | IfStmt;
}

export interface WhileStmt {
  readonly kind: 'WhileStmt';
  readonly span: Span;
  readonly condition: Expr;
  readonly body: Block;
}

/** `for ($kv : @map) { }` */
export interface ForStmt {
  readonly kind: 'ForStmt';
  readonly span: Span;
  readonly variable: Variable;
  readonly map: MapRef;
  readonly body: Block;
}

/** `for ($i : start..end) { }` (bpftrace 0.24+): $i from start up to end, exclusive. */
export interface ForRangeStmt {
  readonly kind: 'ForRangeStmt';
  readonly span: Span;
  readonly variable: Variable;
  readonly start: Expr;
  readonly end: Expr;
  readonly body: Block;
}

/** `let $x;`, `let $x = e;`, `let $x: uint16 = e;` (bpftrace 0.22+): a variable of its block. */
export interface LetStmt {
  readonly kind: 'LetStmt';
  readonly span: Span;
  readonly variable: Variable;
  readonly type?: TypeName;
  readonly value?: Expr;
}

export interface UnrollStmt {
  readonly kind: 'UnrollStmt';
  readonly span: Span;
  readonly count: Expr;
  readonly body: Block;
}

export interface JumpStmt {
  readonly kind: 'JumpStmt';
  readonly span: Span;
  readonly jump: 'break' | 'continue' | 'return';
  /** `return N;` (0.25+): the program's return value, which a test: probe fails on when not 0. */
  readonly value?: Expr;
}

export interface BlockStmt {
  readonly kind: 'BlockStmt';
  readonly span: Span;
  readonly block: Block;
}

export type Expr =
  | IntLiteral
  | StringLiteral
  | BoolLiteral
  | PositionalParam
  | Builtin
  | Identifier
  | Variable
  | MapRef
  | Call
  | Unary
  | IncDec
  | Binary
  | Ternary
  | FieldAccess
  | Index
  | TupleExpr
  | TupleIndex
  | Cast
  | SizeOf
  | OffsetOf
  | BlockExpr;

/**
 * `{ stmt; ...; value }` used as a value (bpftrace 0.26 block expression): the statements run in
 * a block of their own (a `let` in them is theirs), then `value` is the block's value. Macros
 * used as values expand into one when their body has statements before its value.
 */
export interface BlockExpr {
  readonly kind: 'BlockExpr';
  readonly span: Span;
  readonly statements: readonly Stmt[];
  readonly value: Expr;
}

export interface IntLiteral {
  readonly kind: 'IntLiteral';
  readonly span: Span;
  readonly value: bigint;
  /** Literal suffix (`u`, `l`, `ul`, `ll`, `ull`...), lower-cased, or '' */
  readonly suffix: string;
}

export interface StringLiteral {
  readonly kind: 'StringLiteral';
  readonly span: Span;
  /** With escapes already decoded. */
  readonly value: string;
}

export interface BoolLiteral {
  readonly kind: 'BoolLiteral';
  readonly span: Span;
  readonly value: boolean;
}

/** `$1`, `$2`, ... (`index` >= 1), or `$#` (`index` 0 with `count` true). */
export interface PositionalParam {
  readonly kind: 'PositionalParam';
  readonly span: Span;
  readonly index: number;
  readonly count: boolean;
}

/** pid, comm, nsecs, arg0, args, retval, curtask, ... */
export interface Builtin {
  readonly kind: 'Builtin';
  readonly span: Span;
  readonly name: string;
}

/** A bare name that is not a builtin: an enum constant or a type name (in casts/sizeof). */
export interface Identifier {
  readonly kind: 'Identifier';
  readonly span: Span;
  readonly name: string;
}

/** `$name` */
export interface Variable {
  readonly kind: 'Variable';
  readonly span: Span;
  readonly name: string;
  /**
   * The declaration (`let`, a range `for`) this variable refers to, unique in its probe; set by
   * the parser's scope pass (src/parser/scopes.ts). Absent: the probe-wide variable of bpftrace
   * 0.17, known by its name. See variableKey().
   */
  readonly binding?: string;
}

/** What identifies a variable in its probe: its declaration, or its name (see Variable.binding). */
export function variableKey(v: Variable): string {
  return v.binding ?? v.name;
}

/** `@name`, `@name[k]`, `@name[k1, k2]`, `@`. `name` is without the `@` ('' for `@`); see mapName(). */
export interface MapRef {
  readonly kind: 'MapRef';
  readonly span: Span;
  readonly name: string;
  /** Absent for a map without a key; several for a tuple key. */
  readonly keys?: readonly Expr[];
}

/** A map's name as specs and output use it, with the `@`: `@`, `@c`. */
export function mapName(ref: MapRef): string {
  return `@${ref.name}`;
}

export interface Call {
  readonly kind: 'Call';
  readonly span: Span;
  readonly name: string;
  readonly nameSpan: Span;
  readonly args: readonly Expr[];
  /**
   * A call in a macro's body, as expanded: the macro calls it was expanded from, innermost first
   * (bpftrace's "expanded from"; errorf() and warnf() print them).
   */
  readonly expandedFrom?: readonly Span[];
}

export type UnaryOp = '-' | '!' | '~' | '*' | '&' | '+';

export interface Unary {
  readonly kind: 'Unary';
  readonly span: Span;
  readonly op: UnaryOp;
  readonly operand: Expr;
}

export interface IncDec {
  readonly kind: 'IncDec';
  readonly span: Span;
  readonly op: '++' | '--';
  readonly prefix: boolean;
  readonly target: MapRef | Variable;
}

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%'
  | '<<' | '>>' | '&' | '|' | '^'
  | '==' | '!=' | '<' | '<=' | '>' | '>='
  | '&&' | '||';

export interface Binary {
  readonly kind: 'Binary';
  readonly span: Span;
  readonly op: BinaryOp;
  readonly opSpan: Span;
  readonly left: Expr;
  readonly right: Expr;
}

export interface Ternary {
  readonly kind: 'Ternary';
  readonly span: Span;
  /** `if comptime (c) { a } else { b }` as a value (0.26): only the branch c picks is checked and compiled. */
  readonly comptime?: true;
  readonly condition: Expr;
  /** `a ?: b` (bpftrace 0.26): the condition node itself, whose value is used once evaluated. */
  readonly then: Expr;
  readonly otherwise: Expr;
}

/** `e->field` (arrow true) or `e.field` */
export interface FieldAccess {
  readonly kind: 'FieldAccess';
  readonly span: Span;
  readonly object: Expr;
  readonly field: string;
  readonly fieldSpan: Span;
  readonly arrow: boolean;
}

/** `e[i]` on a pointer or array (map keys are MapRef.keys). */
export interface Index {
  readonly kind: 'Index';
  readonly span: Span;
  readonly object: Expr;
  readonly index: Expr;
}

/** `(a, b)`, `(a,)`; with `names`, a record `(x = a, y = b)` (bpftrace 0.25+). */
export interface TupleExpr {
  readonly kind: 'TupleExpr';
  readonly span: Span;
  readonly elements: readonly Expr[];
  readonly names?: readonly string[];
}

/** `t.0` */
export interface TupleIndex {
  readonly kind: 'TupleIndex';
  readonly span: Span;
  readonly tuple: Expr;
  readonly index: number;
}

export interface Cast {
  readonly kind: 'Cast';
  readonly span: Span;
  readonly type: TypeName;
  readonly operand: Expr;
}

/** `sizeof(type)` or `sizeof(expr)` */
export interface SizeOf {
  readonly kind: 'SizeOf';
  readonly span: Span;
  readonly operand: TypeName | Expr;
}

/** `offsetof(struct foo, field)` */
export interface OffsetOf {
  readonly kind: 'OffsetOf';
  readonly span: Span;
  readonly type: TypeName;
  readonly field: string;
}
