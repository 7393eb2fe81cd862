// `import "file.bt";` (bpftrace 0.24+): another script's probes, macros, map declarations and C
// definitions merged into the importing one. A path is relative to the directory of the script
// that imports it (the current directory for -e); a directory imports its .bt files. Each file
// is imported once: importing it again, or back from a file it imports, adds nothing (bpftrace
// does the same). Diagnostics in an imported file point into it (Span.file).
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Import, Program } from '../model/ast.js';
import type { SourceText } from '../model/span.js';
import { error, type Diagnostic } from '../diagnostics/diagnostic.js';

/** Parses one imported file (without resolving its imports). */
export type ParseFile = (file: SourceText) => Program;

/** S_IWOTH */
const WORLD_WRITABLE = 0o002;

/**
 * The program with every file it imports, directly or not, merged in (depth first, each file's
 * imports before its own body), and its `imports` dropped. `path`: the root script's file.
 */
export function resolveImports(program: Program, path: string | undefined, parseFile: ParseFile, diagnostics: Diagnostic[]): Program {
  const seen = new Set<string>(path ? [canonical(path)] : []);
  const merged: Program[] = [];
  const visit = (p: Program, dir: string) => {
    for (const imp of p.imports ?? []) {
      for (const file of filesOf(imp, dir, diagnostics)) {
        const key = canonical(file);
        if (seen.has(key)) continue;
        seen.add(key);
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          diagnostics.push(error('E_IMPORT', imp.pathSpan, `cannot read '${file}': ${(e as Error).message}`));
          continue;
        }
        const imported = parseFile({ name: file, text });
        for (const c of imported.config) {
          diagnostics.push(error('E_IMPORT', c.span, 'an imported script cannot have a config block',
            'only the script tracelet runs has one: move this setting there'));
        }
        visit(imported, dirname(file));
        merged.push(imported);
      }
    }
  };
  visit(program, path ? dirname(path) : process.cwd());
  const { imports: _done, ...root } = program;
  const all = [...merged, root];
  const macros = all.flatMap((p) => p.macros ?? []);
  const mapDeclarations = all.flatMap((p) => p.mapDeclarations ?? []);
  return {
    ...root,
    includes: all.flatMap((p) => p.includes),
    cDefinitions: all.flatMap((p) => p.cDefinitions),
    probes: all.flatMap((p) => p.probes),
    ...(macros.length > 0 ? { macros } : {}),
    ...(mapDeclarations.length > 0 ? { mapDeclarations } : {}),
  };
}

/** The files an import names: the file, or the .bt files of a directory (sorted); none after an error. */
function filesOf(imp: Import, dir: string, diagnostics: Diagnostic[]): string[] {
  const path = resolve(dir, imp.path);
  const fail = (message: string, hint?: string) => {
    diagnostics.push(error('E_IMPORT', imp.pathSpan, message, hint));
    return [];
  };
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return fail(`cannot import '${imp.path}': there is no ${path}`, `the path is relative to the importing script's directory (${dir})`);
  }
  // As bpftrace: code from a directory anyone may write to would run as root.
  if (statSync(isDirectory ? path : dirname(path)).mode & WORLD_WRITABLE) {
    return fail(`refusing to import from ${isDirectory ? path : dirname(path)}: anyone may write to it`,
      'move the file to a directory only its owner can write to');
  }
  if (isDirectory) return readdirSync(path).filter((f) => f.endsWith('.bt')).sort().map((f) => join(path, f));
  if (!path.endsWith('.bt')) {
    return fail(`cannot import '${imp.path}': tracelet imports bpftrace scripts (.bt) only`,
      'a C header (.h) is brought in with #include; BPF C (.bpf.c) is not supported');
  }
  return [path];
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
