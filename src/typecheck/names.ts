// Names: those usable as integer constants in a script (enums, #included macros, BTF
// enumerators), and the hint for a misspelled one.
import { closest } from '../diagnostics/render.js';
import type { Program } from '../model/ast.js';
import type { KernelInfo } from '../kernel/kernel-info.js';

/**
 * Names usable as integer constants, looked up in order: enums defined in the script, macros of
 * the headers it #includes, kernel enumerators from BTF. Headers are read on first use.
 */
export class NamedConstants {
  private macros?: ReadonlyMap<string, bigint>;

  constructor(
    private readonly program: Program,
    private readonly kernel: KernelInfo,
    private readonly scriptEnums: ReadonlyMap<string, bigint>,
  ) {}

  value(name: string): bigint | undefined {
    const own = this.scriptEnums.get(name);
    if (own !== undefined) return own;
    this.macros ??= this.kernel.headerMacros?.(this.program.includes.map((i) => i.path)) ?? new Map();
    return this.macros.get(name) ?? this.kernel.enumValue?.(name);
  }
}

export function hintFor(name: string, candidates: readonly string[], prefix = ''): string | undefined {
  const c = closest(name, candidates);
  return c ? `did you mean ${prefix}${c}?` : undefined;
}
