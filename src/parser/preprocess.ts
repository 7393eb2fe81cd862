// The preprocessor: the small part of cpp that bpftrace scripts use.
//
// It never changes offsets: directive lines, the shebang line and the lines of inactive
// #ifdef/#ifndef branches are blanked (every character but '\n' becomes a space), so spans computed
// on the result point into the original text. `#include` lines become Include nodes, `#define`s
// are returned for the lexer to expand at the token level (expanded tokens keep the span of the
// name they replaced).

import type { Include } from '../model/ast.js';
import type { SourceText, Span } from '../model/span.js';
import { error, warning, type Diagnostic } from '../diagnostics/diagnostic.js';

/** Offsets → 1-based line/column spans, by binary search over line starts. */
export class LineMap {
  private readonly lineStarts: number[] = [0];

  /** `file`: set for an imported script, so its spans say which file they are in. */
  constructor(readonly text: string, readonly file?: SourceText) {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
  }

  position(offset: number): { line: number; column: number } {
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  span(start: number, end: number): Span {
    const s = this.position(start);
    const e = end === start ? s : this.position(end);
    const span = { start, end, line: s.line, column: s.column, endLine: e.line, endColumn: e.column };
    return this.file ? { ...span, file: this.file } : span;
  }
}

export interface Define {
  readonly name: string;
  /** The replacement text (may be empty). */
  readonly value: string;
}

export interface PreprocessResult {
  /** Same length as the input; directives and inactive regions blanked. */
  readonly text: string;
  readonly includes: Include[];
  readonly defines: Map<string, Define>;
  readonly diagnostics: Diagnostic[];
}

/** Macros defined before the script is read. tracelet always has kernel BTF. */
export const PREDEFINED_MACROS: readonly Define[] = [{ name: 'BPFTRACE_HAVE_BTF', value: '1' }];

interface Conditional {
  /** Whether the enclosing region is active. */
  readonly parentActive: boolean;
  /** Whether some branch of this conditional has been taken already. */
  taken: boolean;
  active: boolean;
  seenElse: boolean;
  readonly span: Span;
  readonly directive: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

export function preprocess(text: string, lines: LineMap): PreprocessResult {
  // Copied to characters only when something must be blanked: most scripts have no directives.
  let out: string[] | undefined;
  const includes: Include[] = [];
  const diagnostics: Diagnostic[] = [];
  const defines = new Map<string, Define>();
  for (const d of PREDEFINED_MACROS) defines.set(d.name, d);
  const stack: Conditional[] = [];
  const active = () => stack.length === 0 || stack[stack.length - 1]!.active;
  const blank = (from: number, to: number) => {
    out ??= text.split('');
    for (let i = from; i < to; i++) if (out[i] !== '\n') out[i] = ' ';
  };

  let inBlockComment = false;
  let offset = 0;
  let lineNo = 0;
  while (offset <= text.length) {
    let lineEnd = text.indexOf('\n', offset);
    if (lineEnd < 0) lineEnd = text.length;
    lineNo++;
    const line = text.slice(offset, lineEnd);
    const lead = line.length - line.trimStart().length;

    if (!inBlockComment && line.charCodeAt(lead) === 35 /* # */) {
      if (lineNo === 1 && line.startsWith('#!')) {
        blank(offset, lineEnd);
      } else {
        // A directive, possibly continued with trailing backslashes.
        let end = lineEnd;
        let body = line;
        while (body.endsWith('\\') && end < text.length) {
          let next = text.indexOf('\n', end + 1);
          if (next < 0) next = text.length;
          body = body.slice(0, -1) + ' ' + text.slice(end + 1, next);
          end = next;
        }
        directive(offset + lead, body.slice(lead), end);
        blank(offset, end);
        lineEnd = end;
      }
    } else {
      inBlockComment = scanComments(line, inBlockComment);
      if (!active()) blank(offset, lineEnd);
    }
    offset = lineEnd + 1;
  }
  for (const c of stack) {
    diagnostics.push(error('E_PREPROCESSOR', c.span, `unterminated #${c.directive}: no matching #endif`, 'add an #endif'));
  }
  return { text: out ? out.join('') : text, includes, defines, diagnostics };

  /** `start` is the offset of '#'; `body` starts with '#'. */
  function directive(start: number, body: string, end: number): void {
    const m = /^#\s*([A-Za-z_]*)/.exec(body)!;
    const name = m[1]!;
    const restOffset = m[0].length;
    const rest = stripComment(body.slice(restOffset));
    const restStart = start + restOffset + (rest.length - rest.trimStart().length);
    const trimmedEnd = start + body.trimEnd().length;
    const span = lines.span(start, Math.min(trimmedEnd, end));
    const nameSpan = lines.span(start, start + restOffset);
    const arg = rest.trim();

    switch (name) {
      case 'ifdef':
      case 'ifndef': {
        const macro = IDENT.exec(arg)?.[0];
        if (!macro) diagnostics.push(error('E_PREPROCESSOR', span, `#${name} needs a macro name`));
        const parentActive = active();
        const defined = macro !== undefined && defines.has(macro);
        const cond = name === 'ifdef' ? defined : !defined;
        stack.push({ parentActive, taken: cond, active: parentActive && cond, seenElse: false, span, directive: name });
        return;
      }
      case 'if': {
        const parentActive = active();
        const cond = evalCondition(arg, span);
        stack.push({ parentActive, taken: cond, active: parentActive && cond, seenElse: false, span, directive: name });
        return;
      }
      case 'elif': {
        const top = stack[stack.length - 1];
        if (!top || top.seenElse) {
          diagnostics.push(error('E_PREPROCESSOR', nameSpan, top ? '#elif after #else' : '#elif without #if'));
          return;
        }
        const cond = !top.taken && evalCondition(arg, span);
        top.active = top.parentActive && cond;
        top.taken ||= cond;
        return;
      }
      case 'else': {
        const top = stack[stack.length - 1];
        if (!top || top.seenElse) {
          diagnostics.push(error('E_PREPROCESSOR', nameSpan, top ? 'a second #else for the same #if' : '#else without #if'));
          return;
        }
        top.seenElse = true;
        top.active = top.parentActive && !top.taken;
        top.taken = true;
        return;
      }
      case 'endif':
        if (!stack.pop()) diagnostics.push(error('E_PREPROCESSOR', nameSpan, '#endif without #if'));
        return;
    }
    if (!active()) return;

    switch (name) {
      case 'include': {
        const inc = /^(<[^>\n]*>|"[^"\n]*")/.exec(arg);
        if (!inc) {
          diagnostics.push(error('E_PREPROCESSOR', span, `expected <file> or "file" after #include, found '${arg}'`));
          return;
        }
        const path = inc[1]!.slice(1, -1);
        includes.push(inc[1]!.startsWith('"') ? { kind: 'Include', span, path, quoted: true } : { kind: 'Include', span, path });
        return;
      }
      case 'define': {
        const id = IDENT.exec(arg);
        if (!id) {
          diagnostics.push(error('E_PREPROCESSOR', span, '#define needs a macro name'));
          return;
        }
        const macro = id[0];
        const after = arg.slice(macro.length);
        if (after.startsWith('(')) {
          const at = restStart + macro.length;
          diagnostics.push(
            error('E_PREPROCESSOR', lines.span(at, at + 1), `function-like macro '${macro}' is not supported`, 'only `#define NAME value` is supported'),
          );
          return;
        }
        defines.set(macro, { name: macro, value: after.trim() });
        return;
      }
      case 'undef': {
        const macro = IDENT.exec(arg)?.[0];
        if (macro) defines.delete(macro);
        else diagnostics.push(error('E_PREPROCESSOR', span, '#undef needs a macro name'));
        return;
      }
      case 'pragma':
        return;
      case 'error':
        diagnostics.push(error('E_PREPROCESSOR', span, `#error ${arg}`));
        return;
      case 'warning':
        diagnostics.push(warning('W_PREPROCESSOR', span, `#warning ${arg}`));
        return;
      default:
        diagnostics.push(error('E_PREPROCESSOR', nameSpan, `unknown preprocessor directive '#${name}'`));
    }
  }

  /** `#if`/`#elif`: integers, macro names, `defined NAME`, `defined(NAME)` and `!`. */
  function evalCondition(expr: string, span: Span): boolean {
    let s = expr.trim();
    let negate = false;
    while (s.startsWith('!')) {
      negate = !negate;
      s = s.slice(1).trim();
    }
    let value: boolean | undefined;
    const def = /^defined\s*(?:\(\s*([A-Za-z_]\w*)\s*\)|([A-Za-z_]\w*))$/.exec(s);
    if (def) value = defines.has(def[1] ?? def[2]!);
    else if (/^\d+$/.test(s)) value = BigInt(s) !== 0n;
    else if (/^[A-Za-z_]\w*$/.test(s)) {
      const v = defines.get(s)?.value ?? '0';
      value = /^\d+$/.test(v) ? BigInt(v) !== 0n : false;
    }
    if (value === undefined) {
      diagnostics.push(
        error('E_PREPROCESSOR', span, `unsupported #if expression '${expr.trim()}'`, 'use an integer, a macro name, defined(NAME) or !'),
      );
      return false;
    }
    return negate ? !value : value;
  }
}

/** The directive text without a trailing `//` or `/* *\/` comment. */
function stripComment(s: string): string {
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' && s[i - 1] !== '\\') inStr = !inStr;
    if (!inStr && c === '/' && (s[i + 1] === '/' || s[i + 1] === '*')) return s.slice(0, i);
  }
  return s;
}

/** Tracks whether a block comment is still open at the end of `line`. */
function scanComments(line: string, inBlock: boolean): boolean {
  let i = 0;
  let inStr = false;
  while (i < line.length) {
    if (inBlock) {
      const close = line.indexOf('*/', i);
      if (close < 0) return true;
      inBlock = false;
      i = close + 2;
      continue;
    }
    const c = line[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '/' && line[i + 1] === '/') return false;
    else if (c === '/' && line[i + 1] === '*') {
      inBlock = true;
      i += 2;
      continue;
    }
    i++;
  }
  return inBlock;
}
