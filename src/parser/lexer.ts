// The lexer: a chevrotain multi-mode lexer plus a post-pass that decodes literals, turns bad
// tokens into diagnostics and expands #define macros.
//
// Attach points (`uprobe:/usr/lib/libc.so.6:malloc`) are not C tokens, so the lexer has modes:
//
//   top   outside any braces. A word starting with a letter is lexed as one AttachPoint token by a
//         custom matcher (colons, paths, wildcards, quoted C++ names, `$1`...). `/` here starts a
//         predicate (pushes `pred`), `{` pushes `code`. `struct`/`union`/`enum`, `typedef` and
//         `config =` are keywords here, and the name after a tag keyword is an ordinary identifier.
//   decl  after `typedef`: C tokens up to the `;` that ends the declaration (pops).
//   pred  inside `/ ... /`: C tokens. A `/` that is followed (after blanks and comments) by `{` or
//         the end of input closes the predicate (PredEnd, pops); any other `/` is division. A `{`
//         here also leaves the predicate (recovery for a missing closing `/`).
//   code  inside braces: C tokens; `{` pushes, `}` pops.
//
// Characters no token matches are skipped by chevrotain and reported as E_INVALID_CHARACTER.

import { createToken, createTokenInstance, Lexer, type IToken, type TokenType } from 'chevrotain';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Define, LineMap } from './preprocess.js';
import type { Span } from '../model/span.js';
import { DURATION_SUFFIXES, DURATION_UNITS } from '../model/durations.js';

// ---------------------------------------------------------------------------------------------
// Token types

const tokens: TokenType[] = [];
function tok(config: Parameters<typeof createToken>[0]): TokenType {
  const t = createToken(config);
  tokens.push(t);
  return t;
}

// Categories (abstract: never produced by the lexer)
export const AnyName = createToken({ name: 'AnyName', pattern: Lexer.NA, label: 'a name' });
export const AssignOp = createToken({ name: 'AssignOp', pattern: Lexer.NA, label: "'='" });
export const EqualityOp = createToken({ name: 'EqualityOp', pattern: Lexer.NA, label: "'==' or '!='" });
export const RelationalOp = createToken({ name: 'RelationalOp', pattern: Lexer.NA, label: "'<', '<=', '>' or '>='" });
export const ShiftOp = createToken({ name: 'ShiftOp', pattern: Lexer.NA, label: "'<<' or '>>'" });
export const AdditiveOp = createToken({ name: 'AdditiveOp', pattern: Lexer.NA, label: "'+' or '-'" });
export const MultiplicativeOp = createToken({ name: 'MultiplicativeOp', pattern: Lexer.NA, label: "'*', '/' or '%'" });
export const PrefixOp = createToken({ name: 'PrefixOp', pattern: Lexer.NA, label: 'a unary operator' });
export const IncDecOp = createToken({ name: 'IncDecOp', pattern: Lexer.NA, label: "'++' or '--'" });
export const TagKeyword = createToken({ name: 'TagKeyword', pattern: Lexer.NA, label: "'struct', 'union' or 'enum'" });
export const LBrace = createToken({ name: 'LBrace', pattern: Lexer.NA, label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: Lexer.NA, label: "'}'" });

