// --flamegraph FILE.svg: written at exit from the stack maps, and used in a real browser
// (Debian's chromium, headless, driven over the DevTools protocol): the known frames are there,
// a click zooms a frame to the full width, search highlights, Reset Zoom goes back.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Browser, CHROMIUM, haveChromium } from '../helpers/chromium.js';
import { traceWorkload, withPipewake } from '../helpers/pipewake.js';
import { runTracelet } from '../helpers/run.js';

const OFFCPUTIME = fileURLToPath(new URL('../../examples/offcputime.bt', import.meta.url));
/** The SVG's width less its margins: the width of a frame zoomed to. */
const FULL_WIDTH = 1180;
const fixture = withPipewake();

describe('--flamegraph', () => {
  it('draws each stack map into its own file, or the one --flamegraph-map names', () => {
    const prog = 'profile:hz:99 { @a[kstack] = count(); @b[comm, ustack] = count(); @n = count(); } interval:ms:300 { exit(); }';
    const file = join(fixture.dir, 'two.svg');
    const r = runTracelet(['--flamegraph', file, '-e', prog]);
    expect(r.code).toBe(0);
    expect(existsSync(join(fixture.dir, 'two-a.svg')) && existsSync(join(fixture.dir, 'two-b.svg'))).toBe(true);
    expect(r.stderr).toContain(`Wrote the flame graph of @a to ${join(fixture.dir, 'two-a.svg')}`);
    // Maps that are drawn are not printed; the others are.
    expect(r.stdout).toMatch(/^@n: \d+$/m);
    expect(r.stdout).not.toContain('@a[');

    const one = join(fixture.dir, 'one.svg');
    const only = runTracelet(['--flamegraph', one, '--flamegraph-map', 'b', '--flamegraph-title', 'By comm', '-e', prog]);
    expect(only.code).toBe(0);
    expect(readFileSync(one, 'utf8')).toContain('>By comm</text>');
    // Printed, not drawn (empty stacks when every sample hit user code: `@a[]: N`).
    expect(only.stdout).toMatch(/^@a\[/m);
  });

  it('refuses a map that does not exist or has no stack in its key, and a file it cannot write', () => {
    const r = runTracelet(['--flamegraph', join(fixture.dir, 'x.svg'), '--flamegraph-map', '@n', '-e', 'BEGIN { @n = count(); @s[kstack] = count(); exit(); }']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--flamegraph-map @n: no such map keyed by a stack (there are: @s)');
    const none = runTracelet(['--flamegraph', join(fixture.dir, 'x.svg'), '-e', 'BEGIN { @n = count(); exit(); }']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no map keyed by a stack');
    // A file that cannot be written is refused before the run, as -o does.
    const unwritable = runTracelet(['--flamegraph', join(fixture.dir, 'no/such/dir.svg'), '-e', 'BEGIN { @s[kstack] = count(); exit(); }']);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toContain('no/such/dir.svg: ENOENT');
  });
});

describe(`the SVG in ${CHROMIUM}`, () => {
  it('shows the known frames; a click zooms one to the full width; search and reset work', async () => {
    // scripts/setup.sh installs it (TRACELET_WITH_BPFTRACE=1, with the other test tools).
    expect(haveChromium(), `${CHROMIUM} is missing: run TRACELET_WITH_BPFTRACE=1 scripts/setup.sh`).toBe(true);
    const svg = join(fixture.dir, 'offcpu.svg');
    const r = await traceWorkload(fixture.pipewake, (pid) => ['--flamegraph', svg, OFFCPUTIME, pid]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Wrote the flame graph of @offcpu to ${svg}`);
    const browser = Browser.launch();
    let stopPrompts = () => {};
    try {
      const page = await browser.open(`file://${svg}`);
      // A frame's box and fill, by its name (of frames with that name, the largest: other stacks
      // of pipewake may pass through vfs_read too).
      const frame = (label: string) => page.evaluate<{ x: number; y: number; width: number; hidden: boolean; fill: string; faded: boolean } | null>(`(() => {
        const g = [...document.querySelectorAll('g.f')]
          .filter((g) => g.querySelector('title').textContent.startsWith(${JSON.stringify(label)} + ' ('))
          .sort((a, b) => b.getAttribute('data-v') - a.getAttribute('data-v'))[0];
        if (!g) return null;
        const r = g.querySelector('rect');
        // A graph of deep stacks is taller than the window: its root rows are below it, where no
        // mouse event goes, until scrolled into view.
        r.scrollIntoView({ block: 'center', inline: 'center' });
        const box = r.getBoundingClientRect();
        return { x: box.x + box.width / 2, y: box.y + box.height / 2, width: +r.getAttribute('width'),
          hidden: g.classList.contains('hidden'), fill: r.getAttribute('fill'), faded: g.classList.contains('parent') };
      })()`);
      const text = (id: string) => page.evaluate<string>(`document.getElementById(${JSON.stringify(id)}).textContent`);

      // The known frames, and the time in time units (the sum of nsecs: ns by default).
      const block = await frame('block_on_pipe');
      expect(block).not.toBeNull();
      expect(await frame('main')).not.toBeNull();
      expect(await frame('vfs_read')).not.toBeNull();
      expect(await page.evaluate<string>(`[...document.querySelectorAll('title')].map((t) => t.textContent).find((t) => t.startsWith('block_on_pipe ('))`))
        .toMatch(/^block_on_pipe \(\d+(\.\d+)? ms, /);
      const other = await frame('clock_nanosleep') ?? await frame('do_nanosleep');
      expect(other).not.toBeNull();
      expect(block!.width).toBeLessThan(FULL_WIDTH);

      // Hover shows the details; a real click on block_on_pipe zooms it to the full width.
      // Chrome delivers mouse moves with an animation frame: wait for frames until the details
      // change (a loaded machine may take more than one), moving again now and then (a move
      // Chrome dropped under load is not delivered later).
      for (let i = 0; i < 400 && !/\S/.test(await text('details')); i++) {
        if (i % 10 === 0) await page.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: block!.x + (i / 10) % 2, y: block!.y });
        await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 10)))');
      }
      expect(await text('details')).toMatch(/^block_on_pipe \(/);
      await page.click(block!.x, block!.y);
      if (process.env.TRACELET_FLAME_SHOT) await page.screenshot(process.env.TRACELET_FLAME_SHOT);
      const zoomed = await frame('block_on_pipe');
      expect(zoomed!.width).toBeCloseTo(FULL_WIDTH, 0);
      expect((await frame('main'))!.faded).toBe(true); // its ancestors stay, faded
      expect((await frame('vfs_read'))!.width).toBeCloseTo(FULL_WIDTH, 0); // its only child
      expect((await frame('do_nanosleep'))!.hidden).toBe(true); // outside it: hidden

      // Search (the button, answering its prompt) highlights the matches and gives their share.
      // The button is found (and scrolled into view) again before each click: a click that opens
      // no prompt (1 run in 4 with both CPUs busy: the page had scrolled under it) is tried again.
      // Should both clicks arrive, the second prompt is answered as the first, and prompts are
      // answered until the end, so that none is left open to block the page.
      const prompts = page.answerPrompts('block_on');
      stopPrompts = prompts.stop;
      for (let i = 0; i < 20 && prompts.asked.length === 0; i++) {
        const button = await page.evaluate<{ x: number; y: number }>(`(() => { const e = document.getElementById('search'); e.scrollIntoView({ block: 'center', inline: 'center' }); const b = e.getBoundingClientRect(); return { x: b.x + b.width / 2, y: b.y + b.height / 2 }; })()`);
        await page.click(button.x, button.y);
        for (let wait = 0; wait < 20 && prompts.asked.length === 0; wait++) await new Promise((r) => setTimeout(r, 50));
      }
      expect(prompts.asked[0]).toContain('Search');
      expect((await frame('block_on_pipe'))!.fill).toBe('rgb(230,0,230)');
      expect((await frame('vfs_read'))!.fill).not.toBe('rgb(230,0,230)');
      expect(await text('matched')).toMatch(/^Matched: \d+\.\d%$/);

      // Reset Zoom: back to the first widths.
      // Found and clicked as the search button (a reset twice is a reset).
      for (let i = 0; i < 20 && Math.abs((await frame('block_on_pipe'))!.width - block!.width) > 0.05; i++) {
        const reset = await page.evaluate<{ x: number; y: number }>(`(() => { const e = document.getElementById('reset'); e.scrollIntoView({ block: 'center', inline: 'center' }); const b = e.getBoundingClientRect(); return { x: b.x + b.width / 2, y: b.y + b.height / 2 }; })()`);
        await page.click(reset.x, reset.y);
      }
      expect((await frame('block_on_pipe'))!.width).toBeCloseTo(block!.width, 1);
      expect((await frame('do_nanosleep'))!.hidden).toBe(false);
    } finally {
      stopPrompts();
      await browser.close();
    }
  });
});
