// Integer macros from the C headers a script #includes. bpftrace runs clang's preprocessor over
// them; tools rely on it for constants such as AF_INET (<sys/socket.h>). We read object-like
// `#define NAME value` lines from the system headers, following their own #includes.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

/** Where `#include <file>` looks after the -I directories. */
export const INCLUDE_DIRS = ['/usr/include/x86_64-linux-gnu', '/usr/include'];
const MAX_FILES = 200;

/**
 * Kernel macros that tools use but that neither BTF nor the installed (userspace) headers carry:
 * include/linux/sched.h task states.
 */
const KERNEL_MACROS: ReadonlyMap<string, bigint> = new Map([
  ['TASK_RUNNING', 0n],
  ['TASK_INTERRUPTIBLE', 1n],
  ['TASK_UNINTERRUPTIBLE', 2n],
  ['__TASK_STOPPED', 4n],
  ['__TASK_TRACED', 8n],
  ['EXIT_DEAD', 16n],
  ['EXIT_ZOMBIE', 32n],
  ['TASK_PARKED', 64n],
  ['TASK_DEAD', 128n],
]);

/** Where `#include` finds `name`: itself when absolute, else in the first of `dirs` that has it. */
export function findHeader(name: string, dirs: readonly string[] = INCLUDE_DIRS): string | undefined {
  if (isAbsolute(name)) return existsSync(name) ? name : undefined;
  for (const dir of dirs) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function parseInteger(text: string): bigint | undefined {
  const t = text.replace(/[uUlL]+$/, '');
  if (/^0[xX][0-9a-fA-F]+$/.test(t) || /^[1-9]\d*$/.test(t) || t === '0') return BigInt(t);
  if (/^0[0-7]+$/.test(t)) return BigInt(`0o${t.slice(1)}`);
  return undefined;
}

/**
 * Every integer macro reachable from `includes` (e.g. `sys/socket.h`, looked up in `extraDirs`
 * (-I) and then the system's include directories), plus the kernel table.
 */
export function headerMacros(includes: readonly string[], extraDirs: readonly string[] = []): Map<string, bigint> {
  const dirs = [...extraDirs, ...INCLUDE_DIRS];
  const raw = new Map<string, string>();
  const seen = new Set<string>();
  const queue = includes.map((i) => findHeader(i, dirs)).filter((p): p is string => p !== undefined);
  while (queue.length > 0 && seen.size < MAX_FILES) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
      const include = /^\s*#\s*include\s*(?:<([^>]+)>|"([^"]+)")/.exec(line);
      if (include) {
        // A "file" beside the header that includes it first.
        const p = include[2] !== undefined ? findHeader(include[2], [dirname(path), ...dirs]) : findHeader(include[1]!, dirs);
        if (p) queue.push(p);
        continue;
      }
      const define = /^\s*#\s*define\s+([A-Za-z_]\w*)\s+(.+?)\s*(?:\/\*.*)?$/.exec(line);
      if (define && !raw.has(define[1]!)) raw.set(define[1]!, define[2]!.replace(/^\((.*)\)$/, '$1').trim());
    }
  }
  const values = new Map<string, bigint>(KERNEL_MACROS);
  const resolve = (name: string, depth: number): bigint | undefined => {
    if (values.has(name)) return values.get(name);
    const text = raw.get(name);
    if (text === undefined || depth > 8) return undefined;
    const v = parseInteger(text) ?? (/^[A-Za-z_]\w*$/.test(text) ? resolve(text, depth + 1) : undefined);
    if (v !== undefined) values.set(name, v);
    return v;
  };
  for (const name of raw.keys()) resolve(name, 0);
  return values;
}