// Trivia
export const WhiteSpace = tok({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v]+/, group: Lexer.SKIPPED, line_breaks: true });
export const LineComment = tok({ name: 'LineComment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
export const BlockComment = tok({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED, line_breaks: true });
/** `/*` without `*\/`: reported, then dropped. */
export const UnterminatedComment = tok({ name: 'UnterminatedComment', pattern: /\/\*[\s\S]*/, line_breaks: true });

// Literals and names
export const StringLit = tok({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\.)*"/, label: 'a string' });
/** A string cut short by the end of the line; reported, then parsed as a StringLit. */
export const UnterminatedString = tok({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n]|\\.)*\\?/ });
/** Deliberately greedy (`123abc` is one bad literal, not a number and a name); validated later. */
export const IntLit = tok({ name: 'IntLit', pattern: /[0-9][0-9A-Za-z_]*/, label: 'an integer' });
export const Variable = tok({ name: 'Variable', pattern: /\$[A-Za-z_][A-Za-z0-9_]*/, label: 'a variable' });
export const Positional = tok({ name: 'Positional', pattern: /\$[0-9]+/, label: 'a positional parameter' });
export const ParamCount = tok({ name: 'ParamCount', pattern: /\$#/, label: "'$#'" });
export const MapName = tok({ name: 'MapName', pattern: /@[A-Za-z_][A-Za-z0-9_]*|@/, label: 'a map' });
export const Identifier = tok({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: 'a name', categories: [AnyName] });

function keyword(word: string, categories: TokenType[] = [], extra: object = {}): TokenType {
  return tok({
    name: word[0]!.toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    label: `'${word}'`,
    categories: [AnyName, ...categories],
    ...extra,
  });
}
export const If = keyword('if');
export const Else = keyword('else');
export const While = keyword('while');
export const For = keyword('for');
export const Unroll = keyword('unroll');
export const Return = keyword('return');
export const Break = keyword('break');
export const Continue = keyword('continue');
export const Sizeof = keyword('sizeof');
export const Offsetof = keyword('offsetof');
/** `let $x = e;` (bpftrace 0.22+). */
export const Let = keyword('let');
export const True = keyword('true');
export const False = keyword('false');
export const Struct = keyword('struct', [TagKeyword]);
export const Union = keyword('union', [TagKeyword]);
export const Enum = keyword('enum', [TagKeyword]);
/** `typedef` at the top level: its declaration, up to the `;`, is C tokens (mode decl). */
export const Typedef = keyword('typedef', [], { push_mode: 'decl' });

// Punctuation, longest first where prefixes overlap
function punct(name: string, image: string, categories: TokenType[] = [], extra: object = {}): TokenType {
  const escaped = image.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return tok({ name, pattern: new RegExp(escaped), label: `'${image}'`, categories, ...extra });
}
export const ShlAssign = punct('ShlAssign', '<<=', [AssignOp]);
export const ShrAssign = punct('ShrAssign', '>>=', [AssignOp]);
export const Arrow = punct('Arrow', '->');
export const PlusPlus = punct('PlusPlus', '++', [IncDecOp]);
export const MinusMinus = punct('MinusMinus', '--', [IncDecOp]);
export const PlusAssign = punct('PlusAssign', '+=', [AssignOp]);
export const MinusAssign = punct('MinusAssign', '-=', [AssignOp]);
export const StarAssign = punct('StarAssign', '*=', [AssignOp]);
export const SlashAssign = punct('SlashAssign', '/=', [AssignOp]);
export const PercentAssign = punct('PercentAssign', '%=', [AssignOp]);
export const AmpAssign = punct('AmpAssign', '&=', [AssignOp]);
export const PipeAssign = punct('PipeAssign', '|=', [AssignOp]);
export const CaretAssign = punct('CaretAssign', '^=', [AssignOp]);
export const EqEq = punct('EqEq', '==', [EqualityOp]);
export const NotEq = punct('NotEq', '!=', [EqualityOp]);
export const LtEq = punct('LtEq', '<=', [RelationalOp]);
export const GtEq = punct('GtEq', '>=', [RelationalOp]);
export const AndAnd = punct('AndAnd', '&&');
export const OrOr = punct('OrOr', '||');
export const Shl = punct('Shl', '<<', [ShiftOp]);
export const Shr = punct('Shr', '>>', [ShiftOp]);
export const Lt = punct('Lt', '<', [RelationalOp]);
export const Gt = punct('Gt', '>', [RelationalOp]);
export const Assign = punct('Assign', '=', [AssignOp]);
export const Plus = punct('Plus', '+', [AdditiveOp, PrefixOp]);
export const Minus = punct('Minus', '-', [AdditiveOp, PrefixOp]);
export const Star = punct('Star', '*', [MultiplicativeOp, PrefixOp]);
export const Slash = punct('Slash', '/', [MultiplicativeOp]);
export const Percent = punct('Percent', '%', [MultiplicativeOp]);
export const Amp = punct('Amp', '&', [PrefixOp]);
export const Pipe = punct('Pipe', '|');
export const Caret = punct('Caret', '^');
export const Bang = punct('Bang', '!', [PrefixOp]);
export const Tilde = punct('Tilde', '~', [PrefixOp]);
export const Question = punct('Question', '?');
export const Colon = punct('Colon', ':');
export const Semi = punct('Semi', ';');
export const Comma = punct('Comma', ',');
export const Dot = punct('Dot', '.');
export const LParen = punct('LParen', '(');
export const RParen = punct('RParen', ')');
export const LBracket = punct('LBracket', '[');
export const RBracket = punct('RBracket', ']');
/** `{` in top and code mode: enters code. */
export const LBraceCode = punct('LBraceCode', '{', [LBrace], { push_mode: 'code' });
/** `{` in a predicate: leaves the predicate and enters code. */
export const LBracePred = punct('LBracePred', '{', [LBrace], { pop_mode: true, push_mode: 'code' });
/** `}` in code: back to the enclosing mode. */
export const RBraceCode = punct('RBraceCode', '}', [RBrace], { pop_mode: true });
/** A stray `}` outside braces: nothing to pop. */
export const RBraceTop = punct('RBraceTop', '}', [RBrace]);
/** The `;` that ends a typedef: back to the top level. */
export const SemiDecl = punct('SemiDecl', ';', [Semi], { pop_mode: true });

/** A `/` in probe-header position: starts a predicate. */
export const PredStart = tok({ name: 'PredStart', pattern: /\//, label: "'/'", push_mode: 'pred' });
/** The `/` that ends a predicate (it is followed by `{`). */
export const PredEnd = tok({
  name: 'PredEnd',
  pattern: { exec: matchPredEnd },
  line_breaks: false,
  start_chars_hint: ['/'],
  label: "'/' (end of the predicate)",
  pop_mode: true,
});

/** `config` followed by `=`, at the top level. */
export const Config = tok({
  name: 'Config',
  pattern: { exec: matchConfig },
  line_breaks: false,
  start_chars_hint: ['c'],
  label: "'config'",
});

/**
 * A GCC attribute in a C definition, parentheses included, as one token in every mode:
 * `__attribute__((packed))`, `__attribute__((aligned(8)))`. The parser reads its text.
 */
export const AttributeTok = tok({
  name: 'Attribute',
  pattern: { exec: matchAttribute },
  line_breaks: false,
  start_chars_hint: ['_'],
  label: "'__attribute__((...))'",
});

/** `macro` before a name, at the top level (bpftrace 0.24+: `macro name(args) { ... }`). */
export const MacroKw = tok({
  name: 'Macro',
  pattern: { exec: matchMacro },
  line_breaks: false,
  start_chars_hint: ['m'],
  label: "'macro'",
});

/** `import` before a string, at the top level (bpftrace 0.24+: `import "file.bt";`). */
export const ImportKw = tok({
  name: 'Import',
  pattern: { exec: matchImport },
  line_breaks: false,
  start_chars_hint: ['i'],
  label: "'import'",
});

/** `let` before a map, at the top level (a map declaration: `let @m = lruhash(100);`). */
export const LetMapKw = tok({
  name: 'LetMap',
  pattern: { exec: matchLetMap },
  line_breaks: false,
  start_chars_hint: ['l'],
  label: "'let'",
});

/** A whole attach point: `kprobe:vfs_read`, `uprobe:/bin/bash:readline`, `BEGIN`... */
export const AttachPointTok = tok({
  name: 'AttachPoint',
  pattern: { exec: matchAttachPoint },
  line_breaks: false,
  start_chars_hint: [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'],
  label: 'an attach point',
});

// ---------------------------------------------------------------------------------------------
// Custom matchers

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
/** Characters of an attach-point field besides letters and digits: `_ - . * ? + / $ @`. */
function isApChar(c: number): boolean {
  return isIdentChar(c) || c === 45 || c === 46 || c === 42 || c === 63 || c === 43 || c === 47 || c === 36 || c === 64;
}
function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}

/** Offset of the next character that is not a blank or inside a comment. */
function skipTrivia(text: string, i: number): number {
  for (;;) {
    while (i < text.length && isBlank(text.charCodeAt(i))) i++;
    if (text.startsWith('//', i)) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (text.startsWith('/*', i)) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return text.length;
      i = close + 2;
    } else return i;
  }
}

function matchPredEnd(text: string, offset: number): [string] | null {
  if (text.charCodeAt(offset) !== 47 /* / */) return null;
  const next = skipTrivia(text, offset + 1);
  return next >= text.length || text.charCodeAt(next) === 123 /* { */ ? ['/'] : null;
}

function matchConfig(text: string, offset: number): [string] | null {
  if (!text.startsWith('config', offset) || isIdentChar(text.charCodeAt(offset + 6))) return null;
  const next = skipTrivia(text, offset + 6);
  return text.charCodeAt(next) === 61 /* = */ && text.charCodeAt(next + 1) !== 61 ? ['config'] : null;
}

function matchMacro(text: string, offset: number): [string] | null {
  if (!text.startsWith('macro', offset) || isIdentChar(text.charCodeAt(offset + 5))) return null;
  const next = skipTrivia(text, offset + 5);
  return next > offset + 5 && isIdentStart(text.charCodeAt(next)) ? ['macro'] : null;
}

/** `word` as a whole word, when the next non-blank character passes `next`. */
function keywordBefore(text: string, offset: number, word: string, next: (c: number) => boolean): [string] | null {
  if (!text.startsWith(word, offset) || isIdentChar(text.charCodeAt(offset + word.length))) return null;
  return next(text.charCodeAt(skipTrivia(text, offset + word.length))) ? [word] : null;
}

function matchImport(text: string, offset: number): [string] | null {
  return keywordBefore(text, offset, 'import', (c) => c === 34 /* " */);
}

function matchLetMap(text: string, offset: number): [string] | null {
  return keywordBefore(text, offset, 'let', (c) => c === 64 /* @ */);
}

function matchAttribute(text: string, offset: number): [string] | null {
  if (!text.startsWith('__attribute__', offset) || isIdentChar(text.charCodeAt(offset + 13))) return null;
  let i = skipTrivia(text, offset + 13);
  if (text.charCodeAt(i) !== 40 /* ( */) return null;
  // Up to the parenthesis that closes the first one (unbalanced: not an attribute).
  for (let depth = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41 && --depth === 0) return [text.slice(offset, i + 1)];
    else if (c === 10 || c === 123 || c === 125 || c === 59) return null; // newline { } ;
  }
  return null;
}

function matchAttachPoint(text: string, offset: number, matched: IToken[]): [string] | null {
  if (!isIdentStart(text.charCodeAt(offset))) return null;
  const prev = matched[matched.length - 1];
  // The name after a tag (`struct s`, `struct __attribute__((packed)) s`) is not an attach point.
  const t = prev?.tokenType;
  if (t === Struct || t === Union || t === Enum || t === AttributeTok || t === MacroKw) return null;
  // The map type of a declaration (`let @m = lruhash(100)`) is a name.
  if (t === Assign && matched[matched.length - 2]?.tokenType === MapName) return null;
  let i = offset + 1;
  while (i < text.length && isIdentChar(text.charCodeAt(i))) i++;
  const word = text.slice(offset, i);
  if (word === 'struct' || word === 'union' || word === 'enum' || word === 'typedef') return null;
  if (word === 'config' && matchConfig(text, offset)) return null;
  if (word === 'macro' && matchMacro(text, offset)) return null;
  if ((word === 'import' && matchImport(text, offset)) || (word === 'let' && matchLetMap(text, offset))) return null;
  // Provider: the word plus any further field characters except '/' (so `kprobe/pid/` works).
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 47 || !isApChar(c)) break;
    i++;
  }
  while (text.charCodeAt(i) === 58 /* : */) i = scanField(text, i + 1);
  return [text.slice(offset, i)];
}

/**
 * One field after a ':'. Paths may contain '/', but a '/' after an ordinary word starts a
 * predicate (`kprobe:f/pid == 1/`) unless more fields follow (`uprobe:lib/x.so:f`).
 */
function scanField(text: string, i: number): number {
  const start = i;
  let firstSlash = -1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const open = i++;
      let closed = false;
      while (i < text.length) {
        const q = text.charCodeAt(i);
        if (q === 10) break;
        i++;
        if (q === 92 /* \ */ && i < text.length) i++;
        else if (q === 34) {
          closed = true;
          break;
        }
      }
      if (!closed) {
        // Unterminated: keep the quote and the word after it; the rest of the line is not ours.
        i = open + 1;
        while (i < text.length && (isApChar(text.charCodeAt(i)) || text.charCodeAt(i) === 58)) i++;
        return i;
      }
      continue;
    }
    if (!isApChar(c)) break;
    if (c === 47 && firstSlash < 0) firstSlash = i;
    i++;
  }
  const head = text.charCodeAt(start);
  if (firstSlash >= 0 && head !== 47 && head !== 46 && text.charCodeAt(i) !== 58) return firstSlash;
  return i;
}

