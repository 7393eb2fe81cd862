// Shared machinery of the benchmarks: the two tracers, running one with its peak RSS measured,
// the getppid() workload, the BPF programs a process holds, and summaries (min/median/max).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** TRACELET_BENCH_BIN measures another build (e.g. a checkout of the previous commit) against this one's harness. */
export const TRACELET_BIN = process.env.TRACELET_BENCH_BIN ?? join(ROOT, 'bin/tracelet');

// ---- summaries ----

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export function summarize(values: readonly number[]): Summary {
  const v = [...values].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { n: 0, min: NaN, median: NaN, max: NaN };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { n: v.length, min: v[0]!, median, max: v[v.length - 1]! };
}

export function fmt(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtSummary(s: Summary, digits = 0): string {
  if (s.n === 0) return 'n/a';
  return `${fmt(s.min, digits)} / ${fmt(s.median, digits)} / ${fmt(s.max, digits)}`;
}

/** tracelet ÷ bpftrace of the medians; NaN when either was not measured. */
export function medianRatio(t: Summary, b: Summary): number {
  return t.n === 0 || b.n === 0 || b.median === 0 ? NaN : t.median / b.median;
}

/** A ratio as the tables show it: `0.57×`. */
export function times(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a';
}

/** tracelet ÷ bpftrace of the medians, as text. */
export function ratio(t: Summary, b: Summary): string {
  return times(medianRatio(t, b));
}

// ---- helpers compiled once per run ----

export interface Helpers {
  readonly dir: string;
  readonly workload: string;
  /** The printf overhead run's workload: bench/c/workload.c named (and so with the comm) "helpers". */
  readonly syscallHelpers: string;
  readonly rusage: string;
  /** bench/c/stacks.c: `cpu` or `switch` workload for the stacks benchmark. */
  readonly stacks: string;
  cleanup(): void;
}

/** Compiles bench/c/*.c into a temporary directory. */
export function buildHelpers(): Helpers {
  const dir = mkdtempSync(join(tmpdir(), 'tracelet-bench-'));
  const compile = (name: string, as = name) => {
    const out = join(dir, as);
    const r = spawnSync('cc', ['-O2', '-fno-omit-frame-pointer', '-pthread', '-o', out, join(ROOT, 'bench/c', `${name}.c`)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cc ${name}.c failed: ${r.stderr}`);
    return out;
  };
  return {
    dir,
    workload: compile('workload', 'tlbench_wl'),
    syscallHelpers: compile('workload', 'helpers'),
    rusage: compile('rusage'),
    stacks: compile('stacks'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---- the tracers ----

export type TracerName = 'tracelet' | 'bpftrace';
export const TRACERS: readonly TracerName[] = ['tracelet', 'bpftrace'];

/** `items` rotated left by `by` (modulo their number): repetition `by` runs the modes in this order. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Alternates the order of the two tracers from one repetition to the next. */
export function alternate(rep: number): readonly TracerName[] {
  return rep % 2 === 0 ? TRACERS : [...TRACERS].reverse();
}

export function tracerCommand(tracer: TracerName, args: readonly string[], traceletBin = TRACELET_BIN): string[] {
  return tracer === 'tracelet' ? [traceletBin, ...args] : ['bpftrace', ...args];
}

export interface TracerRun {
  /** ms from spawn until `__BPFTRACE_NOTIFY_PROBES_ATTACHED` on stderr (NaN if never). */
  readonly attachMs: number;
  /** ms from spawn until the process exited. */
  readonly totalMs: number;
  /** ms from the stop signal (SIGINT) until the process exited (NaN if it ended by itself). */
  readonly stopMs: number;
  /** Peak RSS (KiB) from wait4's rusage. */
  readonly rssKb: number;
  /** User + system CPU time (ms) from wait4's rusage. */
  readonly cpuMs: number;
  /** ms from spawn until stdout first held RunOptions.marker (NaN if never). */
  readonly markerMs: number;
  /** ms from spawn until the last stdout data. */
  readonly lastOutputMs: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Bytes of standard output. */
  readonly stdoutBytes: number;
  /** Number of 'E' bytes in standard output (event lines of the throughput case). */
  readonly eBytes: number;
  /** Sum of every `Lost N events` message (stdout or stderr). */
  readonly lost: number;
  /** SIGINTs sent again because the first did not end the run within 3 s. */
  readonly resent: number;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Called once the probes are attached, with the tracer's own pid (not the wrapper's). */
  readonly whileAttached?: (pid: number) => Promise<void> | void;
  /** Send SIGINT after whileAttached (for programs that do not exit by themselves). */
  readonly stop?: boolean;
  /** Keep stdout (otherwise only counted). */
  readonly keepStdout?: boolean;
  readonly timeoutMs?: number;
  /** A line the program prints (e.g. just before exit()): its arrival is timed (markerMs). */
  readonly marker?: string;
  /** Another tracelet build's command (e.g. a checkout of main, for before/after in one run). */
  readonly traceletBin?: string;
  /**
   * The harness stays idle while the tracer runs (no whileAttached or stop): its output goes to
   * files read once it has ended, and the wrapper times the marker and the last byte. For
   * programs that sample every CPU: a Node harness woken by the output would be sampled too.
   */
  readonly quiet?: boolean;
}

const NOTIFY = '__BPFTRACE_NOTIFY_PROBES_ATTACHED';
const LOST = /Lost (\d+) events/g;

/**
 * Runs one tracer under the rusage wrapper and measures it, once the kernel has finished tearing
 * down the run before (see settled()).
 */
export async function runTracer(helpers: Helpers, tracer: TracerName, args: readonly string[], opts: RunOptions = {}): Promise<TracerRun> {
  await settled();
  return opts.quiet ? runTracerQuietly(helpers, tracer, args, opts) : runTracerNow(helpers, tracer, args, opts);
}

/**
 * Until no tracelet-reaper process is left (up to 5 s). tracelet exits at once and leaves the
 * slow part of detaching to that process (src/runtime/native/kernel-ops.c): while it unregisters
 * tracepoints it holds the kernel's event_mutex, which the next run's first read of a tracepoint's
 * format then waits for (up to ~20 ms, tracelet's type check or bpftrace's attach). bpftrace
 * detaches before it exits, so a run after it starts on a settled kernel anyway.
 */
async function settled(): Promise<void> {
  const reaping = () => readdirSync('/proc').some((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/comm`, 'latin1') === 'tracelet-reaper\n';
    } catch {
      return false;
    }
  });
  for (let i = 0; i < 1000 && reaping(); i++) await sleep(5);
}

