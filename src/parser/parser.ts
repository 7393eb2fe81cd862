// The parser: tokens → AST, with a chevrotain EmbeddedActionsParser built once at module load.
//
// Error handling: chevrotain's recovery is on. Single missing/extra tokens are repaired in place;
// otherwise a failing statement, predicate, probe, field or config entry is skipped up to a token
// that can follow it, so one run reports several errors. Expression rules do not re-sync on their
// own (errors climb to the enclosing statement). Semantic actions only run outside chevrotain's
// grammar-recording phase (this.ACTION), and a rule that failed yields `undefined`; parents drop
// what they cannot build. The grammar is documented in grammar/tracelet.ebnf.

import {
  EmbeddedActionsParser,
  EMPTY_ALT,
  EOF,
  tokenMatcher,
  type IParserErrorMessageProvider,
  type IRuleConfig,
  type IRecognitionException,
  type IToken,
  type OrMethodOpts,
  type ParserMethod,
  type TokenType,
} from 'chevrotain';
import type {
  AttachPoint, BinaryOp, Block, CDeclarator, CDefinition, CField, CLayoutAttributes, ConfigAssignment, CType, Expr, ForRangeStmt, ForStmt, IfStmt, Import, MacroDefinition, MapDeclaration, Include, MapRef, Probe, Program, Stmt, TypeName, UnaryOp, UnrollStmt, Variable, WhileStmt,
} from '../model/ast.js';
import { BUILTIN_VARIABLE_NAMES } from '../model/builtins.js';
import type { Span } from '../model/span.js';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { LineMap } from './preprocess.js';
import { parseAttachPoint } from './attach-point.js';
import * as T from './lexer.js';
import type { IntPayload } from './lexer.js';

// ---------------------------------------------------------------------------------------------
// Names

/** Builtin variables, from their table; any argN/sargN parses as one (the checker says if N is too large). */
export const BUILTIN_NAMES: ReadonlySet<string> = new Set(BUILTIN_VARIABLE_NAMES);
const ARG_BUILTIN = /^s?arg[0-9]+$/;
export function isBuiltinName(name: string): boolean {
  return BUILTIN_NAMES.has(name) || ARG_BUILTIN.test(name);
}

/** C words that combine into one type name: `unsigned long long`. */
const C_TYPE_WORDS = new Set(['char', 'short', 'int', 'long', 'unsigned', 'signed', 'float', 'double', '_Bool']);
const QUALIFIERS = new Set(['const', 'volatile', 'restrict']);
/** Names that are always types, so `(name)` before an operand is a cast and `sizeof(name)` a type. */
const TYPE_NAMES = new Set([
  ...C_TYPE_WORDS, 'void', 'bool', 'string',
  'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
  'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64',
  '__u8', '__u16', '__u32', '__u64', '__s8', '__s16', '__s32', '__s64',
  'size_t', 'ssize_t', 'pid_t', 'uid_t', 'gid_t',
]);

// ---------------------------------------------------------------------------------------------
// Error messages. The "found ..." part is added when errors become diagnostics.

function label(t: TokenType): string {
  return t.LABEL ?? t.name;
}

function orList(items: string[]): string {
  const u = [...new Set(items)];
  if (u.length <= 1) return u[0] ?? 'something else';
  return `${u.slice(0, -1).join(', ')} or ${u[u.length - 1]}`;
}

const BINARY_OPERATOR_TOKENS = [
  T.OrOr, T.AndAnd, T.Pipe, T.Caret, T.Amp, T.EqualityOp, T.RelationalOp, T.ShiftOp, T.AdditiveOp, T.MultiplicativeOp, T.Question,
];

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    const prev = previous?.tokenType;
    if (expected === EOF) return 'expected a probe, a struct definition or a config block';
    if (expected === T.LBrace && prev === T.AttachPointTok) return "expected ',', '/' or '{' after the attach point";
    if (expected === T.LBrace && prev === T.PredEnd) return "expected '{' after the predicate";
    if (expected === T.RBrace && ruleName === 'block') return "expected a statement or '}'";
    if (expected === T.LBrace && ruleName === 'block' && BINARY_OPERATOR_TOKENS.some((t) => tokenMatcher(actual, t))) {
      // `if $x == 1 {`: bpftrace 0.24+ allows only a unary condition without parentheses.
      return "expected '{' (without parentheses a condition is one operand: put it in parentheses)";
    }
    if (expected === T.RBrace && ruleName === 'configBlock') return "expected a config entry (key = value) or '}'";
    if (expected === T.PredEnd) return "expected '/' to end the predicate";
    if (expected === T.RParen && ruleName === 'nameOrCall') return "expected ',' or ')' in the argument list";
    if (expected === T.RBracket && ruleName === 'mapRef') return "expected ',' or ']' after the map key";
    if (expected === T.RParen && ruleName === 'parenOrTuple') return "expected ',' or ')'";
    return `expected ${label(expected)}`;
  },
  buildNotAllInputParsedMessage() {
    return 'expected a probe, a struct definition or a config block';
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, customUserDescription }) {
    if (customUserDescription) return `expected ${customUserDescription}`;
    return `expected ${orList(expectedPathsPerAlt.flat().flatMap((p) => (p[0] ? [label(p[0])] : [])))}`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, customUserDescription }) {
    if (customUserDescription) return `expected ${customUserDescription}`;
    return `expected ${orList(expectedIterationPaths.flatMap((p) => (p[0] ? [label(p[0])] : [])))}`;
  },
};

// ---------------------------------------------------------------------------------------------
// The parser

export interface ParseContext {
  readonly lines: LineMap;
  readonly params: readonly string[];
  readonly diagnostics: Diagnostic[];
  readonly includes: readonly Include[];
  readonly textLength: number;
}

type Rule<R> = ParserMethod<[], R>;
/** A parsed C declarator: the declared name (if written) and how it wraps the specifier's type. */
interface Declarator {
  readonly span: Span;
  readonly name: string | undefined;
  readonly wrap: (specifier: CType) => CType;
  /** Nothing was written (an anonymous member, an unnamed parameter). */
  readonly empty: boolean;
}
type MaybeExpr = Expr | undefined;
const NO_RESYNC = { resyncEnabled: false } as const;

/**
 * How deeply a program may nest: parentheses, calls, operators, blocks, `if`s. bpftrace 0.17
 * accepts about 6,000 levels of nested calls or `if`s and crashes beyond; every stage of tracelet
 * takes this many (on the stack bin/tracelet starts Node with) and reports E_TOO_DEEP beyond.
 */
export const MAX_NESTING = 10_000;
/**
 * The parser counts the rules that start a level (an expression, an operand, a statement...):
 * a level of parentheses or of calls is two of them.
 */
const MAX_RULE_NESTING = 2 * MAX_NESTING;

/** Thrown (through chevrotain's recovery) when rules nest deeper than MAX_RULE_NESTING. */
export class TooDeep extends Error {
  constructor(readonly token: IToken) {
    super('too deep');
  }
}

/** Binding strength of the binary operators (C's), loosest first. */
const BINARY_PRECEDENCE: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '<=': 7, '>': 7, '>=': 7,
  '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

const ASSIGN_OPS: Record<string, '=' | BinaryOp> = {
  '=': '=', '+=': '+', '-=': '-', '*=': '*', '/=': '/', '%=': '%', '&=': '&', '|=': '|', '^=': '^', '<<=': '<<', '>>=': '>>',
};

class TraceletParser extends EmbeddedActionsParser {
  ctx!: ParseContext;
  /** A simple statement whose terminator is being checked (returned if the check fails). */
  private pendingStmt: Stmt | undefined;
  /** Names the script's typedefs declared so far: like C, `(name)` before an operand is then a cast. */
  private typedefNames = new Set<string>();
  /** How many nesting rules (see nestingRule) are running. */
  private nesting = 0;
  /** Blocks whose last token inside is a ';'. */
  private endsWithSemi = new WeakSet<Block>();

  constructor() {
    super(T.allTokenTypes, {
      recoveryEnabled: true, maxLookahead: 4, errorMessageProvider: messages, skipValidations: T.SKIP_GRAMMAR_VALIDATIONS,
    });
    this.performSelfAnalysis();
  }

  start(ctx: ParseContext, tokens: IToken[]): void {
    this.ctx = ctx;
    this.pendingStmt = undefined;
    this.typedefNames = new Set();
    this.nesting = 0;
    this.input = tokens;
  }

