// Attach points: `provider:field:field...` as written → AttachPoint { provider, parts }.
//
// The lexer hands over the raw text of one attach point. Here it is split the way bpftrace splits
// it: on ':' outside double quotes (quotes are removed, so `uprobe:/bin/x:"ns::f"` keeps its
// colons), positional parameters `$N` are substituted from the command line, and the fields are
// grouped per provider. `parts` then holds, per provider:
//
//   BEGIN, END                  []
//   tracepoint                  [category, event]
//   rawtracepoint               [event] | [module, event]
//   kprobe, kretprobe           [func] | [module, func]          func may be `name+offset`
//   uprobe, uretprobe           [target, func] | [target, lang, func] | [func]
//                               func may be `name+offset`, an address (`0x1234`) or a C++ name
//                               with `::`; only the last field may contain ':' (paths never do)
//   usdt                        [target, provider, name] | [target, name] | [name]
//   profile, interval           [unit, count] (`hz:99`, `s:1`) | [count] (`99`, `1s`, `100ms`)
//   software, hardware          [event] | [event, count]
//   kfunc, kretfunc             [func] | [module, func]
//   watchpoint, asyncwatchpoint [address, length, mode]          (`0x10000:8:rw`, `func+arg1:8:w`)
//   iter                        [object] | [object, pin]
//   test, bench                 [name]
//
// Wildcards (`*`, `?`) are kept as written; resolving them is the type checker's job.

import type { AttachPoint, ProbeProvider } from '../model/ast.js';
import { mayBeEmpty, PROVIDER_HINT_NAMES, providerRecord, providerNamed } from '../model/providers.js';
import type { Span } from '../model/span.js';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import { closest } from '../diagnostics/render.js';
import type { LineMap } from './preprocess.js';

/** Languages that may appear between the binary and the function of a uprobe. */
const UPROBE_LANGUAGES = new Set(['cpp']);
const TIME_UNITS = new Set(['hz', 's', 'ms', 'us', 'ns']);

interface Field {
  /** Unquoted, substituted text. */
  text: string;
  /** Offsets of the field in the source. */
  start: number;
  end: number;
  quoted: boolean;
}

export interface AttachPointContext {
  readonly lines: LineMap;
  /** Command-line positional parameters: `$1` is params[0]. */
  readonly params: readonly string[];
  readonly diagnostics: Diagnostic[];
}

/**
 * Parses the raw text of one attach point starting at source offset `start`. Returns undefined
 * (with a diagnostic) only when the provider is unknown; other problems are reported and the
 * attach point is still returned, so later stages see as much of the program as possible.
 */
export function parseAttachPoint(raw: string, start: number, ctx: AttachPointContext): AttachPoint | undefined {
  const { lines, diagnostics } = ctx;
  const span = lines.span(start, start + raw.length);
  const colon = raw.indexOf(':');
  const word = colon < 0 ? raw : raw.slice(0, colon);
  const provider = providerNamed(word);
  if (!provider) {
    const lower = closest(word.toLowerCase(), PROVIDER_HINT_NAMES.map((n) => n.toLowerCase()));
    const suggestion = closest(word, PROVIDER_HINT_NAMES) ?? PROVIDER_HINT_NAMES.find((n) => n.toLowerCase() === lower);
    diagnostics.push(
      error(
        'E_UNKNOWN_PROVIDER',
        lines.span(start, start + word.length),
        `unknown probe type '${word}'`,
        suggestion ? `did you mean '${suggestion}'?` : `probe types: ${PROVIDER_HINT_NAMES.join(', ')}`,
      ),
    );
    return undefined;
  }
  const problem = (s: Span, message: string, hint: string = `expected ${providerRecord(provider).syntax}`) =>
    diagnostics.push(error('E_ATTACH_POINT', s, message, hint));

  const fields = colon < 0 ? [] : splitFields(raw, colon + 1, start, ctx);
  const [min, max] = providerRecord(provider).fields;
  if (fields === undefined) return { kind: 'AttachPoint', span, raw, provider, parts: [] };

  let grouped: Field[] = fields;
  if ((provider === 'uprobe' || provider === 'uretprobe') && fields.length > 2) {
    // [target, lang?, func]: only the function may contain ':' (C++ names).
    const keep = !fields[1]!.quoted && UPROBE_LANGUAGES.has(fields[1]!.text) ? 2 : 1;
    grouped = [...fields.slice(0, keep), joinFields(fields.slice(keep))];
  }

  if (provider === 'BEGIN' || provider === 'END') {
    if (colon >= 0) problem(lines.span(start + colon, start + raw.length), `${provider} takes no arguments`, `write just ${provider}`);
    return { kind: 'AttachPoint', span, raw, provider, parts: [] };
  }

  if (grouped.length < min) {
    const what = fields.length === 0 ? 'no arguments' : `${grouped.length} argument${grouped.length === 1 ? '' : 's'}`;
    problem(span, `${provider} attach point has ${what}; it needs ${min === max ? min : `${min} to ${max}`}`);
  } else if (grouped.length > max) {
    const extra = grouped[max]!;
    problem(lines.span(extra.start - 1, start + raw.length), `too many fields in ${provider} attach point (at most ${max})`);
  } else {
    grouped.forEach((f, i) => {
      if (f.text === '' && !f.quoted && !mayBeEmpty(provider, i, grouped.length)) {
        problem(lines.span(f.start - 1, f.end), `empty field in ${provider} attach point`);
      }
    });
    validate(provider, grouped, problem, lines);
  }
  return { kind: 'AttachPoint', span, raw, provider, parts: grouped.map((f) => f.text) };
}