// ---------------------------------------------------------------------------------------------
// The chevrotain lexer

const trivia = [WhiteSpace, LineComment, BlockComment, UnterminatedComment];
const literalsAndNames = [StringLit, UnterminatedString, IntLit, Variable, Positional, ParamCount, MapName];
const keywords = [If, Else, While, For, Unroll, Return, Break, Continue, Sizeof, Offsetof, Let, True, False, Struct, Union, Enum];
const operators = [
  ShlAssign, ShrAssign, Arrow, PlusPlus, MinusMinus, PlusAssign, MinusAssign, StarAssign, SlashAssign, PercentAssign,
  AmpAssign, PipeAssign, CaretAssign, EqEq, NotEq, LtEq, GtEq, AndAnd, OrOr, Shl, Shr, Lt, Gt, Assign, Plus, Minus,
  Star, Percent, Amp, Pipe, Caret, Bang, Tilde, Question, Colon, Semi, Comma, Dot, LParen, RParen, LBracket, RBracket,
];

const lexerDefinition = {
  defaultMode: 'top',
  modes: {
    top: [
      // Other keywords are unreachable here: the attach-point matcher claims every other word.
      ...trivia, AttributeTok, MacroKw, ImportKw, LetMapKw, AttachPointTok, Config, Struct, Union, Enum, Typedef, ...literalsAndNames, Identifier,
      ...operators, PredStart, LBraceCode, RBraceTop,
    ],
    decl: [
      ...trivia, ...literalsAndNames, ...keywords, AttributeTok, Identifier,
      SemiDecl, ...operators.filter((t) => t !== Semi), Slash, LBraceCode, RBraceTop,
    ],
    pred: [
      ...trivia, ...literalsAndNames, ...keywords, Identifier,
      PredEnd, ...operators, Slash, LBracePred, RBraceTop,
    ],
    code: [
      ...trivia, ...literalsAndNames, ...keywords, AttributeTok, Identifier,
      ...operators, Slash, LBraceCode, RBraceCode,
    ],
  },
};

