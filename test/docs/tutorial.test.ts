// docs/tutorial.md stays true: the files it names exist, the workloads build as it says, and every
// tracelet command in it runs on the real kernel with output of the shape it shows — the same
// messages, map names, histograms, stacks and folded paths — not the same numbers.
//
// The tutorial's conventions, which this test reads: a ```sh block holding one command that
// starts with `tracelet` (or `echo | tracelet`, for a workload that waits for a line) is a
// command; the ```text block right after it, if any, is its output. Without one (the exercises'
// answers) the command only has to succeed. `$(pgrep -n pipewake)` is the pid of the pipewake
// the tutorial starts in another terminal; such a command is stopped (Ctrl-C) once pipewake has
// been woken. Other ```sh lines build the workloads (`gcc ... -o /tmp/tl-lab/...`). A ```c block
// starting with `#!/usr/bin/env tracelet` and `// NAME.bt:` is a script to save as
// /tmp/tl-lab/NAME.bt. /tmp/tl-lab is a fresh directory here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_MS, traceWorkload } from '../helpers/pipewake.js';
import { runTracelet, type RunResult } from '../helpers/run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TUTORIAL = join(ROOT, 'docs/tutorial.md');
const DOC = readFileSync(TUTORIAL, 'utf8');
const LAB = '/tmp/tl-lab';
const PID = '$(pgrep -n pipewake)';

interface Block {
  lang: string;
  text: string;
}

/** The fenced blocks of the tutorial, in order. */
function fencedBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

/**
 * The commands of a ```sh block as shell words: quotes ('...', "...") and backslash-newline
 * as the shell reads them, one command per line outside quotes.
 */
function shellCommands(text: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  const end = () => {
    if (word !== null) words.push(word);
    word = null;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      word = (word ?? '') + text.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      let s = '';
      for (i++; text[i] !== '"'; i++) s += text[i] === '\\' ? text[++i] : text[i];
      word = (word ?? '') + s;
    } else if (c === '\\' && text[i + 1] === '\n') {
      i++;
    } else if (c === '$' && text.startsWith(PID, i)) {
      word = (word ?? '') + PID;
      i += PID.length - 1;
    } else if (c === '\n') {
      end();
      if (words.length > 0) commands.push(words);
      words = [];
    } else if (c === ' ' || c === '\t') {
      end();
    } else {
      word = (word ?? '') + c;
    }
  }
  end();
  if (words.length > 0) commands.push(words);
  return commands;
}

interface Command {
  /** The command line as the tutorial shows it (for test names). */
  shown: string;
  /** tracelet's arguments. */
  args: string[];
  /** Its standard input (`echo |`). */
  input?: string;
  /** The output the tutorial shows, if any. */
  expected?: string;
}

const blocks = fencedBlocks(DOC);
const commands: Command[] = [];
const setup: string[][] = [];
const scripts: { name: string; text: string }[] = [];
for (const [i, block] of blocks.entries()) {
  if (block.lang === 'c' && block.text.startsWith('#!/usr/bin/env tracelet\n')) {
    const name = /^\/\/ (\S+\.bt):/m.exec(block.text)?.[1];
    if (name) scripts.push({ name, text: block.text });
  }
  if (block.lang !== 'sh') continue;
  const lines = shellCommands(block.text);
  const words = lines[0] ?? [];
  const piped = words[0] === 'echo' && words[1] === '|';
  if (lines.length === 1 && words[piped ? 2 : 0] === 'tracelet') {
    const next = blocks[i + 1];
    commands.push({
      shown: block.text.trim().replace(/\s+/g, ' '),
      args: words.slice(piped ? 3 : 1),
      ...(piped ? { input: '\n' } : {}),
      ...(next?.lang === 'text' ? { expected: next.text } : {}),
    });
  } else {
    setup.push(...lines);
  }
}

/** The tutorial's words with /tmp/tl-lab made `lab`. */
const inLab = (words: readonly string[], lab: string) => words.map((w) => w.replaceAll(LAB, lab));

// ---- the shape of an output ----

type Kind = 'text' | 'map' | 'bucket' | 'frame' | 'stack-end' | 'folded' | 'insn' | 'skip';

