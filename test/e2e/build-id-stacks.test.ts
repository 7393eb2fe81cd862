// ustack(build_id) (bpftrace 0.26) on the real kernel: each frame is the GNU build id of its file
// and the offset in that file (bpf_get_stack with BPF_F_USER_BUILD_ID), or the address in
// hex for a file without a build id; printed as 0.26 prints it, in text, JSON and through the API.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trace, type BuildIdFrame } from '../../src/api/index.js';
import { ElfFile } from '../../src/kernel/index.js';
import { runTracelet } from '../helpers/run.js';

const SOURCE = fileURLToPath(new URL('../fixtures/workloads/exits.c', import.meta.url));
let dir: string;
/** Built with a GNU build id (sha1: 20 bytes, as the kernel records). */
let withId: string;
/** Built without one, not position-independent: its frames are its own addresses. */
let withoutId: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tl-build-id-'));
  withId = join(dir, 'with_id');
  withoutId = join(dir, 'without_id');
  execFileSync('gcc', ['-O1', '-fno-omit-frame-pointer', '-Wl,--build-id=sha1', '-o', withId, SOURCE]);
  execFileSync('gcc', ['-O1', '-fno-omit-frame-pointer', '-no-pie', '-Wl,--build-id=none', '-o', withoutId, SOURCE]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A function of the binary: where it starts (file offset, address) and its size. */
function symbol(binary: string, name: string): { fileOffset: bigint; address: bigint; size: bigint } {
  return ElfFile.open(binary).findSymbol(name)[0]!;
}

const hex = (n: bigint) => n.toString(16);
/** The frames of the first stack printed in a map key (`@[\n...\n]: 1`). */
function keyFrames(stdout: string): string[] {
  const m = /^@\[\n((?:.+\n)+?)\]: 1$/m.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return m![1]!.trimEnd().split('\n');
}

describe('ustack(build_id)', () => {
  it('prints each frame as the file\'s build id and the offset in the file, without indentation', () => {
    const buildId = ElfFile.open(withId).buildId()!;
    expect(buildId).toMatch(/^[0-9a-f]{40}$/);
    const r = runTracelet(['-e', `uprobe:${withId}:tl_known_leaf { @[ustack(build_id)] = count(); }`, '-c', withId]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const frames = keyFrames(r.stdout);
    // The probed function at its first instruction, then (through the frame pointer) main.
    expect(frames[0]).toBe(`${buildId} 0x${hex(symbol(withId, 'tl_known_leaf').fileOffset)}`);
    const main = symbol(withId, 'main');
    const [id, offset] = frames[1]!.split(' ');
    expect(id).toBe(buildId);
    expect(BigInt(offset!)).toBeGreaterThan(main.fileOffset);
    expect(BigInt(offset!)).toBeLessThan(main.fileOffset + main.size);
    // libc's frames have its build id; every frame is one of the two forms.
    for (const f of frames) expect(f).toMatch(/^([0-9a-f]{40} 0x[0-9a-f]{2,}|[0-9a-f]+)$/);
  });

  it('prints the address in hex for a frame whose file has no build id; ustack(build_id, N) keeps N frames', () => {
    const r = runTracelet(['-e', `uprobe:${withoutId}:tl_known_leaf { @[ustack(build_id, 2)] = count(); }`, '-c', withoutId]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const frames = keyFrames(r.stdout);
    expect(frames).toHaveLength(2);
    // Not position-independent: the frame's address is the symbol's.
    expect(frames[0]).toBe(hex(symbol(withoutId, 'tl_known_leaf').address));
    const main = symbol(withoutId, 'main');
    expect(BigInt(`0x${frames[1]}`)).toBeGreaterThan(main.address);
    expect(BigInt(`0x${frames[1]}`)).toBeLessThan(main.address + main.size);
  });

  it('is printed by print() and printf %s, and in -f json as the same text', () => {
    const buildId = ElfFile.open(withId).buildId()!;
    const leaf = `${buildId} 0x${hex(symbol(withId, 'tl_known_leaf').fileOffset)}`;
    const text = runTracelet(['-e', `uprobe:${withId}:tl_known_leaf { print(ustack(build_id, 1)); printf("<%s>\\n", ustack(build_id, 1)); }`, '-c', withId]);
    expect(text.stderr).toBe('');
    // Then the two blank lines of the exit (no maps to print).
    expect(text.stdout).toBe(`Attaching 1 probe...\n\n${leaf}\n\n<\n${leaf}\n>\n\n\n`);
    const json = runTracelet(['-f', 'json', '-e', `uprobe:${withId}:tl_known_leaf { @[ustack(build_id, 1)] = count(); }`, '-c', withId]);
    expect(json.stderr).toBe('');
    const map = json.stdout.split('\n').map((l) => (l ? JSON.parse(l) : undefined)).find((l) => l?.type === 'map');
    expect(map).toEqual({ type: 'map', data: { '@': { [`\n${leaf}\n`]: 1 } } });
  });

  it('gives the Node API { buildId, offset } frames', async () => {
    const session = await trace(`uprobe:${withId}:tl_known_leaf { @[ustack(build_id, 2)] = count(); }`, { command: withId });
    const { maps } = await session.done;
    const frames = maps['@']!.entries[0]!.key[0] as readonly BuildIdFrame[];
    expect(frames[0]).toEqual({ buildId: ElfFile.open(withId).buildId(), offset: symbol(withId, 'tl_known_leaf').fileOffset });
    expect(frames).toHaveLength(2);
  });
});
