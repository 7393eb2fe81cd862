// The layering of src/ (docs/ARCHITECTURE.md, "Import rules"): every stage stands on src/model,
// imports flow one way, and no two folders depend on each other. Known breaches are listed by name
// below, so the debt stays visible and can only shrink: a listed import that is gone fails too.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

interface Import {
  /** Both relative to src/, e.g. `typecheck/check.ts` → `model/ast.ts`. */
  readonly from: string;
  readonly to: string;
}

/** `import ... from '...'` and `export ... from '...'`, type-only ones included, over several lines. */
const IMPORT = /^(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*'([^']+)'\s*\)/g;

function sourceImports(): Import[] {
  const imports: Import[] = [];
  for (const file of readdirSync(SRC, { recursive: true }) as string[]) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(join(SRC, file), 'utf8');
    for (const m of [...text.matchAll(IMPORT), ...text.matchAll(DYNAMIC_IMPORT)]) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) continue; // node:, packages
      const to = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
      imports.push({ from: file, to });
    }
  }
  return imports;
}

/** The folder directly under src/ a file belongs to: `runtime/output/text.ts` → `runtime`. */
function folderOf(path: string): string {
  return path.split('/')[0]!;
}

const IMPORTS = sourceImports();
const between = IMPORTS.filter((i) => folderOf(i.from) !== folderOf(i.to));

/** Which folders each folder may import from; absent: no rule beyond "no cycles". */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  model: [],
  diagnostics: ['model'],
  kernel: ['model', 'diagnostics'],
  parser: ['model', 'diagnostics'],
  // --explain reads the compiled object by the program model, never codegen, the kernel or a run.
  explain: ['model'],
};
const FORBIDDEN: Readonly<Record<string, readonly string[]>> = {
  typecheck: ['codegen', 'compile', 'runtime', 'cli'],
  codegen: ['compile', 'runtime', 'cli'],
  // The runtime loads compiled objects: it never drives the compiler (src/compile) itself.
  runtime: ['compile', 'run', 'cli', 'export'],
  // The run driver (src/run) runs what the CLI and the API compiled; they stand on it, not it on them.
  run: ['compile', 'cli', 'api', 'export'],
  compile: ['cli'],
  // Exporters (--metrics, pprof) read a run's maps; only the CLI (and the API) drive them.
  export: ['cli', 'parser', 'typecheck', 'codegen', 'compile', 'api'],
  // The Node API stands beside the CLI, on compile() and the runtime.
  api: ['cli'],
};

/**
 * Imports that break a rule today, as `from → to`. Each is a debt of issue 12 (docs/ARCHITECTURE.md,
 * "Structural debts"); remove its line when the import goes.
 */
const KNOWN_BREACHES: readonly string[] = [];

function breaches(): string[] {
  const found = new Set<string>();
  for (const { from, to } of between) {
    const a = folderOf(from);
    const b = folderOf(to);
    const allowed = ALLOWED[a];
    if ((allowed && !allowed.includes(b)) || FORBIDDEN[a]?.includes(b)) found.add(`${from} → ${to}`);
  }
  return [...found].sort();
}

/** The cycles of the folder graph, each as `a → b → ... → a` starting at its smallest folder. */
function folderCycles(): string[] {
  const edges = new Map<string, Set<string>>();
  for (const { from, to } of between) {
    const set = edges.get(folderOf(from)) ?? new Set<string>();
    set.add(folderOf(to));
    edges.set(folderOf(from), set);
  }
  const cycles = new Set<string>();
  const walk = (path: string[]): void => {
    for (const next of edges.get(path[path.length - 1]!) ?? []) {
      if (next === path[0]) {
        if (path.every((f) => f >= path[0]!)) cycles.add([...path, next].join(' → '));
      } else if (!path.includes(next)) walk([...path, next]);
    }
  };
  for (const start of edges.keys()) walk([start]);
  return [...cycles].sort();
}

/**
 * Files that import each other, directly or through others: each group as its files, sorted, joined
 * by ', '. Known ones are debts (docs/ARCHITECTURE.md, "Structural debts").
 */
const KNOWN_FILE_CYCLES: readonly string[] = [];

