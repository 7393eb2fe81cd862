// describeLoadError(): what a failed load says, at the probe or statement the kernel refused.
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/parser/index.js';
import { describeLoadError } from '../../src/runtime/errors.js';
import type { Session } from '../../src/runtime/session.js';

const source = { name: 'stdin', text: 'profile:hz:99 { @[kstack] = count(); }' };
const probe = parse(source.text).program!.probes[0]!;
/** A session whose one program is that probe's (all describeLoadError asks of it). */
const session = { programNamed: () => ({ probe: { probe }, targets: [{ name: 'profile:hz:99' }] }) } as unknown as Session;

function loadError(message: string, code: string, log: string): Error {
  return Object.assign(new Error(message), { code, log });
}

describe('describeLoadError', () => {
  it('shows what the verifier said when it refused the code', () => {
    const text = describeLoadError(loadError("prog 'tl_prof_0': failed to load", 'EACCES', 'R1 invalid mem access'), session, source);
    expect(text).toContain("stdin:1:1: error: the kernel's BPF verifier rejected the code of this probe (profile:hz:99)");
    expect(text).toContain('the verifier said:\n  R1 invalid mem access');
  });

  it('says that signals interrupted the verifier (EAGAIN), not that it refused anything', () => {
    // As under `node --cpu-prof --cpu-prof-interval=50`: the log stops mid-program, with no reason.
    const text = describeLoadError(loadError("prog 'tl_prof_0': failed to load", 'EAGAIN', '25: (bf) r8 = r0\nprocessed 25 insns'), session, source);
    expect(text).toContain('stdin:1:1: error: the kernel\'s BPF verifier was interrupted by signals while checking this probe (profile:hz:99); nothing was rejected');
    expect(text).toContain('hint: signals kept arriving');
    expect(text).not.toContain('rejected the code');
  });
});
