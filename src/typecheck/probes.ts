// Attach points → the concrete targets a program is attached to (wildcards expanded), with
// diagnostics for ones that do not exist.
import type { AttachPoint } from '../parser/ast.js';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';
import { closest } from '../diagnostics/render.js';
import type { KernelInfo } from '../kernel/kernel-info.js';
import type { ProbeTarget } from './types.js';

const TIME_UNITS: Record<string, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, hz: 0n };

export function hasWildcard(s: string): boolean {
  return /[*?]/.test(s);
}

/** Glob match with `*` and `?`, as bpftrace matches attach points. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export function expandAttachPoint(
  ap: AttachPoint,
  kernel: KernelInfo,
  diagnostics: Diagnostic[],
): ProbeTarget[] {
  const target = (parts: readonly string[], name = [ap.provider, ...parts].join(':')): ProbeTarget => ({
    provider: ap.provider,
    name,
    parts,
    attachPoint: ap,
  });
  const fail = (code: string, message: string, hint?: string): ProbeTarget[] => {
    diagnostics.push(error(code, ap.span, message, hint));
    return [];
  };

  switch (ap.provider) {
    case 'BEGIN':
    case 'END':
      return [target([], ap.provider)];

    case 'tracepoint': {
      if (ap.parts.length !== 2) {
        return fail('E_ATTACH_POINT', `tracepoint must be written tracepoint:CATEGORY:EVENT, got '${ap.raw}'`);
      }
      const [category, event] = ap.parts as [string, string];
      const all = kernel.listTracepoints();
      if (hasWildcard(category) || hasWildcard(event)) {
        const re = globToRegExp(`${category}:${event}`);
        const matches = all.filter((tp) => re.test(tp));
        if (matches.length === 0) return fail('E_UNKNOWN_TRACEPOINT', `no tracepoint matches ${category}:${event}`);
        return matches.map((m) => target(m.split(':')));
      }
      if (!all.includes(`${category}:${event}`)) {
        const suggestion = closest(`${category}:${event}`, all);
        return fail(
          'E_UNKNOWN_TRACEPOINT',
          `unknown tracepoint ${category}:${event}`,
          suggestion ? `did you mean tracepoint:${suggestion}?` : 'list tracepoints with: tracelet -l "tracepoint:*"',
        );
      }
      return [target([category, event])];
    }

    case 'interval':
    case 'profile': {
      // interval:s:1, interval:1 (seconds? bpftrace requires a unit), profile:hz:99
      const [unit, value] = ap.parts.length === 2 ? (ap.parts as [string, string]) : ['', ''];
      if (!(unit in TIME_UNITS) || !/^\d+$/.test(value) || BigInt(value) === 0n) {
        return fail(
          'E_ATTACH_POINT',
          `${ap.provider} must be written ${ap.provider}:UNIT:N with UNIT one of s, ms, us, hz and N > 0, got '${ap.raw}'`,
        );
      }
      if (ap.provider === 'interval' && unit === 'hz') {
        return [target([unit, value])];
      }
      return [target([unit, value])];
    }

    default:
      return fail(
        'E_UNSUPPORTED_PROBE',
        `${ap.provider} probes are not supported yet`,
      );
  }
}

/** The period of an interval/profile target in nanoseconds, or the frequency for `hz`. */
export function timerPeriod(t: ProbeTarget): { frequency?: number; periodNs?: bigint } {
  const [unit, value] = t.parts as [string, string];
  if (unit === 'hz') return { frequency: Number(value) };
  return { periodNs: BigInt(value) * TIME_UNITS[unit]! };
}