function joinFields(fs: Field[]): Field {
  return {
    text: fs.map((f) => f.text).join(':'),
    start: fs[0]!.start,
    end: fs[fs.length - 1]!.end,
    quoted: fs.some((f) => f.quoted),
  };
}

/** Splits `raw` from index `from` on ':' outside quotes; substitutes `$N`. */
function splitFields(raw: string, from: number, base: number, ctx: AttachPointContext): Field[] | undefined {
  const fields: Field[] = [];
  let text = '';
  let fieldStart = from;
  let quoted = false;
  let inQuote = false;
  let quoteAt = -1;
  // A bad `$` is reported once: the fields are not checked further with it in place.
  let badParameter = false;
  for (let i = from; i <= raw.length; i++) {
    const c = raw[i];
    if (c === undefined || (c === ':' && !inQuote)) {
      fields.push({ text, start: base + fieldStart, end: base + i, quoted });
      text = '';
      quoted = false;
      fieldStart = i + 1;
      continue;
    }
    if (c === '"') {
      inQuote = !inQuote;
      quoted = true;
      quoteAt = i;
      continue;
    }
    if (inQuote) {
      if (c === '\\' && i + 1 < raw.length) text += raw[++i];
      else text += c;
      continue;
    }
    if (c === '$') {
      const m = /^\$(\d+)/.exec(raw.slice(i));
      const at = ctx.lines.span(base + i, base + i + (m ? m[0].length : 1));
      badParameter ||= !m || m[1] === '0' || ctx.params[Number(m[1]) - 1] === undefined;
      if (!m) {
        ctx.diagnostics.push(error('E_ATTACH_POINT', at, "'$' in an attach point must start a positional parameter like $1"));
        text += c;
        continue;
      }
      const n = Number(m[1]);
      const value = n >= 1 ? ctx.params[n - 1] : undefined;
      if (n === 0) {
        ctx.diagnostics.push(error('E_ATTACH_POINT', at, 'positional parameters start at $1'));
        text += m[0];
      } else if (value === undefined) {
        ctx.diagnostics.push(
          error(
            'E_POSITIONAL_MISSING',
            at,
            `positional parameter $${n} is used in an attach point but ${ctx.params.length === 0 ? 'no parameters were given' : `only ${ctx.params.length} ${ctx.params.length === 1 ? 'was' : 'were'} given`}`,
            'pass the value on the command line after the script',
          ),
        );
        text += m[0];
      } else text += value;
      i += m[0].length - 1;
      continue;
    }
    text += c;
  }
  if (inQuote) {
    ctx.diagnostics.push(error('E_ATTACH_POINT', ctx.lines.span(base + quoteAt, base + raw.length), "unterminated '\"' in attach point"));
    return undefined;
  }
  return badParameter ? undefined : fields;
}

const INTEGER = /^(0[xX][0-9a-fA-F]+|[0-9]+)$/;

function validate(
  provider: ProbeProvider,
  fs: Field[],
  problem: (s: Span, message: string, hint?: string) => void,
  lines: LineMap,
): void {
  const at = (f: Field) => lines.span(f.start, f.end);
  const last = fs[fs.length - 1]!;
  switch (provider) {
    case 'test':
    case 'bench':
      // The name is what --test/--bench print; a wildcard would read as a pattern it is not.
      if (/[*?\s]/.test(last.text)) {
        problem(at(last), `invalid ${provider} name '${last.text}'`, `a ${provider} probe is named, not matched: write e.g. ${provider}:parse_ipv4`);
      }
      return;
    case 'kprobe':
    case 'uprobe': {
      const plus = last.quoted ? -1 : last.text.lastIndexOf('+');
      if (plus >= 0 && !INTEGER.test(last.text.slice(plus + 1))) {
        problem(at(last), `invalid offset '${last.text.slice(plus + 1)}' in '${last.text}'`, 'write function+offset, e.g. vfs_read+16 or vfs_read+0x10');
      }
      return;
    }
    case 'profile':
    case 'interval': {
      if (fs.length === 2) {
        if (!TIME_UNITS.has(fs[0]!.text)) problem(at(fs[0]!), `unknown ${provider} unit '${fs[0]!.text}'`, 'units: hz, s, ms, us, ns');
        else if (!INTEGER.test(fs[1]!.text)) problem(at(fs[1]!), `${provider} rate must be an integer, found '${fs[1]!.text}'`);
      } else if (!/^[0-9][0-9_]*(hz|ns|us|ms|s|m|h|d)?$/.test(fs[0]!.text)) {
        problem(at(fs[0]!), `invalid ${provider} rate '${fs[0]!.text}'`, `e.g. ${provider}:s:1, ${provider}:100ms or ${provider}:hz:99`);
      }
      return;
    }
    case 'software':
    case 'hardware':
      if (fs.length === 2 && !INTEGER.test(fs[1]!.text)) problem(at(fs[1]!), `${provider} count must be an integer, found '${fs[1]!.text}'`);
      return;
    case 'watchpoint':
    case 'asyncwatchpoint': {
      const [addr, len, mode] = fs as [Field, Field, Field];
      if (!INTEGER.test(addr.text) && !/^[A-Za-z_][\w.]*\+arg[0-9]+$/.test(addr.text)) {
        problem(at(addr), `invalid watchpoint address '${addr.text}'`, 'an address (0x1000) or function+argN');
      }
      if (!INTEGER.test(len.text)) problem(at(len), `watchpoint length must be an integer, found '${len.text}'`);
      if (!/^[rwx]+$/.test(mode.text) || new Set(mode.text).size !== mode.text.length) {
        problem(at(mode), `invalid watchpoint mode '${mode.text}'`, 'a combination of r, w and x, e.g. rw');
      }
      return;
    }
    default:
      return;
  }
}