  /**
   * A rule that can nest: every recursion of the grammar passes through one of them, so counting
   * them bounds the parser's depth (chevrotain recurses on the JS stack) before the stack runs out.
   */
  private nestingRule<R>(name: string, impl: () => R, config?: IRuleConfig<R>): Rule<R> {
    return this.RULE(name, (): R => {
      if (++this.nesting > MAX_RULE_NESTING) throw new TooDeep(this.LA(1));
      try {
        return impl();
      } finally {
        this.nesting--;
      }
    }, config);
  }

  // ----- helpers (only called inside ACTION or GATE)

  private sp(start: number, end: number): Span {
    return this.ctx.lines.span(start, Math.max(start, end));
  }
  private startOf(t: IToken): number {
    return Number.isNaN(t.startOffset) ? this.endOfLast() : t.startOffset;
  }
  /** End offset (exclusive) of the last real token consumed. */
  private endOfLast(): number {
    const t = this.LA(0);
    return t === undefined || Number.isNaN(t.startOffset) ? 0 : t.endOffset! + 1;
  }
  private tokSpan(t: IToken): Span {
    if (Number.isNaN(t.startOffset)) {
      const e = this.endOfLast();
      return this.sp(e, e);
    }
    return this.sp(t.startOffset, t.endOffset! + 1);
  }
  private from(startOffset: number): Span {
    return this.sp(startOffset, this.endOfLast());
  }
  private report(code: string, span: Span, message: string, hint?: string): void {
    this.ctx.diagnostics.push(error(code, span, message, hint));
  }
  private is(k: number, t: TokenType): boolean {
    return tokenMatcher(this.LA(k), t);
  }
  private atBlockEnd(): boolean {
    return this.is(1, T.RBrace) || this.LA(1).tokenType === EOF;
  }
  private identAt(k: number): string | undefined {
    const t = this.LA(k);
    return t.tokenType === T.Identifier ? t.image : undefined;
  }
  /** Whether a type name starts at LA(k) (for `sizeof(...)`). */
  private typeAhead(k: number): boolean {
    if (this.is(k, T.TagKeyword)) return true;
    const name = this.identAt(k);
    if (name === undefined) return false;
    if (TYPE_NAMES.has(name) || QUALIFIERS.has(name)) return true;
    if (isBuiltinName(name)) return false;
    if (this.typedefNames.has(name)) return true;
    let j = k + 1;
    while (this.is(j, T.Star)) j++;
    return j > k + 1 && this.is(j, T.RParen);
  }
  /** Whether `(` at LA(1) starts a cast: `(uint32)`, `(struct x *)`, `(foo *)`, `(foo) $x`. */
  private castAhead(): boolean {
    if (!this.is(1, T.LParen)) return false;
    if (this.typeAhead(2)) return true;
    const name = this.identAt(2);
    if (name === undefined || isBuiltinName(name) || !this.is(3, T.RParen)) return false;
    const next = this.LA(4).tokenType;
    return (
      next === T.Variable || next === T.MapName || next === T.Identifier || next === T.IntLit || next === T.StringLit ||
      next === T.LParen || next === T.Positional || next === T.ParamCount || next === T.Bang || next === T.Tilde ||
      next === T.True || next === T.False || next === T.Sizeof || next === T.Offsetof
    );
  }

  // ----- top level