/**
 * chevrotain's checks of the lexer and grammar definitions cost ~40% of building the parser at
 * start-up (every run of the CLI) and can only fail on a change to the grammar itself. They run
 * under vitest (the parser tests build both with them) and when TRACELET_VALIDATE_GRAMMAR=1.
 */
export const SKIP_GRAMMAR_VALIDATIONS = !process.env.VITEST && process.env.TRACELET_VALIDATE_GRAMMAR !== '1';

const chevLexer = new Lexer(lexerDefinition, {
  positionTracking: 'onlyOffset',
  ensureOptimizations: false,
  skipValidations: SKIP_GRAMMAR_VALIDATIONS,
});

/** Every token type the parser may see (categories included). */
export const allTokenTypes: TokenType[] = [
  AnyName, AssignOp, EqualityOp, RelationalOp, ShiftOp, AdditiveOp, MultiplicativeOp, PrefixOp, IncDecOp, TagKeyword,
  LBrace, RBrace, ...tokens,
];

// ---------------------------------------------------------------------------------------------
// The post-pass

/** Decoded value of an IntLit token (in `payload`). */
export interface IntPayload {
  readonly value: bigint;
  readonly suffix: string;
}

const U64_MAX = (1n << 64n) - 1n;
const INT_SUFFIXES = new Set(['', 'u', 'l', 'ul', 'lu', 'll', 'ull', 'llu']);

