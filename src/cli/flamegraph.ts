// --flamegraph FILE.svg: the maps keyed by stacks, written at exit as interactive SVG flame
// graphs (one map: FILE; several: FILE-NAME.svg each, or the one --flamegraph-map names).
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { mapName, type AssignStmt, type Binary, type Builtin, type Program } from '../model/ast.js';
import type { MapSpec, TypedProgram } from '../model/program.js';
import { walk } from '../model/walk.js';
import { foldMap, foldedFrameName, hasStacks } from '../runtime/output/index.js';
import { flameGraphSvg, formatAmount } from '../runtime/output/flamegraph.js';
import type { ExitMapSink } from '../runtime/session.js';

export interface FlamegraphRequest {
  readonly file: string;
  /** --flamegraph-map: only this map (with or without its `@`). */
  readonly map?: string;
  readonly title?: string;
  readonly units?: string;
}

/**
 * The unit of a map's values when --flamegraph-units does not say: samples for count(); ns for a
 * sum() of an expression of `nsecs` that divides nothing (the off-CPU idiom `sum(nsecs - $start)`);
 * else bare numbers.
 */
export function defaultUnits(spec: MapSpec, script: Program): string {
  if (spec.kind === 'count') return 'samples';
  if (spec.kind !== 'sum') return '';
  let ns = false;
  walk(script, (node) => {
    if (node.kind !== 'AssignStmt') return;
    const { target, value } = node as AssignStmt;
    if (target.kind !== 'MapRef' || mapName(target) !== spec.name) return;
    if (value.kind !== 'Call' || value.name !== 'sum') return;
    let nsecs = false;
    let divides = false;
    walk(value.args, (n) => {
      if (n.kind === 'Builtin' && (n as Builtin).name === 'nsecs') nsecs = true;
      if (n.kind === 'Binary' && ['/', '*', '>>'].includes((n as Binary).op)) divides = true;
    });
    if (nsecs && !divides) ns = true;
  });
  return ns ? 'ns' : '';
}

/** The file of one map's graph: FILE when one map is drawn, else FILE-NAME.svg (`@` alone: `map`). */
function fileFor(file: string, spec: MapSpec, several: boolean): string {
  if (!several) return file;
  const base = file.endsWith('.svg') ? file.slice(0, -4) : file;
  return `${base}-${spec.name.slice(1) || 'map'}.svg`;
}

/**
 * What --flamegraph takes from the run at exit, or an error (no such stack map, a file that
 * cannot be written: each is created now, as -o does). `say` reports each file written, `fail`
 * a write that fails at exit all the same.
 */
export function flamegraphSink(
  request: FlamegraphRequest, program: TypedProgram, script: Program, scriptName: string,
  report: { say: (text: string) => void; fail: (text: string) => void },
): ExitMapSink | { error: string } {
  const stackMaps = [...program.maps.values()].filter(hasStacks);
  const wanted = request.map === undefined ? stackMaps
    : stackMaps.filter((s) => s.name === request.map || s.name === `@${request.map}`);
  if (wanted.length === 0) {
    const names = stackMaps.map((s) => s.name).join(', ');
    return {
      error: request.map === undefined
        ? '--flamegraph: the program has no map keyed by a stack (e.g. @[kstack] = count())'
        : `--flamegraph-map ${request.map}: no such map keyed by a stack${names ? ` (there are: ${names})` : ''}`,
    };
  }
  const several = wanted.length > 1;
  for (const spec of wanted) {
    const file = fileFor(request.file, spec, several);
    try {
      closeSync(openSync(file, 'w'));
    } catch (e) {
      return { error: `--flamegraph ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
  }
  return {
    takes: (spec) => wanted.includes(spec),
    frameName: foldedFrameName,
    take: (snapshot) => {
      const { spec } = snapshot;
      const stacks = foldMap(snapshot);
      const units = request.units ?? defaultUnits(spec, script);
      const total = stacks.reduce((sum, s) => (s.value > 0n ? sum + Number(s.value) : sum), 0);
      const file = fileFor(request.file, spec, several);
      const svg = flameGraphSvg(stacks, {
        title: request.title ?? `Flame graph of ${spec.name}`,
        subtitle: `${scriptName}: ${stacks.length} stacks, total ${formatAmount(total, units)}`,
        units,
      });
      try {
        writeFileSync(file, svg);
        report.say(`Wrote the flame graph of ${spec.name} to ${file}\n`);
      } catch (e) {
        report.fail(`tracelet: --flamegraph ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      }
    },
  };
}