  public program: Rule<Program> = this.RULE('program', (): Program => {
    const probes: Probe[] = [];
    const cDefinitions: CDefinition[] = [];
    const config: ConfigAssignment[] = [];
    const macros: MacroDefinition[] = [];
    const imports: Import[] = [];
    const mapDeclarations: MapDeclaration[] = [];
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            const i = this.SUBRULE(this.importStatement);
            this.ACTION(() => {
              // bpftrace reads a file's imports before its body: `import` after a probe is a mistake.
              const late = probes[0] ?? macros[0] ?? mapDeclarations[0];
              if (late) {
                this.report('E_IMPORT', i.span, 'an import must come before the probes, macros and map declarations',
                  `move it above line ${late.span.line}`);
              }
              imports.push(i);
            });
          },
        },
        {
          ALT: () => {
            const d = this.SUBRULE(this.mapDeclaration);
            this.ACTION(() => mapDeclarations.push(d));
          },
        },
        {
          ALT: () => {
            const m = this.SUBRULE(this.macroDefinition);
            this.ACTION(() => m && macros.push(m));
          },
        },
        {
          ALT: () => {
            const p = this.SUBRULE(this.probe);
            this.ACTION(() => p && probes.push(p));
          },
        },
        {
          ALT: () => {
            const d = this.SUBRULE(this.cDefinition);
            this.ACTION(() => d && cDefinitions.push(d));
          },
        },
        {
          ALT: () => {
            const c = this.SUBRULE(this.configBlock);
            this.ACTION(() => c && config.push(...c));
          },
        },
      ]);
    });
    return this.ACTION(
      (): Program => ({
        kind: 'Program',
        span: this.sp(0, this.ctx.textLength),
        includes: this.ctx.includes,
        cDefinitions,
        config,
        probes,
        ...(macros.length > 0 ? { macros } : {}),
        ...(imports.length > 0 ? { imports } : {}),
        ...(mapDeclarations.length > 0 ? { mapDeclarations } : {}),
      }),
    );
  });

  /** `import "path";` */
  private importStatement: Rule<Import> = this.RULE('importStatement', (): Import => {
    const kw = this.CONSUME(T.ImportKw);
    const path = this.CONSUME(T.StringLit);
    this.CONSUME(T.Semi, { ERR_MSG: "expected ';' after the import's path" });
    return this.ACTION((): Import => ({
      kind: 'Import', span: this.from(kw.startOffset), path: String(path.payload ?? ''), pathSpan: this.tokSpan(path),
    }));
  });

  /** `let @name = type(max_entries);` */
  private mapDeclaration: Rule<MapDeclaration> = this.RULE('mapDeclaration', (): MapDeclaration => {
    const kw = this.CONSUME(T.LetMapKw);
    const map = this.CONSUME(T.MapName);
    this.CONSUME(T.Assign, { ERR_MSG: "expected '=' and a map type after the map, e.g. let @m = lruhash(100);" });
    const type = this.CONSUME(T.Identifier, { ERR_MSG: 'expected a map type: hash, lruhash, percpuhash or percpulruhash' });
    const open = this.CONSUME(T.LParen);
    const args = this.OPTION(() => this.SUBRULE(this.expressionList)) ?? [];
    const close = this.CONSUME(T.RParen);
    this.CONSUME(T.Semi, { ERR_MSG: "expected ';' after the map declaration" });
    return this.ACTION((): MapDeclaration => {
      const [arg] = args;
      const maxEntries = args.length === 1 && arg?.kind === 'IntLiteral' ? arg.value : undefined;
      return {
        kind: 'MapDeclaration', span: this.from(kw.startOffset), map: map.image, mapSpan: this.tokSpan(map), type: type.image,
        typeSpan: this.tokSpan(type), argsSpan: this.sp(open.startOffset, this.startOf(close) + 1),
        ...(maxEntries !== undefined ? { maxEntries } : {}),
      };
    });
  });

  /** `macro name [( param, ... )] { body }`; a parameter is `$v`, `@m` or a name. */
  private macroDefinition: Rule<MacroDefinition | undefined> = this.RULE('macroDefinition', (): MacroDefinition | undefined => {
    const kw = this.CONSUME(T.MacroKw);
    const name = this.CONSUME(T.Identifier, { ERR_MSG: "expected the macro's name" });
    const params: IToken[] = [];
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({
        SEP: T.Comma,
        // In the top level's mode a plain name is lexed as an attach point: taken if it is a name.
        DEF: () => params.push(this.OR([
          { ALT: () => this.CONSUME(T.Variable) },
          { ALT: () => this.CONSUME(T.MapName) },
          { ALT: () => this.CONSUME(T.AttachPointTok) },
        ])),
      });
      this.CONSUME(T.RParen, { ERR_MSG: "expected ',' or ')' after the macro's parameter" });
    });
    const body = this.SUBRULE(this.block);
    return this.ACTION((): MacroDefinition | undefined => {
      if (!body || Number.isNaN(name.startOffset)) return undefined;
      const list: MacroDefinition['params'][number][] = [];
      for (const p of params) {
        const span = this.tokSpan(p);
        if (p.tokenType === T.Variable) list.push({ kind: 'variable', name: p.image.slice(1), span });
        else if (p.tokenType === T.MapName) list.push({ kind: 'map', name: p.image.slice(1), span });
        else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.image)) list.push({ kind: 'expression', name: p.image, span });
        else this.report('E_SYNTAX', span, `expected a macro parameter ($var, @map or a name), found '${p.image}'`);
      }
      return { kind: 'MacroDefinition', span: this.from(kw.startOffset), name: name.image, params: list, body };
    });
  });

  private probe: Rule<Probe | undefined> = this.RULE('probe', (): Probe | undefined => {
    const aps: { tok: IToken; ap: AttachPoint | undefined }[] = [];
    aps.push(this.SUBRULE(this.attachPoint));
    this.MANY(() => {
      this.CONSUME(T.Comma);
      aps.push(this.SUBRULE2(this.attachPoint));
    });
    const predicate = this.OPTION(() => this.SUBRULE(this.predicate));
    const body = this.SUBRULE(this.block);
    return this.ACTION(() => {
      const attachPoints = aps.flatMap((a) => (a?.ap ? [a.ap] : []));
      if (!body || attachPoints.length === 0) return undefined;
      const start = this.startOf(aps[0]!.tok);
      return {
        kind: 'Probe',
        span: this.sp(start, body.span.end),
        attachPoints,
        ...(predicate ? { predicate } : {}),
        body,
      } satisfies Probe;
    });
  });

  private attachPoint: Rule<{ tok: IToken; ap: AttachPoint | undefined }> = this.RULE(
    'attachPoint',
    () => {
      const tok = this.CONSUME(T.AttachPointTok);
      return this.ACTION(() => ({
        tok,
        ap: Number.isNaN(tok.startOffset) ? undefined : parseAttachPoint(tok.image, tok.startOffset, this.ctx),
      }));
    },
    NO_RESYNC,
  );

  private predicate: Rule<MaybeExpr> = this.RULE('predicate', (): MaybeExpr => {
    this.CONSUME(T.PredStart);
    const e = this.SUBRULE(this.expression);
    this.CONSUME(T.PredEnd);
    return e;
  });

  // ----- C definitions (the subset of C declarations bpftrace scripts use)

  /** `struct s {...};`, `union u {...};`, `enum e {...};`, `typedef T name, *pname;`, `struct s;`. */
  private cDefinition: Rule<CDefinition | undefined> = this.RULE('cDefinition', (): CDefinition | undefined => {
    const first = this.LA(1);
    const isTypedef = this.OPTION(() => this.CONSUME(T.Typedef)) !== undefined;
    const specifier = this.SUBRULE(this.typeSpecifier);
    const declarators: Declarator[] = [];
    this.OPTION2({
      GATE: () => isTypedef,
      DEF: () =>
        this.AT_LEAST_ONE_SEP({
          SEP: T.Comma,
          DEF: () => {
            const d = this.SUBRULE(this.declarator);
            this.ACTION(() => d && declarators.push(d));
          },
        }),
    });
    // As in bpftrace, a struct, union or enum body may end the definition without a ';' — but
    // not when a name and ';' follow (`struct s {...} x;`: a variable, which C scripts cannot declare).
    this.OR2({
      IGNORE_AMBIGUITIES: true,
      ERR_MSG: isTypedef ? "';' after the typedef" : "';' after the definition",
      DEF: [
        { ALT: () => this.CONSUME(T.Semi) },
        { GATE: () => !isTypedef && specifier !== undefined && hasBody(specifier) && !this.is(2, T.Semi), ALT: EMPTY_ALT() },
      ],
    });
    return this.ACTION(() => {
      if (!specifier) return undefined;
      const typedefs: CDeclarator[] = [];
      for (const d of declarators) {
        if (d.name === undefined) {
          this.report('E_SYNTAX', d.empty ? specifier.span : d.span, 'expected the name the typedef defines');
          continue;
        }
        typedefs.push({ span: d.span, name: d.name, type: d.wrap(specifier) });
        this.typedefNames.add(d.name);
      }
      // A declaration without a body or a typedef (`struct fwd;`) defines nothing: types come from BTF.
      if (typedefs.length === 0 && !hasBody(specifier)) return undefined;
      return { kind: 'CDefinition', span: this.from(this.startOf(first)), specifier, typedefs };
    });
  });

  /** Qualifiers, then a struct/union/enum (with or without its body) or a type name, then qualifiers. */
  private typeSpecifier: Rule<CType | undefined> = this.RULE(
    'typeSpecifier',
    (): CType | undefined => {
      this.SUBRULE(this.qualifiers);
      const type = this.OR({
        ERR_MSG: 'a type name',
        DEF: [
          { ALT: () => this.SUBRULE(this.recordSpecifier) },
          { ALT: () => this.SUBRULE(this.enumSpecifier) },
          {
            ALT: () => {
              const words = this.SUBRULE(this.typeWords);
              return this.ACTION((): CType => ({ kind: 'CNamedType', span: this.sp(words.start, words.end), name: words.name }));
            },
          },
        ],
      });
      this.SUBRULE2(this.qualifiers);
      return type;
    },
    NO_RESYNC,
  );

  private qualifiers = this.RULE(
    'qualifiers',
    () => {
      this.MANY({
        GATE: () => QUALIFIERS.has(this.identAt(1) ?? ''),
        DEF: () => this.CONSUME(T.Identifier),
      });
    },
    NO_RESYNC,
  );

  /** One word, or C's combined words (`unsigned long long`): `int`, `u64`, a typedef name. */
  private typeWords = this.RULE(
    'typeWords',
    () => {
      const words = [this.CONSUME(T.Identifier)];
      this.MANY({
        GATE: () => C_TYPE_WORDS.has(words[0]!.image) && C_TYPE_WORDS.has(this.identAt(1) ?? ''),
        DEF: () => words.push(this.CONSUME2(T.Identifier)),
      });
      return this.ACTION(() => ({
        name: words.map((w) => w.image).join(' '),
        start: this.startOf(words[0]!),
        end: this.endOfLast(),
      }));
    },
    NO_RESYNC,
  );

  private recordSpecifier: Rule<CType | undefined> = this.nestingRule('recordSpecifier', (): CType | undefined => {
    const kw = this.OR([{ ALT: () => this.CONSUME(T.Struct) }, { ALT: () => this.CONSUME(T.Union) }]);
    const attributes: IToken[] = [];
    this.MANY(() => attributes.push(this.CONSUME(T.AttributeTok)));
    const name = this.OPTION(() => this.CONSUME(T.Identifier));
    const fields = this.OPTION2({
      // Without a name the body is required: `struct { ... }`.
      GATE: () => name === undefined || this.is(1, T.LBrace),
      DEF: () => {
        const list: CField[] = [];
        this.CONSUME(T.LBrace);
        this.MANY2(() => {
          const f = this.SUBRULE(this.fieldDeclaration);
          this.ACTION(() => f && list.push(...f));
        });
        this.CONSUME(T.RBrace);
        this.MANY3(() => attributes.push(this.CONSUME2(T.AttributeTok)));
        return list;
      },
    });
    return this.ACTION((): CType => {
      const layout = layoutAttributes(attributes);
      return {
        kind: 'CRecordType',
        span: this.from(this.startOf(kw)),
        tag: kw.image === 'union' ? 'union' : 'struct',
        ...(name ? { name: name.image } : {}),
        ...(fields ? { fields } : {}),
        ...(layout ? { layout } : {}),
      };
    });
  });

  private enumSpecifier: Rule<CType | undefined> = this.RULE('enumSpecifier', (): CType | undefined => {
    const kw = this.CONSUME(T.Enum);
    const name = this.OPTION(() => this.CONSUME(T.Identifier));
    const enumerators = this.OPTION2({
      GATE: () => name === undefined || this.is(1, T.LBrace),
      DEF: () => {
        const items: { name: string; value?: bigint }[] = [];
        this.CONSUME(T.LBrace);
        this.OPTION3(() => {
          const first = this.SUBRULE(this.enumerator);
          this.ACTION(() => first && items.push(first));
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.OPTION4(() => {
              const e = this.SUBRULE2(this.enumerator);
              this.ACTION(() => e && items.push(e));
            });
          });
        });
        this.CONSUME(T.RBrace);
        return items;
      },
    });
    return this.ACTION((): CType => ({
      kind: 'CEnumType',
      span: this.from(this.startOf(kw)),
      ...(name ? { name: name.image } : {}),
      ...(enumerators ? { enumerators } : {}),
    }));
  });

  /**
   * `type declarator (, declarator)* ;` → one CField per declarator. No declarator: an anonymous
   * struct/union member. `: N` after a declarator (or alone) makes a bit-field.
   */
  private fieldDeclaration: Rule<CField[] | undefined> = this.RULE('fieldDeclaration', (): CField[] | undefined => {
    const first = this.LA(1);
    const specifier = this.SUBRULE(this.typeSpecifier);
    const decls: { d: Declarator | undefined; bits?: IToken; attributes: IToken[] }[] = [];
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => {
        const d = this.SUBRULE(this.declarator);
        const bits = this.OPTION(() => {
          this.CONSUME(T.Colon);
          return this.CONSUME(T.IntLit);
        });
        const attributes: IToken[] = [];
        this.MANY(() => attributes.push(this.CONSUME(T.AttributeTok)));
        // A width recovery made up (`int a : ;`, already reported) is left out.
        this.ACTION(() => decls.push({ d, attributes, ...(bits && !Number.isNaN(bits.startOffset) ? { bits } : {}) }));
      },
    });
    this.CONSUME(T.Semi, { ERR_MSG: "expected ';' after the field" });
    return this.ACTION(() => {
      if (!specifier) return undefined;
      const start = this.startOf(first);
      return decls.flatMap(({ d, bits, attributes }): CField[] => {
        const end = bits ? bits.endOffset! + 1 : d && !d.empty ? d.span.end : specifier.span.end;
        const layout = layoutAttributes(attributes);
        const field = {
          span: this.sp(start, end),
          type: d ? d.wrap(specifier) : specifier,
          ...(d?.name !== undefined ? { name: d.name } : {}),
          ...(bits ? { bitWidth: intValue(bits) } : {}),
          ...(layout ? { layout } : {}),
        };
        const anonymousMember = d?.empty && !bits && specifier.kind === 'CRecordType' && !specifier.name && specifier.fields;
        if (field.name === undefined && !bits && !anonymousMember) {
          this.report('E_SYNTAX', field.span, 'expected a field name', 'a field is `type name;`, e.g. `int count;`');
          return [];
        }
        return [field];
      });
    });
  });

  /**
   * C's declarator: `*`s, then a name or `( declarator )`, then `[N]`s and parameter lists.
   * Every part is optional here (a parameter needs no name, an anonymous member no declarator);
   * the rules using it say what they require. It returns the name and how it wraps the
   * specifier's type: `*p[4]` is an array of 4 pointers, `(*fn)(int)` a pointer to a function.
   */
  private declarator: Rule<Declarator | undefined> = this.nestingRule(
    'declarator',
    (): Declarator | undefined => {
      const first = this.LA(1);
      let pointers = 0;
      this.MANY(() => {
        this.CONSUME(T.Star);
        this.SUBRULE(this.qualifiers);
        pointers++;
      });
      const core = this.OPTION({
        // `(` starts a nested declarator only before `*`: otherwise it is a parameter list.
        GATE: () => !this.is(1, T.LParen) || this.is(2, T.Star),
        DEF: () =>
          this.OR([
            { ALT: () => ({ name: this.CONSUME(T.AnyName).image, inner: undefined }) },
            {
              ALT: () => {
                this.CONSUME(T.LParen);
                const inner = this.SUBRULE2(this.declarator);
                this.CONSUME(T.RParen);
                return { name: undefined, inner };
              },
            },
          ]),
      });
      const suffixes: ({ array: IToken } | { fn: true })[] = [];
      this.MANY2(() =>
        this.OR2([
          {
            ALT: () => {
              this.CONSUME(T.LBracket);
              const n = this.CONSUME(T.IntLit);
              this.CONSUME(T.RBracket);
              this.ACTION(() => suffixes.push({ array: n }));
            },
          },
          {
            ALT: () => {
              this.SUBRULE(this.parameterList);
              this.ACTION(() => suffixes.push({ fn: true }));
            },
          },
        ]),
      );
      return this.ACTION((): Declarator => {
        const span = this.from(this.startOf(first));
        const wrap = (base: CType): CType => {
          let t = base;
          for (let i = 0; i < pointers; i++) t = { kind: 'CPointerType', span, target: t };
          // The suffix nearest the name applies last: `a[2][3]` is an array of 2 arrays of 3.
          for (const s of [...suffixes].reverse()) {
            t = 'array' in s
              ? { kind: 'CArrayType', span, element: t, length: intValue(s.array) }
              : { kind: 'CFunctionType', span, result: t };
          }
          return core?.inner ? core.inner.wrap(t) : t;
        };
        return { span, name: core?.name ?? core?.inner?.name, wrap, empty: pointers === 0 && !core && suffixes.length === 0 };
      });
    },
    NO_RESYNC,
  );

  /** `( [ parameter { , parameter } [ , ... ] ] )`: parsed for its shape, the parameters are not kept. */
  private parameterList = this.RULE(
    'parameterList',
    () => {
      this.CONSUME(T.LParen);
      this.OPTION(() => {
        this.SUBRULE(this.parameter);
        this.MANY(() => {
          this.CONSUME(T.Comma);
          this.OR([
            { ALT: () => this.SUBRULE2(this.parameter) },
            {
              ALT: () => {
                this.CONSUME(T.Dot);
                this.CONSUME2(T.Dot);
                this.CONSUME3(T.Dot);
              },
            },
          ]);
        });
      });
      this.CONSUME(T.RParen);
    },
    NO_RESYNC,
  );

  private parameter = this.RULE(
    'parameter',
    () => {
      this.SUBRULE(this.typeSpecifier);
      this.SUBRULE(this.declarator);
    },
    NO_RESYNC,
  );

  private enumerator = this.RULE(
    'enumerator',
    () => {
      const name = this.CONSUME(T.Identifier);
      const value = this.OPTION(() => {
        this.CONSUME(T.Assign);
        const neg = this.OPTION2(() => this.CONSUME(T.Minus));
        const v = this.CONSUME(T.IntLit);
        return { neg, v };
      });
      return this.ACTION(() => {
        if (!value) return { name: name.image };
        const v = intPayload(value.v).value;
        return { name: name.image, value: value.neg ? -v : v };
      });
    },
    NO_RESYNC,
  );

  // ----- config

  private configBlock: Rule<ConfigAssignment[] | undefined> = this.RULE('configBlock', (): ConfigAssignment[] | undefined => {
    const entries: ConfigAssignment[] = [];
    this.CONSUME(T.Config);
    this.CONSUME(T.Assign);
    this.CONSUME(T.LBrace);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.CONSUME(T.Semi) },
        {
          ALT: () => {
            const e = this.SUBRULE(this.configEntry);
            this.ACTION(() => e && entries.push(e));
          },
        },
      ]),
    );
    this.CONSUME(T.RBrace);
    this.OPTION(() => this.CONSUME2(T.Semi));
    return entries;
  });

  private configEntry: Rule<ConfigAssignment | undefined> = this.RULE('configEntry', (): ConfigAssignment | undefined => {
    const key = this.CONSUME(T.Identifier);
    this.CONSUME(T.Assign);
    const value = this.OR({
      ERR_MSG: 'a config value (an integer, a string or a name)',
      DEF: [
        {
          ALT: (): string | bigint => {
            const t = this.CONSUME(T.IntLit);
            return this.ACTION(() => intPayload(t).value);
          },
        },
        {
          ALT: (): string | bigint => {
            const t = this.CONSUME(T.StringLit);
            return this.ACTION(() => String(t.payload ?? ''));
          },
        },
        { ALT: () => this.CONSUME2(T.Identifier).image },
        { ALT: () => this.CONSUME(T.True).image },
        { ALT: () => this.CONSUME(T.False).image },
      ],
    });
    const end = this.ACTION(() => this.endOfLast());
    this.SUBRULE(this.terminator);
    return this.ACTION(
      () => ({ kind: 'ConfigAssignment', span: this.sp(key.startOffset, end), key: key.image, value }) satisfies ConfigAssignment,
    );
  });

  // ----- statements

  private block: Rule<Block | undefined> = this.RULE('block', (): Block | undefined => {
    const statements: Stmt[] = [];
    const open = this.CONSUME(T.LBrace);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.CONSUME(T.Semi) },
        {
          ALT: () => {
            const s = this.SUBRULE(this.statement);
            this.ACTION(() => s && statements.push(s));
          },
        },
      ]),
    );
    // Whether the last token inside is a ';' (a block used as a value must end without one).
    const semi = this.ACTION(() => this.LA(0).tokenType === T.Semi);
    this.CONSUME(T.RBrace);
    return this.ACTION(() => {
      const b: Block = { kind: 'Block', span: this.from(this.startOf(open)), statements };
      if (semi) this.endsWithSemi.add(b);
      return b;
    });
  });

  /** `{ stmt; ...; value }` in an expression (bpftrace 0.26): its statements, then its value. */
  private blockExpression: Rule<MaybeExpr> = this.RULE('blockExpression', (): MaybeExpr => {
    const b = this.SUBRULE(this.block);
    return this.ACTION((): MaybeExpr => {
      if (!b) return undefined;
      const last = b.statements.at(-1);
      if (last?.kind !== 'ExprStmt' || this.endsWithSemi.has(b)) {
        this.report('E_SYNTAX', b.span, 'a block used as a value must end with an expression, without a \';\' after it',
          'e.g. $a = { let $b = 1; $b + 1 };');
        return undefined;
      }
      return { kind: 'BlockExpr', span: b.span, statements: b.statements.slice(0, -1), value: last.expr };
    });
  }, NO_RESYNC);

  private statement: Rule<Stmt | undefined> = this.nestingRule(
    'statement',
    (): Stmt | undefined => {
      this.ACTION(() => {
        this.pendingStmt = undefined;
      });
      return this.OR({
        ERR_MSG: 'a statement',
        // A '{' here is a block statement, not an expression statement of a block expression.
        // One token decides (each other statement starts with its keyword): without the limit,
        // that ambiguity made chevrotain build 4-token lookahead over every expression, which
        // doubled parse time and added 8 MB at start-up.
        IGNORE_AMBIGUITIES: true,
        MAX_LOOKAHEAD: 1,
        DEF: [
          { ALT: () => this.SUBRULE(this.ifStatement) },
          { ALT: () => this.SUBRULE(this.whileStatement) },
          { ALT: () => this.SUBRULE(this.forStatement) },
          { ALT: () => this.SUBRULE(this.unrollStatement) },
          {
            ALT: () => {
              const b = this.SUBRULE(this.block);
              return this.ACTION(() => (b ? ({ kind: 'BlockStmt', span: b.span, block: b } as const) : undefined));
            },
          },
          {
            ALT: () => {
              const s = this.SUBRULE(this.simpleStatement);
              this.ACTION(() => {
                this.pendingStmt = s;
              });
              this.SUBRULE(this.terminator);
              this.ACTION(() => {
                this.pendingStmt = undefined;
              });
              return s;
            },
          },
        ],
      });
    },
    {
      recoveryValueFunc: () => {
        const s = this.pendingStmt;
        this.pendingStmt = undefined;
        return s;
      },
    },
  );

  /** `;` after a simple statement; optional before `}`. */
  private terminator: Rule<void> = this.RULE(
    'terminator',
    (): void => {
      this.OR({
        IGNORE_AMBIGUITIES: true,
        ERR_MSG: "';' or '}' after the statement",
        DEF: [{ ALT: () => this.CONSUME(T.Semi) }, { GATE: () => this.atBlockEnd(), ALT: EMPTY_ALT() }],
      });
    },
    NO_RESYNC,
  );

  private simpleStatement: Rule<Stmt | undefined> = this.RULE(
    'simpleStatement',
    (): Stmt | undefined =>
      this.OR([
        {
          ALT: () => {
            const kw = this.CONSUME(T.Return);
            const value = this.OPTION2(() => this.SUBRULE3(this.expression));
            return this.ACTION(() => ({ kind: 'JumpStmt', span: this.tokSpan(kw), jump: 'return', ...(value ? { value } : {}) }) as const);
          },
        },
        { ALT: () => this.jump(this.CONSUME(T.Break), 'break') },
        { ALT: () => this.jump(this.CONSUME(T.Continue), 'continue') },
        { ALT: () => this.SUBRULE(this.letStatement) },
        {
          ALT: () => {
            const target = this.SUBRULE(this.expression);
            const assign = this.OPTION(() => ({ op: this.CONSUME(T.AssignOp), value: this.SUBRULE2(this.expression) }));
            return this.ACTION((): Stmt | undefined => {
              if (!target) return undefined;
              if (!assign) return { kind: 'ExprStmt', span: target.span, expr: target };
              // `_ = e;` (bpftrace 0.26's discard expression): e, its value unused.
              if (target.kind === 'Identifier' && target.name === '_' && assign.op.image === '=') {
                return assign.value && { kind: 'ExprStmt', span: this.sp(target.span.start, assign.value.span.end), expr: assign.value };
              }
              if (target.kind !== 'MapRef' && target.kind !== 'Variable') {
                this.report(
                  'E_ASSIGN_TARGET',
                  target.span,
                  `cannot assign to ${describeExpr(target)}; only maps (@name) and variables ($name) can be assigned`,
                );
                return undefined;
              }
              if (!assign.value) return undefined;
              return {
                kind: 'AssignStmt',
                span: this.sp(target.span.start, assign.value.span.end),
                target,
                op: ASSIGN_OPS[assign.op.image] ?? '=',
                opSpan: this.tokSpan(assign.op),
                value: assign.value,
              };
            });
          },
        },
      ]),
    NO_RESYNC,
  );

  /** `let $x`, `let $x = e`, `let $x: type = e` (bpftrace 0.22+). */
  private letStatement: Rule<Stmt | undefined> = this.RULE(
    'letStatement',
    (): Stmt | undefined => {
      const kw = this.CONSUME(T.Let);
      const v = this.CONSUME(T.Variable, { ERR_MSG: "expected a variable like $x after 'let'" });
      const type = this.OPTION(() => {
        this.CONSUME(T.Colon);
        return this.SUBRULE(this.typeName);
      });
      const value = this.OPTION2(() => {
        this.CONSUME(T.Assign, { ERR_MSG: "expected '=' or ';' after the declared variable" });
        return { value: this.SUBRULE(this.expression) };
      });
      return this.ACTION((): Stmt | undefined => {
        if (Number.isNaN(v.startOffset) || (value && !value.value)) return undefined;
        const variable: Variable = { kind: 'Variable', span: this.tokSpan(v), name: v.image.slice(1) };
        return {
          kind: 'LetStmt',
          span: this.from(kw.startOffset),
          variable,
          ...(type ? { type } : {}),
          ...(value?.value ? { value: value.value } : {}),
        };
      });
    },
    NO_RESYNC,
  );

  private jump(t: IToken, jump: 'break' | 'continue' | 'return'): Stmt | undefined {
    return this.ACTION(() => ({ kind: 'JumpStmt', span: this.tokSpan(t), jump }) as const);
  }

  private ifStatement: Rule<IfStmt | undefined> = this.nestingRule(
    'ifStatement',
    (): IfStmt | undefined => {
      const kw = this.CONSUME(T.If);
      // `if comptime (c) { }` (0.26): c is decided when the program is compiled. `comptime` is no
      // keyword: a name followed by a block is the condition of a plain `if`.
      const comptime = this.OPTION3({
        GATE: () => this.LA(1).image === 'comptime' && !tokenMatcher(this.LA(2), T.LBrace),
        DEF: () => this.CONSUME(T.Identifier),
      });
      // A unary expression: `(...)` as always, or (bpftrace 0.24+) `if $x { }`, `if !$x { }`.
      const condition = this.SUBRULE(this.unary);
      const then = this.SUBRULE(this.block);
      const otherwise = this.OPTION(() => {
        this.CONSUME(T.Else);
        return this.OR({
          ERR_MSG: "'if' or '{' after 'else'",
          DEF: [{ ALT: () => this.SUBRULE2(this.ifStatement) }, { ALT: () => this.SUBRULE2(this.block) }],
        });
      });
      return this.ACTION(() => {
        if (!condition || !then) return undefined;
        return {
          kind: 'IfStmt',
          span: this.from(kw.startOffset),
          ...(comptime ? { comptime: true } : {}),
          condition,
          then,
          ...(otherwise ? { otherwise } : {}),
        } satisfies IfStmt;
      });
    },
    NO_RESYNC,
  );

  private whileStatement: Rule<WhileStmt | undefined> = this.RULE(
    'whileStatement',
    (): WhileStmt | undefined => {
      const kw = this.CONSUME(T.While);
      const condition = this.SUBRULE(this.unary); // as if's
      const body = this.SUBRULE(this.block);
      return this.ACTION(() =>
        condition && body ? ({ kind: 'WhileStmt', span: this.from(kw.startOffset), condition, body } satisfies WhileStmt) : undefined,
      );
    },
    NO_RESYNC,
  );

  private unrollStatement: Rule<UnrollStmt | undefined> = this.RULE(
    'unrollStatement',
    (): UnrollStmt | undefined => {
      const kw = this.CONSUME(T.Unroll);
      const count = this.SUBRULE(this.unary); // as if's condition
      const body = this.SUBRULE(this.block);
      return this.ACTION(() =>
        count && body ? ({ kind: 'UnrollStmt', span: this.from(kw.startOffset), count, body } satisfies UnrollStmt) : undefined,
      );
    },
    NO_RESYNC,
  );

  /**
   * `for ($kv : @map) { }`, or over a range (bpftrace 0.24+): `for ($i : start..end) { }`; the
   * parentheses may be left out, as in 0.26 (`for $i : 0..10 { }`).
   */
  private forStatement: Rule<ForStmt | ForRangeStmt | undefined> = this.RULE(
    'forStatement',
    (): ForStmt | ForRangeStmt | undefined => {
      const kw = this.CONSUME(T.For);
      const open = this.OPTION(() => this.CONSUME(T.LParen));
      const v = this.CONSUME(T.Variable, { ERR_MSG: "expected a variable like $kv after 'for'" });
      this.CONSUME(T.Colon, { ERR_MSG: "expected ':' between the loop variable and the map or range" });
      const over = this.OR({
        ERR_MSG: 'a map like @name or a range like 0..10 to iterate over',
        DEF: [
          // A map alone: `@m` followed by `..` starts a range (`@lo..@hi`).
          { GATE: () => !this.is(2, T.Dot), ALT: () => ({ map: this.CONSUME(T.MapName), range: undefined }) },
          {
            ALT: () => {
              const start = this.SUBRULE(this.unary);
              this.CONSUME(T.Dot, { ERR_MSG: "expected '..' between the start and the end of the range" });
              this.CONSUME2(T.Dot, { ERR_MSG: "expected '..' between the start and the end of the range" });
              const end = this.SUBRULE2(this.unary);
              return { map: undefined, range: { start, end } };
            },
          },
        ],
      });
      this.OR2({
        ERR_MSG: "')' after the map or range (a bound of a range is one operand: write 0..($n + 1))",
        DEF: [
          { GATE: () => open !== undefined, ALT: () => this.CONSUME(T.RParen) },
          { GATE: () => open === undefined, ALT: EMPTY_ALT() },
        ],
      });
      const body = this.SUBRULE(this.block);
      return this.ACTION(() => {
        if (!body || !over || Number.isNaN(v.startOffset)) return undefined;
        const variable: Variable = { kind: 'Variable', span: this.tokSpan(v), name: v.image.slice(1) };
        const span = this.from(kw.startOffset);
        if (over.range) {
          const { start, end } = over.range;
          return start && end ? ({ kind: 'ForRangeStmt', span, variable, start, end, body } satisfies ForRangeStmt) : undefined;
        }
        if (Number.isNaN(over.map.startOffset)) return undefined;
        const map: MapRef = { kind: 'MapRef', span: this.tokSpan(over.map), name: over.map.image.slice(1) };
        return { kind: 'ForStmt', span, variable, map, body } satisfies ForStmt;
      });
    },
    NO_RESYNC,
  );

  // ----- expressions, lowest precedence first

  public expression: Rule<MaybeExpr> = this.nestingRule(
    'expression',
    (): MaybeExpr => {
      const condition = this.SUBRULE(this.logicalOr);
      const rest = this.OPTION(() => {
        this.CONSUME(T.Question);
        // `a ?: b` (bpftrace 0.26): a if it is true, else b.
        const then = this.OPTION2({ GATE: () => !this.is(1, T.Colon), DEF: () => ({ e: this.SUBRULE(this.expression) }) });
        this.CONSUME(T.Colon, { ERR_MSG: "expected ':' in the conditional expression" });
        const otherwise = this.SUBRULE2(this.expression);
        return { then, otherwise };
      });
      return this.ACTION((): MaybeExpr => {
        if (!rest) return condition;
        const then = rest.then ? rest.then.e : condition;
        if (!condition || !then || !rest.otherwise) return undefined;
        return {
          kind: 'Ternary',
          span: this.sp(condition.span.start, rest.otherwise.span.end),
          condition,
          then,
          otherwise: rest.otherwise,
        };
      });
    },
    NO_RESYNC,
  );

  /**
   * The ten binary levels of grammar/tracelet.ebnf (logicalOr down to multiplicative) in one rule:
   * operands and operators are read flat and folded by precedence in the action. Descending
   * through a chevrotain rule per level for every operand was most of the parsing time.
   */
  private logicalOr: Rule<MaybeExpr> = this.RULE(
    'logicalOr',
    (): MaybeExpr => {
      const operands = [this.SUBRULE(this.unary)];
      const ops: IToken[] = [];
      this.MANY(() => {
        ops.push(this.OR(this.binaryOperators));
        operands.push(this.SUBRULE2(this.unary));
      });
      return this.ACTION(() => this.foldBinary(operands, ops));
    },
    NO_RESYNC,
  );

  /**
   * One alternative per operator token (type or category) of the levels, not one category for all:
   * chevrotain then computes the same lookahead as with separate levels, so errors read the same.
   */
  private binaryOperators = BINARY_OPERATOR_TOKENS.filter((t) => t !== T.Question).map((t) => ({ ALT: () => this.CONSUME(t) }));

  /** `a op b op c ...` → left-associative Binary nodes by precedence; undefined if an operand is. */
  private foldBinary(operands: MaybeExpr[], ops: IToken[]): MaybeExpr {
    if (operands.some((e) => !e)) return undefined;
    const values = [operands[0]!];
    const pending: IToken[] = [];
    const reduce = () => {
      const o = pending.pop()!;
      const right = values.pop()!;
      const left = values.pop()!;
      const op = o.image as BinaryOp;
      values.push({ kind: 'Binary', span: this.sp(left.span.start, right.span.end), op, opSpan: this.tokSpan(o), left, right });
    };
    for (let i = 0; i < ops.length; i++) {
      const precedence = BINARY_PRECEDENCE[ops[i]!.image]!;
      while (pending.length > 0 && BINARY_PRECEDENCE[pending[pending.length - 1]!.image]! >= precedence) reduce();
      pending.push(ops[i]!);
      values.push(operands[i + 1]!);
    }
    while (pending.length > 0) reduce();
    return values[0];
  }

  // The alternatives of unary and primary, rules run for every operand, are built once (fields)
  // rather than on every call: allocating their closures was a tenth of the parsing time.
  private unary: Rule<MaybeExpr> = this.nestingRule('unary', (): MaybeExpr => this.OR(this.unaryAlternatives), NO_RESYNC);

  private unaryAlternatives: OrMethodOpts<MaybeExpr> = {
    IGNORE_AMBIGUITIES: true,
    ERR_MSG: 'an expression',
    DEF: [
      {
        ALT: () => {
          const o = this.CONSUME(T.PrefixOp);
          const operand = this.SUBRULE(this.unary);
          return this.ACTION((): MaybeExpr =>
            operand
              ? { kind: 'Unary', span: this.sp(o.startOffset, operand.span.end), op: o.image as UnaryOp, operand }
              : undefined,
          );
        },
      },
      {
        ALT: () => {
          const o = this.CONSUME(T.IncDecOp);
          const target = this.SUBRULE2(this.unary);
          return this.ACTION(() => this.incDec(o, target, true));
        },
      },
      { GATE: () => this.castAhead(), ALT: () => this.SUBRULE(this.cast) },
      { ALT: () => this.SUBRULE(this.postfix) },
    ],
  };

  private incDec(o: IToken, target: MaybeExpr, prefix: boolean): MaybeExpr {
    if (!target) return undefined;
    if (target.kind !== 'MapRef' && target.kind !== 'Variable') {
      this.report('E_INCDEC_TARGET', target.span, `'${o.image}' needs a map (@name) or a variable ($name), not ${describeExpr(target)}`);
      return undefined;
    }
    const span = prefix ? this.sp(o.startOffset, target.span.end) : this.sp(target.span.start, o.endOffset! + 1);
    return { kind: 'IncDec', span, op: o.image as '++' | '--', prefix, target };
  }

  private cast: Rule<MaybeExpr> = this.RULE(
    'cast',
    (): MaybeExpr => {
      const open = this.CONSUME(T.LParen);
      const type = this.SUBRULE(this.typeName);
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')' after the type of the cast" });
      const operand = this.SUBRULE(this.unary);
      return this.ACTION((): MaybeExpr =>
        type && operand ? { kind: 'Cast', span: this.sp(open.startOffset, operand.span.end), type, operand } : undefined,
      );
    },
    NO_RESYNC,
  );

  private postfix: Rule<MaybeExpr> = this.RULE(
    'postfix',
    (): MaybeExpr => {
      let e = this.SUBRULE(this.primary);
      this.MANY({
        // `..` is a range (`for ($i : 0..n)`), not a field access.
        GATE: () => !(this.is(1, T.Dot) && this.is(2, T.Dot)),
        DEF: () =>
          this.OR([
            {
              ALT: () => {
                this.CONSUME(T.Arrow);
                const f = this.CONSUME(T.AnyName, { ERR_MSG: "expected a field name after '->'" });
                e = this.ACTION(() => this.fieldAccess(e, f, true));
              },
            },
            {
              ALT: () => {
                this.CONSUME(T.Dot);
                this.OR2({
                  ERR_MSG: "a field name or a tuple index after '.'",
                  DEF: [
                    {
                      ALT: () => {
                        const f = this.CONSUME2(T.AnyName);
                        e = this.ACTION(() => this.fieldAccess(e, f, false));
                      },
                    },
                    {
                      ALT: () => {
                        const n = this.CONSUME(T.IntLit);
                        e = this.ACTION((): MaybeExpr =>
                          e ? { kind: 'TupleIndex', span: this.sp(e.span.start, n.endOffset! + 1), tuple: e, index: intValue(n) } : undefined,
                        );
                      },
                    },
                  ],
                });
              },
            },
            {
              ALT: () => {
                this.CONSUME(T.LBracket);
                const index = this.SUBRULE(this.expression);
                this.CONSUME(T.RBracket, { ERR_MSG: "expected ']' after the index" });
                e = this.ACTION((): MaybeExpr =>
                  e && index ? { kind: 'Index', span: this.from(e.span.start), object: e, index } : undefined,
                );
              },
            },
            {
              ALT: () => {
                const o = this.CONSUME(T.IncDecOp);
                e = this.ACTION(() => this.incDec(o, e, false));
              },
            },
          ]),
      });
      return e;
    },
    NO_RESYNC,
  );

  private fieldAccess(e: MaybeExpr, f: IToken, arrow: boolean): MaybeExpr {
    if (!e || Number.isNaN(f.startOffset)) return undefined;
    return { kind: 'FieldAccess', span: this.sp(e.span.start, f.endOffset! + 1), object: e, field: f.image, fieldSpan: this.tokSpan(f), arrow };
  }

  private primary: Rule<MaybeExpr> = this.RULE('primary', (): MaybeExpr => this.OR(this.primaryAlternatives), NO_RESYNC);

  private primaryAlternatives: OrMethodOpts<MaybeExpr> = {
    ERR_MSG: 'an expression',
    DEF: [
      {
        ALT: () => {
          const t = this.CONSUME(T.IntLit);
          return this.ACTION((): MaybeExpr => {
            const p = intPayload(t);
            return { kind: 'IntLiteral', span: this.tokSpan(t), value: p.value, suffix: p.suffix };
          });
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.StringLit);
          return this.ACTION((): MaybeExpr => ({ kind: 'StringLiteral', span: this.tokSpan(t), value: String(t.payload ?? '') }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.True);
          return this.ACTION((): MaybeExpr => ({ kind: 'BoolLiteral', span: this.tokSpan(t), value: true }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.False);
          return this.ACTION((): MaybeExpr => ({ kind: 'BoolLiteral', span: this.tokSpan(t), value: false }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Positional);
          return this.ACTION((): MaybeExpr => {
            const index = Number(t.image.slice(1));
            if (index === 0) this.report('E_SYNTAX', this.tokSpan(t), 'positional parameters start at $1');
            return { kind: 'PositionalParam', span: this.tokSpan(t), index, count: false };
          });
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.ParamCount);
          return this.ACTION((): MaybeExpr => ({ kind: 'PositionalParam', span: this.tokSpan(t), index: 0, count: true }));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Variable);
          return this.ACTION((): MaybeExpr => ({ kind: 'Variable', span: this.tokSpan(t), name: t.image.slice(1) }));
        },
      },
      { ALT: () => this.SUBRULE(this.mapRef) },
      { ALT: () => this.SUBRULE(this.nameOrCall) },
      { ALT: () => this.SUBRULE(this.sizeofExpr) },
      { ALT: () => this.SUBRULE(this.offsetofExpr) },
      { ALT: () => this.SUBRULE(this.parenOrTuple) },
      { ALT: () => this.SUBRULE(this.blockExpression) },
      { ALT: () => this.SUBRULE(this.ifExpression) },
    ],
  };

  /** `if c { a } else { b }` as a value (bpftrace 0.26): a conditional expression of two block expressions. */
  private ifExpression: Rule<MaybeExpr> = this.nestingRule(
    'ifExpression',
    (): MaybeExpr => {
      const kw = this.CONSUME(T.If);
      const comptime = this.OPTION({
        GATE: () => this.LA(1).image === 'comptime' && !tokenMatcher(this.LA(2), T.LBrace),
        DEF: () => this.CONSUME(T.Identifier),
      });
      const condition = this.SUBRULE(this.unary);
      const then = this.SUBRULE(this.blockExpression);
      this.CONSUME(T.Else, { ERR_MSG: "expected 'else': an if used as a value needs one" });
      const otherwise = this.OR({
        ERR_MSG: "'if' or '{' after 'else'",
        DEF: [{ ALT: () => this.SUBRULE2(this.ifExpression) }, { ALT: () => this.SUBRULE2(this.blockExpression) }],
      });
      return this.ACTION((): MaybeExpr => {
        if (!condition || !then || !otherwise) return undefined;
        return { kind: 'Ternary', span: this.from(kw.startOffset), ...(comptime ? { comptime: true } : {}), condition, then, otherwise };
      });
    },
    NO_RESYNC,
  );

  private expressionList: Rule<MaybeExpr[]> = this.RULE(
    'expressionList',
    (): MaybeExpr[] => {
      const list: MaybeExpr[] = [this.SUBRULE(this.expression)];
      this.MANY(() => {
        this.CONSUME(T.Comma);
        list.push(this.SUBRULE2(this.expression));
      });
      return list;
    },
    NO_RESYNC,
  );

  private mapRef: Rule<MaybeExpr> = this.RULE(
    'mapRef',
    (): MaybeExpr => {
      const t = this.CONSUME(T.MapName);
      const keys = this.OPTION(() => {
        this.CONSUME(T.LBracket);
        const list = this.SUBRULE(this.expressionList);
        this.CONSUME(T.RBracket);
        return list;
      });
      return this.ACTION((): MaybeExpr => {
        if (keys && keys.some((k) => !k)) return undefined;
        return {
          kind: 'MapRef',
          span: this.from(t.startOffset),
          name: t.image.slice(1),
          ...(keys ? { keys: keys as Expr[] } : {}),
        };
      });
    },
    NO_RESYNC,
  );

  private nameOrCall: Rule<MaybeExpr> = this.RULE(
    'nameOrCall',
    (): MaybeExpr => {
      const t = this.CONSUME(T.Identifier);
      const args = this.OPTION(() => {
        this.CONSUME(T.LParen);
        const list = this.OPTION2(() => this.SUBRULE(this.expressionList)) ?? [];
        this.CONSUME(T.RParen);
        return list;
      });
      return this.ACTION((): MaybeExpr => {
        const span = this.tokSpan(t);
        if (args) {
          if (args.some((a) => !a)) return undefined;
          // `pid()` is `pid` (0.24+ defines builtins as macros); kstack()/ustack() are functions of their own.
          if (args.length === 0 && isBuiltinName(t.image) && t.image !== 'kstack' && t.image !== 'ustack') {
            return { kind: 'Builtin', span: this.from(t.startOffset), name: t.image };
          }
          return { kind: 'Call', span: this.from(t.startOffset), name: t.image, nameSpan: span, args: args as Expr[] };
        }
        return isBuiltinName(t.image) ? { kind: 'Builtin', span, name: t.image } : { kind: 'Identifier', span, name: t.image };
      });
    },
    NO_RESYNC,
  );

  private sizeofExpr: Rule<MaybeExpr> = this.RULE(
    'sizeofExpr',
    (): MaybeExpr => {
      const kw = this.CONSUME(T.Sizeof);
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after 'sizeof'" });
      const operand = this.OR({
        IGNORE_AMBIGUITIES: true,
        ERR_MSG: 'a type or an expression',
        DEF: [
          { GATE: () => this.typeAhead(1), ALT: (): TypeName | MaybeExpr => this.SUBRULE(this.typeName) },
          { ALT: (): TypeName | MaybeExpr => this.SUBRULE(this.expression) },
        ],
      });
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')' after the operand of sizeof" });
      return this.ACTION((): MaybeExpr => (operand ? { kind: 'SizeOf', span: this.from(kw.startOffset), operand } : undefined));
    },
    NO_RESYNC,
  );

  private offsetofExpr: Rule<MaybeExpr> = this.RULE(
    'offsetofExpr',
    (): MaybeExpr => {
      const kw = this.CONSUME(T.Offsetof);
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after 'offsetof'" });
      const type = this.SUBRULE(this.typeName);
      this.CONSUME(T.Comma, { ERR_MSG: "expected ',' after the type in offsetof" });
      const path = [this.CONSUME(T.AnyName, { ERR_MSG: 'expected a field name' })];
      this.MANY(() => {
        this.CONSUME(T.Dot);
        path.push(this.CONSUME2(T.AnyName));
      });
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')' after the field of offsetof" });
      return this.ACTION((): MaybeExpr =>
        type ? { kind: 'OffsetOf', span: this.from(kw.startOffset), type, field: path.map((p) => p.image).join('.') } : undefined,
      );
    },
    NO_RESYNC,
  );

  /**
   * `(e)`, a tuple `(a, b)` (a trailing ',' allowed: `(a,)` has one element), or a record
   * `(x = a, y = b)` (bpftrace 0.25+).
   */
  private parenOrTuple: Rule<MaybeExpr> = this.RULE(
    'parenOrTuple',
    (): MaybeExpr => {
      const open = this.CONSUME(T.LParen);
      const names: IToken[] = [];
      const elements: MaybeExpr[] = [];
      let trailingComma = false;
      const isRecord = this.ACTION(() => this.is(1, T.Identifier) && this.is(2, T.Assign));
      this.OPTION({
        GATE: () => this.is(1, T.Identifier) && this.is(2, T.Assign),
        DEF: () => {
          names.push(this.CONSUME(T.Identifier));
          this.CONSUME(T.Assign);
        },
      });
      elements.push(this.SUBRULE(this.expression));
      this.MANY(() => {
        this.CONSUME(T.Comma);
        const more = this.OPTION2({
          GATE: () => !this.is(1, T.RParen),
          DEF: () => {
            this.OPTION3({
              GATE: () => isRecord === true,
              DEF: () => {
                names.push(this.CONSUME2(T.Identifier, { ERR_MSG: 'expected a field name (name = value) in the record' }));
                this.CONSUME2(T.Assign, { ERR_MSG: "expected '=' after the field name" });
              },
            });
            elements.push(this.SUBRULE2(this.expression));
            return true;
          },
        });
        this.ACTION(() => {
          trailingComma = more === undefined;
        });
      });
      this.CONSUME(T.RParen, { ERR_MSG: "expected ',' or ')'" });
      return this.ACTION((): MaybeExpr => {
        if (elements.length === 1 && !trailingComma && !isRecord) return elements[0];
        if (elements.some((x) => !x)) return undefined;
        const span = this.from(open.startOffset);
        if (!isRecord) return { kind: 'TupleExpr', span, elements: elements as Expr[] };
        if (names.length < elements.length) {
          this.report('E_SYNTAX', elements[names.length]!.span, 'expected a field name (name = value) in the record');
          return undefined;
        }
        const seen = new Set<string>();
        for (const n of names) {
          if (seen.has(n.image)) this.report('E_SYNTAX', this.tokSpan(n), `the record has two fields named '${n.image}'`);
          seen.add(n.image);
        }
        return { kind: 'TupleExpr', span, elements: elements as Expr[], names: names.map((n) => n.image) };
      });
    },
    NO_RESYNC,
  );

  // ----- types

  /** `const`? (`struct x` | `unsigned long` | `name`): the part of a type before `*`. */
  private typeBase = this.RULE(
    'typeBase',
    () => {
      const start = this.LA(1);
      this.SUBRULE(this.qualifiers);
      const name = this.OR({
        ERR_MSG: 'a type name',
        DEF: [
          {
            ALT: () => {
              const tag = this.CONSUME(T.TagKeyword);
              const n = this.CONSUME(T.Identifier, { ERR_MSG: "expected a name after 'struct', 'union' or 'enum'" });
              return this.ACTION(() => `${tag.image} ${n.image}`);
            },
          },
          { ALT: () => this.SUBRULE(this.typeWords).name },
        ],
      });
      return this.ACTION(() => ({ name, start: this.startOf(start), end: this.endOfLast() }));
    },
    NO_RESYNC,
  );

  /** A type in a cast, sizeof or offsetof: base, `*`s, optional `[N]`. */
  private typeName: Rule<TypeName | undefined> = this.RULE(
    'typeName',
    (): TypeName | undefined => {
      const base = this.SUBRULE(this.typeBase);
      let pointerDepth = 0;
      this.MANY(() => {
        this.CONSUME(T.Star);
        pointerDepth++;
      });
      let unsized = false;
      const array = this.OPTION(() => {
        this.CONSUME(T.LBracket);
        const n = this.OPTION2(() => this.CONSUME(T.IntLit));
        this.CONSUME(T.RBracket);
        unsized = !n;
        return n;
      });
      return this.ACTION(() => {
        if (!base) return undefined;
        return {
          kind: 'TypeName',
          span: this.from(base.start),
          name: base.name,
          pointerDepth,
          ...(array ? { arrayLength: intValue(array) } : {}),
          ...(unsized ? { unsizedArray: true } : {}),
        } satisfies TypeName;
      });
    },
    NO_RESYNC,
  );
}