export interface LexResult {
  readonly tokens: IToken[];
  readonly diagnostics: Diagnostic[];
}

/**
 * Tokenizes preprocessed text (same offsets as the original). String tokens carry their decoded
 * value in `payload`, IntLit tokens an IntPayload.
 */
export function lex(text: string, lines: LineMap, defines: ReadonlyMap<string, Define>): LexResult {
  const diagnostics: Diagnostic[] = [];
  const out: IToken[] = [];
  const raw = chevLexer.tokenize(text);
  // chevrotain skips characters no pattern matches and reports them; one diagnostic per run of
  // adjacent bad characters.
  for (let i = 0; i < raw.errors.length; i++) {
    const start = raw.errors[i]!.offset;
    let end = start + raw.errors[i]!.length;
    while (i + 1 < raw.errors.length && raw.errors[i + 1]!.offset === end) end += raw.errors[++i]!.length;
    const shown = text.slice(start, end);
    diagnostics.push(error('E_INVALID_CHARACTER', lines.span(start, end), `unexpected character${shown.length > 1 ? 's' : ''} '${printable(shown)}'`));
  }
  postProcess(raw.tokens, out, diagnostics, lines, defines, new Set(), undefined);
  return { tokens: out, diagnostics };
}

function postProcess(
  input: IToken[],
  out: IToken[],
  diagnostics: Diagnostic[],
  lines: LineMap,
  defines: ReadonlyMap<string, Define>,
  expanding: Set<string>,
  /** For tokens of a macro expansion: the token of the macro name they replace. */
  site: IToken | undefined,
): void {
  const spanOf = (t: IToken) => (site ? lines.span(site.startOffset, site.endOffset! + 1) : lines.span(t.startOffset, t.endOffset! + 1));
  for (let i = 0; i < input.length; i++) {
    let t = input[i]!;
    // 'onlyOffset' position tracking leaves endOffset (inclusive) unset.
    t.endOffset = t.startOffset + t.image.length - 1;
    if (site) t = relocate(t, site);
    switch (t.tokenType) {
      case UnterminatedComment:
        diagnostics.push(
          error('E_UNTERMINATED_COMMENT', site ? spanOf(t) : lines.span(t.startOffset, t.startOffset + 2), "unterminated comment: '/*' without '*/'"),
        );
        break;
      case UnterminatedString: {
        diagnostics.push(
          error('E_UNTERMINATED_STRING', spanOf(t), 'unterminated string: missing closing \'"\' before the end of the line'),
        );
        const fixed = createTokenInstance(StringLit, t.image, t.startOffset, t.endOffset!, NaN, NaN, NaN, NaN);
        fixed.payload = decodeString(t, t.image.slice(1), diagnostics, lines, site);
        out.push(fixed);
        break;
      }
      case StringLit:
        t.payload = decodeString(t, t.image.slice(1, -1), diagnostics, lines, site);
        out.push(t);
        break;
      case IntLit:
        t.payload = decodeInt(t, diagnostics, spanOf);
        out.push(t);
        break;
      case Identifier: {
        const def = defines.get(t.image);
        if (def && !expanding.has(def.name)) {
          const sub = chevLexer.tokenize(def.value, 'code');
          expanding.add(def.name);
          postProcess(sub.tokens, out, diagnostics, lines, defines, expanding, site ?? t);
          expanding.delete(def.name);
        } else out.push(t);
        break;
      }
      default:
        out.push(t);
    }
  }
}