function runTracerNow(helpers: Helpers, tracer: TracerName, args: readonly string[], opts: RunOptions): Promise<TracerRun> {
  const rssFile = join(helpers.dir, `rss-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const cmd = tracerCommand(tracer, args, opts.traceletBin);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(helpers.rusage, [rssFile, ...cmd], {
      env: { ...process.env, [NOTIFY]: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let attachMs = NaN;
    let markerMs = NaN;
    let lastOutputMs = NaN;
    let tail = '';
    let stopAt = NaN;
    let resend: NodeJS.Timeout | undefined;
    let resent = 0;
    let stdout = '';
    let stderr = '';
    let stdoutBytes = 0;
    let eBytes = 0;
    let lost = 0;
    let carry = '';
    const scanLost = (text: string) => {
      const s = carry + text;
      for (const m of s.matchAll(LOST)) if (m.index! + m[0].length > carry.length) lost += Number(m[1]);
      carry = s.slice(-40);
    };
    child.stdout!.on('data', (d: Buffer) => {
      lastOutputMs = performance.now() - t0;
      if (opts.marker && Number.isNaN(markerMs)) {
        tail = (tail + d.toString('latin1')).slice(-4096);
        if (tail.includes(opts.marker)) markerMs = lastOutputMs;
      }
      stdoutBytes += d.length;
      for (let i = d.indexOf(69); i >= 0; i = d.indexOf(69, i + 1)) eBytes++;
      if (opts.keepStdout) stdout += d.toString();
      scanLost(d.toString('latin1'));
    });
    let notified = false;
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!notified && stderr.includes(NOTIFY)) {
        notified = true;
        attachMs = performance.now() - t0;
        void afterAttach();
      }
    });
    const timer = setTimeout(() => {
      // The tracer first: once the wrapper is gone its child can no longer be found.
      killTree(child);
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    const afterAttach = async () => {
      try {
        if (opts.whileAttached) await opts.whileAttached(tracerPid(child.pid!));
      } catch (e) {
        reject(e);
      }
      if (opts.stop) {
        // bpftrace 0.17 loses a SIGINT that arrives after it printed the notification but before it
        // waits in its poll loop (it then blocks in epoll_wait until the next event, maybe forever):
        // stop either tracer only once its main thread waits in epoll, and repeat SIGINT if needed.
        // A prepared run's launcher waits in poll for the Node it runs: Node is the one to wait for.
        const tracer = tracerPid(child.pid!);
        for (let i = 0; i < 300 && wchan(tracerPid(tracer)) !== 'do_epoll_wait'; i++) await sleep(10);
        stopAt = performance.now();
        child.kill('SIGINT');
        resend = setInterval(() => {
          resent++;
          child.kill('SIGINT');
        }, 3000);
      }
    };
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(resend);
      const totalMs = performance.now() - t0;
      const [rssKb, cpuMs] = wrapperFigures(rssFile);
      for (const m of stderr.matchAll(LOST)) lost += Number(m[1]);
      resolve({
        attachMs, totalMs, stopMs: Number.isNaN(stopAt) ? NaN : performance.now() - stopAt, rssKb, cpuMs, markerMs, lastOutputMs, code,
        stdout, stderr: stderr.replace(`${NOTIFY}\n`, ''), stdoutBytes, eBytes, lost, resent,
      });
    });
  });
}

/**
 * What bench/c/rusage.c wrote (peak RSS KiB, CPU ms, and with RUSAGE_MARKER the marker's and the
 * last byte's ms), then the file removed; NaN for what it did not write (or wrote as -1).
 */
function wrapperFigures(file: string): [number, number, number, number] {
  let lines: number[] = [];
  try {
    lines = readFileSync(file, 'utf8').trim().split('\n').map(Number);
    rmSync(file);
  } catch {
    // the wrapper did not get that far
  }
  const at = (i: number) => (lines[i] === undefined || lines[i]! < 0 ? NaN : lines[i]!);
  return [at(0), at(1), at(2), at(3)];
}

/** runTracer with RunOptions.quiet: nothing is read until the tracer has ended. */
function runTracerQuietly(helpers: Helpers, tracer: TracerName, args: readonly string[], opts: RunOptions): Promise<TracerRun> {
  const base = join(helpers.dir, `quiet-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const [rssFile, outFile, errFile] = [`${base}.rss`, `${base}.out`, `${base}.err`];
  const [outFd, errFd] = [openSync(outFile, 'w'), openSync(errFile, 'w')];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(helpers.rusage, [rssFile, ...tracerCommand(tracer, args, opts.traceletBin)], {
      env: { ...process.env, ...(opts.marker ? { RUSAGE_MARKER: opts.marker } : {}), ...opts.env },
      stdio: ['ignore', outFd, errFd],
    });
    closeSync(outFd);
    closeSync(errFd);
    const timer = setTimeout(() => {
      killTree(child);
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const totalMs = performance.now() - t0;
      const read = (file: string) => {
        try {
          return readFileSync(file);
        } catch {
          return Buffer.alloc(0);
        }
      };
      const [rssKb, cpuMs, markerMs, lastOutputMs] = wrapperFigures(rssFile);
      const out = read(outFile);
      const stderr = read(errFile).toString();
      for (const f of [outFile, errFile]) rmSync(f, { force: true });
      let eBytes = 0;
      for (let i = out.indexOf(69); i >= 0; i = out.indexOf(69, i + 1)) eBytes++;
      let lost = 0;
      for (const m of `${out.toString('latin1')}\n${stderr}`.matchAll(LOST)) lost += Number(m[1]);
      resolve({
        attachMs: NaN, totalMs, stopMs: NaN, rssKb, cpuMs, markerMs, lastOutputMs, code,
        stdout: opts.keepStdout ? out.toString() : '', stderr: stderr.replace(`${NOTIFY}\n`, ''),
        stdoutBytes: out.length, eBytes, lost, resent: 0,
      });
    });
  });
}

