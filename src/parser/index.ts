// The parser stage: source text → AST (src/model/ast.ts) + diagnostics.
//
//   preprocess (comments-aware #include/#define/#ifdef, shebang) → lex (chevrotain, with modes for
//   probe headers) → parse (chevrotain, with error recovery) → Program.
//
// `parse` never throws: whatever the input, it returns the program it could build and the
// diagnostics, sorted by position.

import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Program } from '../model/ast.js';
import type { Span } from '../model/span.js';
import { error, hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import { LineMap, preprocess } from './preprocess.js';
import { For, Let, lex } from './lexer.js';
import { resolveScopes } from './scopes.js';
import { expandMacros } from './macros.js';
import { resolveImports } from './imports.js';
import { mayUseStdlib, STDLIB_FILE, STDLIB_SOURCE } from './stdlib.js';
import { resolveGetopt, type NamedParams } from './getopt.js';
import { MAX_NESTING, parseTokens, TooDeep } from './parser.js';
import { nodeDeeperThan } from '../model/walk.js';

export interface ParseOptions {
  /** Command-line positional parameters: `$1` is params[0]. Used in attach points. */
  readonly params?: readonly string[];
  /** Named parameters (`-- --name=value`), the values of getopt("name", ...). */
  readonly named?: NamedParams;
  /** The script's file, for `import` (relative to its directory); none: the current directory (-e). */
  readonly path?: string;
}

export interface ParseResult {
  readonly program: Program;
  readonly diagnostics: Diagnostic[];
}

export function parse(text: string, options: ParseOptions = {}): ParseResult {
  const lines = new LineMap(text);
  try {
    const diagnostics: Diagnostic[] = [];
    // Only declarations (`let`, a range `for`) need the scope pass; 0.17 programs skip it.
    let declares = false;
    let getopt = text.includes('getopt');
    let stdlib = mayUseStdlib(text);
    const parseFile = (fileLines: LineMap): Program => {
      const pre = preprocess(fileLines.text, fileLines);
      const lexed = lex(pre.text, fileLines, pre.defines);
      diagnostics.push(...pre.diagnostics, ...lexed.diagnostics);
      declares ||= lexed.tokens.some((t) => t.tokenType === Let || t.tokenType === For);
      // `#include "file"` is looked for beside the including script first (the current directory for -e), as cpp does.
      const dir = fileLines.file ? dirname(fileLines.file.name) : options.path ? dirname(options.path) : process.cwd();
      const includes = pre.includes.map((i) => (i.quoted && !isAbsolute(i.path) && existsSync(join(dir, i.path)) ? { ...i, path: join(dir, i.path) } : i));
      return parseTokens(lexed.tokens, {
        lines: fileLines, params: options.params ?? [], diagnostics, includes, textLength: fileLines.text.length,
      });
    };
    const root = parseFile(lines);
    const imported = root.imports ? resolveImports(root, options.path, (file) => {
      getopt ||= file.text.includes('getopt');
      stdlib ||= mayUseStdlib(file.text);
      return parseFile(new LineMap(file.text, file));
    }, diagnostics) : root;
    const parsed = stdlib ? withStdlib(imported, parseFile(new LineMap(STDLIB_SOURCE, { name: STDLIB_FILE, text: STDLIB_SOURCE }))) : imported;
    const expanded = parsed.macros ? expandMacros(parsed, diagnostics) : parsed;
    const scoped = declares ? resolveScopes(expanded, diagnostics) : expanded;
    const program = getopt || options.named?.size
      ? resolveGetopt(scoped, options.named ?? new Map(), lines.span(0, 0), diagnostics) : scoped;
    // The parser bounds its own nesting; operator chains are flat there but deep in the AST, which
    // later stages walk recursively.
    const deep = nodeDeeperThan(program, MAX_NESTING);
    if (deep) diagnostics.push(tooDeep(deep.span));
    // After a syntax error, recovery may read the same tokens as something else (`} x;` makes `x`
    // an attach point); the syntax error is the one that explains them.
    const where = (d: Diagnostic) => `${d.span.file?.name ?? ''}:${d.span.start}:${d.span.end}`;
    const syntaxSpans = new Set(diagnostics.filter((d) => d.code === 'E_SYNTAX').map(where));
    const shown = diagnostics.filter((d) => d.code === 'E_SYNTAX' || !syntaxSpans.has(where(d)));
    // Nothing to attach would run forever doing nothing; bpftrace refuses it too (rc 1).
    if (program.probes.length === 0 && !hasErrors(shown)) {
      const end = text.trimEnd().length;
      shown.push(error('E_NO_PROBES', lines.span(end, end), 'the program has no probes', 'a program is one or more probes, e.g. BEGIN { printf("hello\\n"); }'));
    }
    // The script's own first, then each imported file's.
    const file = (d: Diagnostic) => d.span.file?.name ?? '';
    shown.sort((a, b) => file(a).localeCompare(file(b)) || a.span.start - b.span.start || a.span.end - b.span.end);
    return { program, diagnostics: shown };
  } catch (e) {
    const program: Program = { kind: 'Program', span: lines.span(0, text.length), includes: [], cDefinitions: [], config: [], probes: [] };
    if (e instanceof TooDeep) {
      const start = Number.isNaN(e.token.startOffset) ? text.length : e.token.startOffset;
      return { program, diagnostics: [tooDeep(lines.span(start, Number.isNaN(e.token.startOffset) ? start : e.token.endOffset! + 1))] };
    }
    if (e instanceof RangeError && /call stack/.test(e.message)) {
      // Node's stack ran out before MAX_NESTING: the caller did not give it bin/tracelet's stack.
      return {
        program,
        diagnostics: [error('E_TOO_DEEP', lines.span(0, 0), 'the program nests too deeply for the stack tracelet was given',
          `${MAX_NESTING.toLocaleString('en-US')} levels take the 256 MiB stack bin/tracelet asks for: allow it (ulimit -Hs), or give node a larger --stack-size`)],
      };
    }
    // A bug in the parser, not in the program: still no exception for the caller.
    const span = lines.span(0, 0);
    return {
      program,
      diagnostics: [error('E_INTERNAL', span, `internal parser error: ${(e as Error)?.message ?? String(e)}`, 'please report this')],
    };
  }
}

function tooDeep(span: Span): Diagnostic {
  return error('E_TOO_DEEP', span, `the program nests more than ${MAX_NESTING.toLocaleString('en-US')} levels deep here`,
    'parentheses, calls, operators and blocks each nest a level; split the expression with variables ($x = ...)');
}

export { LineMap } from './preprocess.js';
export { splitNamedParams } from './getopt.js';
export { isBuiltinName, BUILTIN_NAMES } from './parser.js';

/** The program with the library's macros that it does not define itself (a name and number of parameters). */
function withStdlib(program: Program, library: Program): Program {
  const own = new Set((program.macros ?? []).map((m) => `${m.name}/${m.params.length}`));
  const added = (library.macros ?? []).filter((m) => !own.has(`${m.name}/${m.params.length}`));
  return { ...program, macros: [...(program.macros ?? []), ...added] };
}