/** A token of a macro expansion, placed at the macro name it came from. */
function relocate(t: IToken, site: IToken): IToken {
  return { ...t, startOffset: site.startOffset, endOffset: site.endOffset };
}

function printable(s: string): string {
  return s.length > 20 ? s.slice(0, 20) + '…' : s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v', e: '\x1b',
};

/** Decodes the body of a string literal; `t.startOffset + 1` is the offset of `body[0]`. */
function decodeString(t: IToken, body: string, diagnostics: Diagnostic[], lines: LineMap, site: IToken | undefined): string {
  const base = t.startOffset + 1;
  const at = (from: number, to: number) => (site ? lines.span(site.startOffset, site.endOffset! + 1) : lines.span(base + from, base + to));
  if (body.includes('\0')) {
    // bpftrace 0.17 refuses a raw NUL byte in a literal (its escapes \0 and \x00 are fine).
    diagnostics.push(error('E_NUL_IN_STRING', at(-1, t.image.length - 1), 'a NUL byte inside a string literal', 'write it as \\0 if it is meant'));
  }
  if (!body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[i + 1];
    if (n === undefined) {
      // A trailing backslash of an unterminated string; already reported.
      break;
    }
    if (n in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[n];
      i++;
    } else if (n === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 2))?.[0];
      if (!hex) {
        diagnostics.push(error('E_BAD_ESCAPE', at(i, i + 2), "'\\x' must be followed by one or two hex digits", 'e.g. \\x41'));
        out += 'x';
        i++;
      } else {
        out += byteChar(parseInt(hex, 16));
        i += 1 + hex.length;
      }
    } else if (n >= '0' && n <= '7') {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1))![0];
      const value = parseInt(oct, 8);
      if (value > 255) {
        diagnostics.push(error('E_BAD_ESCAPE', at(i, i + 1 + oct.length), `octal escape '\\${oct}' is out of range (largest is \\377)`));
      }
      out += byteChar(value & 0xff);
      i += oct.length;
    } else {
      diagnostics.push(
        error('E_BAD_ESCAPE', at(i, i + 2), `invalid escape sequence '\\${n}'`, 'valid escapes: \\n \\t \\r \\\\ \\" \\xNN \\NNN (octal)'),
      );
      out += n;
      i++;
    }
  }
  return out;
}