const BUCKET = /^\[[^\]]*[\])] +\d+ \|[@ ]*\|$/;
const MAP = /^@\w*(\[.*)?:( .*)?$|^@\w*\[$/;

function kind(line: string): Kind {
  if (line.trim() === '' || line.trim() === '...') return 'skip';
  if (BUCKET.test(line)) return 'bucket';
  if (MAP.test(line)) return 'map';
  if (/^\]: /.test(line)) return 'stack-end';
  if (/^ {4}(\S+\+\d+|0x[0-9a-f]+)$/.test(line)) return 'frame';
  if (/^[^ ;]+(;[^;]+)+ \d+$/.test(line)) return 'folded';
  if (/^ +\d+: /.test(line)) return 'insn';
  return 'text';
}

/** A line as far as the tutorial promises it: numbers and runs of blanks do not matter. */
const normal = (line: string) =>
  line.startsWith('Attaching ') ? line : line.replace(/\d+/g, 'N').replace(/\s+/g, ' ').trim();

const mapName = (line: string) => /^@(\w*)/.exec(line)![1]!;

/** The names of the maps printed as histograms (a map line followed by a bucket line). */
function histogramMaps(lines: readonly string[]): Set<string> {
  const names = new Set<string>();
  lines.forEach((l, i) => {
    if (kind(l) === 'map' && kind(lines[i + 1] ?? '') === 'bucket') names.add(mapName(l));
  });
  return names;
}

/**
 * A folded line's path, without the tracepoint's iterator frame (`__traceiter_sched_switch`),
 * which the kernel's stack has only while a second probe is on the tracepoint (another tracer's,
 * or ftrace's own while any trace event is on).
 */
const foldedPath = (line: string) => line.slice(0, line.lastIndexOf(' ')).replace(/;__traceiter_\w+_\[k\]/g, '');

/**
 * Checks that `actual` (stdout and stderr) has the shape of `expected`: its text lines (numbers
 * aside), its maps by name, histograms where it has histograms, stacks, folded paths and BPF
 * instructions. A text line may be missing once per failed read tracelet reported (a `str()` of
 * a page not yet in memory prints an empty string, and says so).
 */
function expectShape(actual: string, expected: string): void {
  const got = actual.split('\n');
  const want = expected.split('\n');
  const gotKinds = new Set(got.map(kind));
  const gotText = new Set(got.filter((l) => kind(l) === 'text').map(normal));
  const missing = want.filter((l) => kind(l) === 'text' && !gotText.has(normal(l)));
  const failedReads = [...actual.matchAll(/failed here in (\d+) runs? of the probe/g)].reduce((n, m) => n + Number(m[1]), 0);
  expect(missing.length, `lines missing from the output:\n${missing.join('\n')}\n\noutput:\n${actual}`).toBeLessThanOrEqual(failedReads);

  const gotMaps = new Set(got.filter((l) => kind(l) === 'map').map(mapName));
  for (const name of new Set(want.filter((l) => kind(l) === 'map').map(mapName))) {
    expect(gotMaps.has(name), `map @${name} in:\n${actual}`).toBe(true);
  }
  const gotHistograms = histogramMaps(got);
  for (const name of histogramMaps(want)) expect(gotHistograms.has(name), `histogram @${name} in:\n${actual}`).toBe(true);

  for (const k of ['frame', 'stack-end', 'insn', 'folded'] as const) {
    if (want.some((l) => kind(l) === k)) expect(gotKinds.has(k), `${k} lines in:\n${actual}`).toBe(true);
  }
  const wantPaths = want.filter((l) => kind(l) === 'folded').map(foldedPath);
  if (wantPaths.length > 0) {
    const gotPaths = new Set(got.filter((l) => kind(l) === 'folded').map(foldedPath));
    expect(wantPaths.filter((p) => gotPaths.has(p)), `a folded path of the tutorial in:\n${actual}`).not.toEqual([]);
  }
}

// ---- the runs ----

let lab = '';

beforeAll(() => {
  lab = mkdtempSync(join(tmpdir(), 'tl-lab-'));
  for (const words of setup.filter((w) => w[0] === 'gcc')) {
    execFileSync('gcc', inLab(words.slice(1), lab), { cwd: ROOT });
  }
  for (const { name, text } of scripts) writeFileSync(join(lab, name), text);
});

afterAll(() => {
  if (lab) rmSync(lab, { recursive: true, force: true });
});

/** Runs a command of the tutorial as a reader would, from the repository's root. */
async function run(command: Command): Promise<RunResult> {
  const args = inLab(command.args, lab);
  if (args.includes(PID)) {
    return traceWorkload(join(lab, 'pipewake'), (pid) => args.map((a) => (a === PID ? pid : a)));
  }
  return runTracelet(args, { cwd: ROOT, input: command.input ?? '', timeoutMs: 60_000 });
}

describe('docs/tutorial.md', () => {
  it('has the commands this test runs, each step with its output', () => {
    expect(commands.length).toBeGreaterThan(15);
    expect(commands.filter((c) => c.expected !== undefined).length).toBeGreaterThan(12);
    expect(scripts.map((s) => s.name)).toEqual(['slowcalls.bt']);
  });

  it('starts pipewake as the test helper does', () => {
    const started = setup.find((w) => w[0] === `${LAB}/pipewake`);
    expect(started?.slice(1)).toEqual([String(BLOCK_MS), '30000']);
  });

  it('names files that exist, and links that resolve', () => {
    const named = [...DOC.matchAll(/(?<![\w/.])((?:examples|test|docs|man)\/[\w./-]*\w)/g)].map((m) => m[1]!);
    const linked = [...DOC.matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)].map((m) => resolve(dirname(TUTORIAL), m[1]!));
    expect(named.length).toBeGreaterThan(5);
    const absent = [...named.map((p) => join(ROOT, p)), ...linked].filter((p) => !existsSync(p));
    expect(absent).toEqual([]);
  });

  for (const command of commands) {
    it(`runs: ${command.shown.slice(0, 150)}`, async () => {
      const r = await run(command);
      const output = `${r.stdout}${r.stderr}`.replaceAll(lab, LAB);
      expect(r.code, output).toBe(0);
      if (command.expected !== undefined) expectShape(output, command.expected);
      const svg = command.args[command.args.indexOf('--flamegraph') + 1];
      if (command.args.includes('--flamegraph') && svg) {
        expect(readFileSync(inLab([svg], lab)[0]!, 'utf8')).toMatch(/^<\?xml[^]*<svg[^]*pipewake/);
      }
    });
  }
});