// ---------------------------------------------------------------------------------------------

/**
 * `packed` and `aligned(N)` from `__attribute__((...))` tokens (also spelled `__packed__`...);
 * other attributes do not change a layout and are ignored. `aligned` alone is 16 on x86-64.
 */
function layoutAttributes(tokens: readonly IToken[]): CLayoutAttributes | undefined {
  let packed = false;
  let aligned: number | undefined;
  for (const t of tokens) {
    const inner = t.image.slice(t.image.indexOf('(')).replace(/^\(\s*\(|\)\s*\)$/g, '');
    for (const m of inner.matchAll(/(\w+)\s*(?:\(\s*(\w+)\s*\))?/g)) {
      const name = m[1]!.replace(/^__(.*)__$/, '$1');
      if (name === 'packed') packed = true;
      else if (name === 'aligned') aligned = Math.max(aligned ?? 1, m[2] !== undefined ? Number(m[2]) || 1 : 16);
    }
  }
  if (!packed && aligned === undefined) return undefined;
  return { ...(packed ? { packed } : {}), ...(aligned !== undefined ? { aligned } : {}) };
}

function hasBody(t: CType): boolean {
  return (t.kind === 'CRecordType' && t.fields !== undefined) || (t.kind === 'CEnumType' && t.enumerators !== undefined);
}

