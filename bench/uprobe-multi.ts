// Many uprobes at once: N perf-event uprobes (libbpf, one attach and one detach each) against one
// BPF_TRACE_UPROBE_MULTI link (native attachUprobeMulti), on rarely called libc functions, and a
// check that both count the same calls.
//
//   node --import tsx bench/uprobe-multi.ts [N]      (as root, after npm run build)
import { spawnSync } from 'node:child_process';
import { native } from '../src/runtime/native.js';
import { SystemKernel } from '../src/kernel/index.js';
import { bumpIR } from '../test/helpers/bpf-ir.js';

const addon = native();
const kernel = new SystemKernel();
const libc = kernel.resolveBinary('libc') ?? '/lib/x86_64-linux-gnu/libc.so.6';
const wanted = Number(process.argv[2] ?? 50);

// Functions nothing on this machine calls on its own (so the uprobes cost nothing meanwhile),
// ether_aton and argz_count first: the workload below calls them.
const candidates = kernel.elfSymbols(libc)
  .filter((s) => s.type === 'func' && s.size > 0n && /^(ether_|argz_|envz_|inet6_opt_|inet6_rth_|getnet|getproto|getrpc)/.test(s.name));
const byOffset = new Map<bigint, string>();
for (const s of candidates) if (!byOffset.has(s.fileOffset)) byOffset.set(s.fileOffset, s.name);
const chosen = [...byOffset].sort(([, a], [, b]) => Number(b === 'ether_aton' || b === 'argz_count') - Number(a === 'ether_aton' || a === 'argz_count'))
  .slice(0, wanted);
const offsets = chosen.map(([o]) => o);

function counter(fd: number): bigint {
  return addon.mapLookup(fd, Buffer.alloc(4), 8)?.readBigUInt64LE(0) ?? 0n;
}

/** 5 × ether_aton + 3 × argz_count, from another process. */
function workload(): void {
  const py = "import ctypes; l = ctypes.CDLL('libc.so.6')\n" +
    "for i in range(5): l.ether_aton(b'00:11:22:33:44:55')\n" +
    "for i in range(3): l.argz_count(b'a\\x00b\\x00', 4)\n";
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`workload failed: ${r.stderr}`);
}

const ms = (t: number) => `${(performance.now() - t).toFixed(1)} ms`;

console.log(`${chosen.length} uprobes in ${libc} (${chosen.slice(0, 4).map(([, n]) => n).join(', ')}, ...)`);

{
  const map = addon.mapCreate('array', 'tl_bench_up', 4, 8, 1);
  const obj = addon.loadObject(addon.compileIR(bumpIR('tl_bench_up', 'uprobe/tl_bench_up', map)), { tl_bench_up: 'uprobe' });
  let t = performance.now();
  const links = offsets.map((o) => addon.attachUprobe(obj, 'tl_bench_up', libc, Number(o), false, -1, 0));
  const attach = ms(t);
  workload();
  const hits = counter(map);
  t = performance.now();
  for (const l of links) l.destroy();
  const detach = ms(t);
  obj.close();
  addon.closeFd(map);
  console.log(`perf-event uprobes (one each): attach ${attach}, detach ${detach}, hits ${hits}`);
}

{
  const map = addon.mapCreate('array', 'tl_bench_upm', 4, 8, 1);
  const obj = addon.loadObject(addon.compileIR(bumpIR('tl_bench_upm', 'uprobe/tl_bench_upm', map)), { tl_bench_upm: 'uprobe_multi' });
  let t = performance.now();
  const link = addon.attachUprobeMulti(obj.programFd('tl_bench_upm'), libc, offsets, [], false, -1);
  const attach = ms(t);
  workload();
  const hits = counter(map);
  t = performance.now();
  addon.closeFd(link);
  const detach = ms(t);
  obj.close();
  addon.closeFd(map);
  console.log(`one uprobe_multi link:              attach ${attach}, detach ${detach}, hits ${hits}`);
}
