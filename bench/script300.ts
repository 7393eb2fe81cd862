// A 300-line bpftrace program for the compile benchmark: 25 tracepoint probes of 12 lines, each
// with a filter, a scratch variable, if/else, count/sum/avg/hist/lhist maps and a printf. Only
// features both tracers have; syscalls that this kernel lacks are skipped for the next ones.
import { existsSync } from 'node:fs';

const SYSCALLS = [
  'read', 'write', 'openat', 'close', 'newfstat', 'mmap', 'mprotect', 'munmap', 'brk', 'ioctl', 'pread64',
  'pwrite64', 'readv', 'writev', 'access', 'pipe', 'sched_yield', 'mremap', 'msync', 'mincore', 'madvise',
  'dup', 'dup2', 'nanosleep', 'getpid', 'socket', 'connect', 'accept', 'sendto', 'recvfrom', 'shutdown', 'bind',
  'listen', 'getsockname', 'clone', 'fork', 'vfork', 'wait4', 'kill', 'uname', 'fcntl', 'flock', 'fsync',
];

export function script300(tracefs = '/sys/kernel/tracing'): string {
  const present = SYSCALLS.filter((s) => existsSync(`${tracefs}/events/syscalls/sys_enter_${s}/format`));
  if (present.length < 25) throw new Error(`only ${present.length} of the syscall tracepoints exist`);
  let out = '';
  present.slice(0, 25).forEach((s, i) => {
    out += `tracepoint:syscalls:sys_enter_${s} /pid > 1/ {\n`
      + `  @calls_${i}[comm] = count();\n`
      + `  $x = pid * ${i + 1} + tid;\n`
      + `  if ($x > 1000) {\n`
      + `    @big_${i} = sum($x);\n`
      + `  } else {\n`
      + `    @small_${i} = avg($x);\n`
      + `  }\n`
      + `  @lat_${i} = hist(nsecs & 1023);\n`
      + `  @lin_${i}[cpu] = lhist(tid & 127, 0, 128, 16);\n`
      + `  printf("${s} %s %d %d\\n", comm, pid, $x);\n`
      + `}\n`;
  });
  return out;
}
