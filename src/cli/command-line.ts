// tracelet's command line: its options (commander), and how an argv is parsed into them. Apart
// from main() so that the start-up snapshot holds the command already built, and commander's code
// compiled by one parse (src/cli/snapshot.ts): ~5 ms of a run's start.
import { Command, Option } from 'commander';
import { exitCodesHelp } from './exit-codes.js';

export interface Options {
  e?: string;
  format: 'text' | 'json' | 'folded' | 'pprof';
  output?: string;
  flamegraph?: string;
  flamegraphMap?: string;
  flamegraphTitle?: string;
  flamegraphUnits?: string;
  emitLlvm?: boolean | string;
  d: number;
  dryRun?: boolean;
  test?: boolean;
  bench?: boolean;
  l?: string | boolean;
  v?: boolean;
  p?: string;
  c?: string;
  unsafe?: boolean;
  k: number;
  B?: 'none' | 'line' | 'full';
  q?: boolean;
  warnings: boolean;
  probeFilter?: string;
  I: string[];
  include: string[];
  emitElf?: string;
  explain?: 'bpf' | 'ir';
  completion?: 'bash' | 'zsh';
  info?: boolean;
  metrics?: string;
  timings?: boolean;
  cache: boolean;
}

/** Built ahead by buildCommandLineAhead(), for the one run of this process. */
let builtAhead: Command | undefined;

/** Builds the command now (the start-up snapshot does); takeCommandLine() then finds it built. */
export function buildCommandLineAhead(): void {
  builtAhead = commandLine();
}

/** The tracelet command, with its --version line; `output` writes its help, version and errors. */
export function takeCommandLine(version: string, output: { writeOut(text: string): void; writeErr(text: string): void }): Command {
  const program = builtAhead ?? commandLine();
  builtAhead = undefined;
  // Added last, as it always was: --help lists it after the other options.
  return program.version(version, '-V, --version', 'print the version (as bpftrace --version does)').configureOutput(output);
}

/** The command's options and settings, but for --version and where output goes (the run's own). */
export function commandLine(): Command {
  return new Command('tracelet')
    .description('A bpftrace-compatible tracer: compiles a tracing program to BPF and runs it')
    .argument('[file]', 'program file (.bt); "-" reads standard input')
    .argument('[args...]', 'positional parameters $1, $2, ...')
    .option('-e <program>', 'the program to run, given on the command line')
    .addOption(new Option('-f, --format <format>', 'output format (folded: maps keyed by stacks as folded lines for flame graph tools, the rest goes to stderr; pprof: those maps as a pprof profile in -o FILE)').choices(['text', 'json', 'folded', 'pprof']).default('text'))
    .option('-o, --output <file>', 'write output to FILE instead of standard output')
    .option('--flamegraph <file>', 'at exit, draw each map keyed by stacks as an interactive SVG flame graph in FILE (several maps: FILE-NAME.svg)')
    .option('--flamegraph-map <name>', 'with --flamegraph: draw only this map (e.g. @offcpu), to FILE')
    .option('--flamegraph-title <text>', 'with --flamegraph: the title (default "Flame graph of @NAME")')
    .option('--flamegraph-units <unit>', 'with --flamegraph: what the values count: samples, ns, us, ms, s, or any word (default: samples for count(), ns for sum() of nsecs)')
    .option('--emit-llvm [file]', 'write the LLVM IR to FILE.original.ll and FILE.optimized.ll (without FILE: print it and exit)')
    .option('-d', 'debug info, without running: the AST after each stage and the IR (-dd: also before optimisation)',
      (_: string, level: number) => level + 1, 0)
    .option('--dry-run', 'compile and load the program, but do not attach it')
    .option('--test', 'run each test: probe (after BEGIN, before END) and report which pass; attach nothing else')
    .option('--bench', 'run each bench: probe many times and print the average time of one run; attach nothing else')
    .option('-l [pattern]', 'list probes (matching PATTERN, e.g. "tracepoint:sched:*")')
    .option('-v', 'verbose: program ids, sizes and verifier logs (with -l: probe arguments)')
    .option('-p <pid>', 'attach uprobes and usdt probes to this process only; end when it exits')
    .option('-c <command>', 'run COMMAND once every probe is attached (cpid is its pid); end when it exits')
    .option('--unsafe', 'allow unsafe functions: system(), signal()')
    .option('-k', 'report failed helper calls (-kk: also failed probe_read*)', (_: string, level: number) => level + 1, 0)
    .addOption(new Option('-B <mode>', 'output buffering mode').choices(['none', 'line', 'full']))
    .option('-q', 'quiet: no "Attaching N probes..." message')
    .option('--no-warnings', 'do not print warnings (nor warnf() messages)')
    .option('--probe-filter <regex>', 'only compile, attach and run the probes whose full name (e.g. tracepoint:syscalls:sys_enter_openat) REGEX matches; BEGIN, END and self:signal always run')
    .option('-I <dir>', 'search DIR for #included headers (repeatable)', (d: string, all: string[]) => [...all, d], [])
    .option('--include <file>', 'as if the program began with #include <FILE> (repeatable)', (f: string, all: string[]) => [...all, f], [])
    .option('--usdt-file-activation', 'accepted for bpftrace compatibility: USDT semaphores are always activated by file')
    .option('--emit-elf <file>', 'write the compiled BPF object (the one a run loads) to FILE and exit')
    .addOption(new Option('--explain [what]', 'print each statement with the BPF instructions (or, with =ir, the LLVM IR) it compiles to, the helpers and the maps, and exit').choices(['bpf', 'ir']))
    .option('--no-cache', 'compile afresh and read symbols afresh: do not read or write the caches of compiled objects and symbol tables (~/.cache/tracelet)')
    .option('--metrics <[host:]port>', 'serve the maps on http://HOST:PORT/metrics for Prometheus while running')
    .addOption(new Option('--completion <shell>', 'print a completion script for SHELL and exit').choices(['bash', 'zsh']))
    .option('--info', 'print the system, the build and what this kernel\'s BPF accepts (as bpftrace --info, to stderr), and exit')
    .option('--timings', 'print how long each phase of the run took on stderr (also TRACELET_TIMINGS=1)')
    .addHelpText('after', `\n${exitCodesHelp()}`)
    .exitOverride()
    .allowExcessArguments(true);
}

/** Parses the command's arguments (without node and script) into `program.opts()` and `program.args`; throws CommanderError on usage errors, --help and --version. */
export function parseCommandLine(program: Command, argv: readonly string[]): void {
  // bpftrace spells -l -v as -lv: split it so -l still takes the pattern after it.
  // A bare --explain takes no value: the program file after it stays the program file.
  program.parse(argv.flatMap((a) => (a === '-lv' || a === '-vl' ? ['-v', '-l'] : a === '--explain' ? ['--explain=bpf'] : [a])), { from: 'user' });
}