/** Groups of files that reach each other through imports (Tarjan's strongly connected components). */
function fileCycles(): string[] {
  const edges = new Map<string, string[]>();
  for (const { from, to } of IMPORTS) edges.set(from, [...(edges.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const groups: string[] = [];
  const visit = (f: string): void => {
    index.set(f, index.size);
    low.set(f, index.get(f)!);
    stack.push(f);
    for (const g of edges.get(f) ?? []) {
      if (!index.has(g)) {
        visit(g);
        low.set(f, Math.min(low.get(f)!, low.get(g)!));
      } else if (stack.includes(g)) low.set(f, Math.min(low.get(f)!, index.get(g)!));
    }
    if (low.get(f) !== index.get(f)) return;
    const group: string[] = [];
    for (let g = stack.pop()!; ; g = stack.pop()!) {
      group.push(g);
      if (g === f) break;
    }
    if (group.length > 1) groups.push(group.sort().join(', '));
  };
  for (const f of edges.keys()) if (!index.has(f)) visit(f);
  return groups.sort();
}

describe('import rules of src/', () => {
  it('sees the imports of every stage', () => {
    const folders = new Set(IMPORTS.map((i) => folderOf(i.from)));
    for (const f of ['model', 'parser', 'typecheck', 'codegen', 'runtime', 'kernel', 'diagnostics', 'export', 'run', 'cli']) {
      expect(folders, f).toContain(f);
    }
    // Paths resolve to files that exist: a wrong resolution would hide breaches.
    for (const { to } of IMPORTS) expect(() => readFileSync(join(SRC, to)), to).not.toThrow();
  });

  it('src/model imports nothing from src/ outside itself', () => {
    expect(between.filter((i) => folderOf(i.from) === 'model')).toEqual([]);
  });

  it('each folder imports only the folders below it (known breaches listed by name)', () => {
    expect(breaches()).toEqual([...KNOWN_BREACHES].sort());
  });

  it('no cycles between folders', () => {
    expect(folderCycles()).toEqual([]);
  });

  it('no cycles between files (known ones listed by name)', () => {
    expect(fileCycles()).toEqual([...KNOWN_FILE_CYCLES].sort());
  });

  // The object's layout (map and global names, counter slots, read sites, event and helper ids) is
  // src/model/object-layout.ts: codegen writes it, the runtime and --explain read it.
  it('only src/compile imports src/codegen, and only codegen.ts', () => {
    const into = between.filter((i) => folderOf(i.to) === 'codegen');
    const others = into.filter((i) => folderOf(i.from) !== 'compile' || i.to !== 'codegen/codegen.ts');
    expect(others.map((i) => `${i.from} → ${i.to}`)).toEqual([]);
    expect(into.length).toBeGreaterThan(0);
  });

  it("codegen's concerns import only those above them in docs/ARCHITECTURE.md's table", () => {
    const doc = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
    const section = doc.split(/^## Inside codegen$/m)[1]?.split(/^## /m)[0] ?? '';
    const order = [...section.matchAll(/^\| `([\w-]+\.ts)` \|/gm)].map((m) => `codegen/${m[1]}`);
    // The table lists every file of src/codegen but the driver and the leaves every file may use.
    const leaves = ['codegen/helpers.ts', 'codegen/maps.ts', 'codegen/ir/builder.ts'];
    const files = (readdirSync(join(SRC, 'codegen'), { recursive: true }) as string[]).map((f) => `codegen/${f}`)
      .filter((f) => f.endsWith('.ts') && f !== 'codegen/codegen.ts' && !leaves.includes(f));
    expect([...order].sort()).toEqual(files.sort());
    const upward = IMPORTS.filter((i) => order.includes(i.from) && !leaves.includes(i.to) && folderOf(i.to) === 'codegen')
      .filter((i) => !(order.indexOf(i.to) >= 0 && order.indexOf(i.to) < order.indexOf(i.from)));
    expect(upward.map((i) => `${i.from} → ${i.to}`)).toEqual([]);
  });

  it("docs/ARCHITECTURE.md's table of what each folder imports is the source's", () => {
    const doc = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
    const section = doc.split(/^## Import rules$/m)[1]?.split(/^## /m)[0] ?? '';
    const documented = new Map(
      [...section.matchAll(/^\| ([a-z]+) \| (.*) \|$/gm)].map((m) => [m[1]!, m[2] === '(nothing)' ? '' : m[2]!]),
    );
    const actual = new Map<string, string>();
    for (const folder of new Set(IMPORTS.map((i) => folderOf(i.from)))) {
      const to = new Set(between.filter((i) => folderOf(i.from) === folder).map((i) => folderOf(i.to)));
      actual.set(folder, [...to].sort().join(', '));
    }
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(actual));
  });
});