/** What the process's main thread waits in (e.g. do_epoll_wait). */
function wchan(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/wchan`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The tracer's pid: the rusage wrapper's only child (or a prepared run's Node: its launcher's only child); the pid itself without one. */
function tracerPid(wrapperPid: number): number {
  try {
    const kids = readFileSync(`/proc/${wrapperPid}/task/${wrapperPid}/children`, 'utf8').trim().split(/\s+/);
    return Number(kids[0]) || wrapperPid;
  } catch {
    return wrapperPid;
  }
}

function killTree(child: ChildProcess): void {
  const pid = child.pid;
  if (!pid) return;
  const inner = tracerPid(pid);
  if (inner !== pid) {
    try {
      process.kill(inner, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

// ---- the workload ----

export interface Workload {
  readonly pid: number;
  /** Starts the calls; resolves with the elapsed ns the workload measured. */
  go(): Promise<number>;
}

/** Starts the getppid() workload, waiting for the go; resolves once it is ready. */
export function startWorkload(helpers: Helpers, calls: number, rate = 0): Promise<Workload> {
  return startReadyProcess(helpers.workload, [String(calls), String(rate)]);
}

/** Starts a workload that says "ready", waits for a line on stdin and prints the ns it took. */
export function startReadyProcess(path: string, args: readonly string[]): Promise<Workload> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let ready = false;
    let finish: (ns: number) => void = () => {};
    const done = new Promise<number>((r) => (finish = r));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!ready && out.startsWith('ready\n')) {
        ready = true;
        resolve({
          pid: child.pid!,
          go: () => {
            child.stdin!.end('go\n');
            return done;
          },
        });
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (!ready) reject(new Error(`workload exited with ${code}`));
      finish(Number(out.split('\n')[1]));
    });
  });
}

// ---- BPF programs and statistics ----

/**
 * Ids of the BPF programs whose fds a tracer holds (from /proc/PID/fdinfo): the process and its
 * child, the Node a prepared run's launcher starts and hands the loaded programs to.
 */
export function programIdsOf(pid: number): number[] {
  const child = tracerPid(pid);
  return [...new Set([...programIdsOfProcess(pid), ...(child === pid ? [] : programIdsOfProcess(child))])];
}

function programIdsOfProcess(pid: number): number[] {
  const ids: number[] = [];
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return ids;
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== 'anon_inode:bpf-prog') continue;
      const m = /^prog_id:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.push(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return [...new Set(ids)];
}

export interface ProgInfo {
  readonly id: number;
  readonly name: string;
  readonly type: string;
  readonly runTimeNs: number;
  readonly runCnt: number;
  readonly xlatedInsns: number;
  readonly jitedBytes: number;
}

export function progInfo(ids: readonly number[]): ProgInfo[] {
  const out: ProgInfo[] = [];
  for (const id of ids) {
    const r = spawnSync('bpftool', ['prog', 'show', 'id', String(id), '--json'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const p = JSON.parse(r.stdout) as Record<string, unknown>;
    out.push({
      id,
      name: String(p.name ?? ''),
      type: String(p.type ?? ''),
      runTimeNs: Number(p.run_time_ns ?? 0),
      runCnt: Number(p.run_cnt ?? 0),
      xlatedInsns: Number(p.bytes_xlated ?? 0) / 8,
      jitedBytes: Number(p.bytes_jited ?? 0),
    });
  }
  return out;
}

const BPF_STATS = '/proc/sys/kernel/bpf_stats_enabled';

/** Turns on kernel.bpf_stats_enabled; returns a function that restores the previous value. */
export function enableBpfStats(): () => void {
  const before = readFileSync(BPF_STATS, 'utf8').trim();
  spawnSync('sysctl', ['-q', '-w', 'kernel.bpf_stats_enabled=1']);
  return () => {
    spawnSync('sysctl', ['-q', '-w', `kernel.bpf_stats_enabled=${before}`]);
  };
}

// ---- the machine ----

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

export function bpftraceVersion(): string {
  const r = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').trim();
}

/** Installs bpftrace with apt-get if it is missing. */
export function ensureBpftrace(): void {
  if (spawnSync('sh', ['-c', 'command -v bpftrace']).status === 0) return;
  process.stderr.write('bench: installing bpftrace (apt-get)\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'bpftrace'], { stdio: 'inherit', env });
  if (r.status !== 0) throw new Error('cannot install bpftrace');
}

/** bpftrace 0.17 fails with `tracepoint not found` when tracefs is not mounted; tracelet mounts it. */
export function ensureTracefs(): void {
  if (existsSync('/sys/kernel/tracing/events')) return;
  spawnSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
