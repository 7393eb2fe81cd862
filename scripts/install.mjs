// npm's install step for tracelet installed as a package (`npm install tracelet`, `npm install -g`):
// builds the native addon (LLVM 14 and libbpf, with node-gyp) and the start-up snapshot. The
// package ships the compiled JavaScript; only what depends on this machine is made here. In a
// checkout, scripts/setup.sh does all this (and installs the system packages) instead.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync(join(root, '.git'))) process.exit(0); // a checkout: scripts/setup.sh builds

/** What the build needs, and the Debian package that brings it. */
const NEEDS = [
  { what: 'a C++ compiler', has: () => onPath('g++') || onPath('c++'), pkg: 'g++' },
  { what: 'make', has: () => onPath('make'), pkg: 'make' },
  { what: 'the gold linker (LLVM is linked with it)', has: () => onPath('ld.gold'), pkg: 'binutils' },
  { what: 'python3 (for node-gyp)', has: () => onPath('python3'), pkg: 'python3' },
  { what: 'LLVM 14', has: () => onPath('llvm-config-14'), pkg: 'llvm-14-dev' },
  { what: 'libbpf', has: () => existsSync('/usr/include/bpf/libbpf.h'), pkg: 'libbpf-dev' },
  { what: 'libelf', has: () => existsSync('/usr/include/gelf.h'), pkg: 'libelf-dev' },
  { what: 'zlib', has: () => existsSync('/usr/include/zlib.h'), pkg: 'zlib1g-dev' },
];

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

const missing = NEEDS.filter((n) => !n.has());
if (missing.length > 0) {
  const pkgs = missing.map((n) => n.pkg).join(' ');
  console.error(`tracelet: building its native addon needs ${missing.map((n) => n.what).join(', ')}: install them with \`apt-get install ${pkgs}\`.`);
  process.exit(1);
}

const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: 'inherit' });
// npm puts its own node-gyp on the PATH of install scripts.
run('node-gyp', ['rebuild', '--jobs=max']);
try {
  run(process.execPath, [join(root, 'scripts/snapshot.mjs')]);
} catch {
  // bin/tracelet runs the bundle without it, only slower to start.
  console.error('tracelet: the start-up snapshot could not be made; tracelet will start without it');
}