/** `spanOf` is called only for a diagnostic: computing spans of all literals up front was measurable. */
function decodeInt(t: IToken, diagnostics: Diagnostic[], spanOf: (t: IToken) => Span): IntPayload {
  const image = t.image;
  const bad = (why: string, hint?: string): IntPayload => {
    diagnostics.push(error('E_INVALID_INTEGER', spanOf(t), `invalid integer literal '${image}': ${why}`, hint));
    return { value: 0n, suffix: '' };
  };
  let digits: string;
  let exponent = 0n;
  let suffix: string;
  let radix = 10;
  let unit = 1n;
  const hex = /^0[xX]([0-9a-fA-F_]*)([uUlL]*)$/.exec(image);
  if (hex) {
    digits = hex[1]!;
    suffix = hex[2]!.toLowerCase();
    radix = 16;
    if (digits.replace(/_/g, '') === '') return bad('no digits after 0x');
  } else {
    const dec = /^([0-9][0-9_]*)(?:[eE]([0-9_]+))?([uUlL]*|[a-z]+)$/.exec(image);
    if (!dec) {
      const m = /^[0-9_]*(?:[eE][0-9_]+)?/.exec(image)![0];
      return bad(`unexpected '${image[m.length]}'`, `integer literals may end in u, l, ul, ll or ull, or a duration (${DURATION_SUFFIXES})`);
    }
    digits = dec[1]!;
    suffix = dec[3]!.toLowerCase();
    // A duration (bpftrace 0.24+: `100ms`) is an integer of nanoseconds, typed as a plain literal.
    if (suffix in DURATION_UNITS && dec[3] === suffix) {
      unit = DURATION_UNITS[suffix]!;
      suffix = '';
    }
    if (dec[2] !== undefined) {
      if (dec[2].endsWith('_') || dec[2].startsWith('_')) return bad("misplaced '_' separator");
      exponent = BigInt(dec[2].replace(/_/g, ''));
    } else if (digits.length > 1 && digits.startsWith('0')) {
      radix = 8;
      const wrong = /[89]/.exec(digits);
      if (wrong) return bad(`digit '${wrong[0]}' in an octal literal`, 'a leading 0 makes a literal octal');
    }
  }
  if (digits.endsWith('_') || digits.startsWith('_')) return bad("misplaced '_' separator");
  if (!INT_SUFFIXES.has(suffix)) return bad(`unknown suffix '${suffix}'`, `use u, l, ul, ll or ull, or a duration (${DURATION_SUFFIXES})`);
  const clean = digits.replace(/_/g, '');
  let value = radix === 16 ? BigInt('0x' + clean) : radix === 8 ? BigInt('0o' + clean) : BigInt(clean);
  if (exponent > 0n && value !== 0n) {
    if (exponent > 20n) value = U64_MAX + 1n;
    else value *= 10n ** exponent;
  }
  value *= unit;
  if (value > U64_MAX) {
    diagnostics.push(
      error('E_INTEGER_TOO_LARGE', spanOf(t), `integer literal '${image}' does not fit in 64 bits`, 'the largest is 18446744073709551615 (0xffffffffffffffff)'),
    );
    return { value: 0n, suffix };
  }
  return { value, suffix };
}

/**
 * A byte written as an escape (`\xff`, `\377`). Bytes >= 0x80 become U+DC80..U+DCFF (lone
 * surrogates, as Python's surrogateescape), so they stay raw bytes and do not turn into UTF-8
 * sequences when the string is encoded (see stringBytes in model/strings.ts).
 */
function byteChar(b: number): string {
  return String.fromCharCode(b >= 0x80 ? 0xdc00 + b : b);
}
