// --explain=ir: the LLVM IR of each statement (after optimisation, as it goes to the BPF back
// end), grouped under the script line its debug location names.
import { programOf, sourceAt, type ExplainInput } from './explain.js';

/** `!12 = !DILocation(line: 3, column: 5, ...)` → 12 → `3:5`. */
function locations(ir: string): Map<string, { line: number; column: number }> {
  const found = new Map<string, { line: number; column: number }>();
  for (const m of ir.matchAll(/^(!\d+) = !DILocation\(line: (\d+), column: (\d+)/gm)) {
    found.set(m[1]!, { line: Number(m[2]), column: Number(m[3]) });
  }
  return found;
}

export function explainIr(ir: string, input: Pick<ExplainInput, 'source' | 'programs' | 'mapNames'>): string {
  const places = locations(ir);
  const out: string[] = [];
  let current: string | undefined;
  let lastHeader: string | undefined;
  let probe: ExplainInput['programs'][number]['probe']['probe'] | undefined;
  for (const line of ir.split('\n')) {
    const fn = /^define .*@(\w+)\(/.exec(line);
    if (fn) {
      out.push('', `${fn[1]}:`);
      probe = programOf(input, fn[1]!)?.probe.probe;
      current = undefined;
      continue;
    }
    if (line === '}') {
      current = undefined;
      continue;
    }
    if (!line.startsWith('  ') && !/^\w[\w.]*:/.test(line)) continue;
    const dbg = /, !dbg (!\d+)/.exec(line);
    const at = dbg ? places.get(dbg[1]!) : undefined;
    if (at && dbg![1] !== current && at.line > 0) {
      const header = sourceAt(probe, input.source.text, at.line, at.column);
      if (header !== lastHeader) out.push(header);
      lastHeader = header;
      current = dbg![1];
    }
    // A map is a global of the .maps section (`@tl_start`): name the script map it stands for.
    const map = /@(tl_\w+)/.exec(line);
    const name = map ? input.mapNames.get(map[1]!) : undefined;
    out.push(`        ${line.replace(/, !dbg !\d+/, '').trim()}${name ? `   ; map ${name}` : ''}`);
  }
  return `${out.join('\n').trimStart()}\n`;
}