function intPayload(t: IToken): IntPayload {
  return (t.payload as IntPayload | undefined) ?? { value: 0n, suffix: '' };
}
function intValue(t: IToken): number {
  return Number(intPayload(t).value);
}

/** How a token is shown in "found ..." messages. */
export function describe(t: IToken | undefined): string {
  if (!t || t.tokenType === EOF) return 'end of input';
  const image = t.image.length > 32 ? t.image.slice(0, 32) + '…' : t.image;
  return `'${image}'`;
}

function describeExpr(e: Expr): string {
  switch (e.kind) {
    case 'Call':
      return `a call to ${e.name}()`;
    case 'Builtin':
      return `the builtin '${e.name}'`;
    case 'FieldAccess':
      return `the field '${e.field}'`;
    case 'IntLiteral':
    case 'StringLiteral':
    case 'BoolLiteral':
      return 'a literal';
    default:
      return `an expression (${e.kind})`;
  }
}

/** Built once: chevrotain grammar analysis is the expensive part. */
export const parserInstance = new TraceletParser();

/** Runs the parser over lexed tokens; diagnostics go to ctx.diagnostics. */
export function parseTokens(tokens: IToken[], ctx: ParseContext): Program {
  const p = parserInstance;
  p.start(ctx, tokens);
  const program = p.program();
  const seen = new Set<string>();
  let previous = -Infinity;
  for (const e of p.errors as IRecognitionException[]) {
    const t = e.token;
    // An error within two tokens of the previous one is usually its echo (`if $x {` → missing
    // '(' and then missing ')'): report the first only.
    const index = t && t.tokenType !== EOF ? tokens.indexOf(t) : tokens.length;
    const echo = index >= 0 && index - previous < 3;
    if (index >= 0) previous = index;
    if (echo) continue;
    const span =
      !t || t.tokenType === EOF || Number.isNaN(t.startOffset)
        ? ctx.lines.span(ctx.textLength, ctx.textLength)
        : ctx.lines.span(t.startOffset, t.endOffset! + 1);
    const key = `${span.start}:${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ctx.diagnostics.push(error('E_SYNTAX', span, `${e.message}, found ${describe(t)}`));
  }
  return (
    program ?? {
      kind: 'Program',
      span: ctx.lines.span(0, ctx.textLength),
      includes: ctx.includes,
      cDefinitions: [],
      config: [],
      probes: [],
    }
  );
}

/** The serialized grammar, for syntax diagrams. */
export function serializedGrammar() {
  return parserInstance.getSerializedGastProductions();
}
