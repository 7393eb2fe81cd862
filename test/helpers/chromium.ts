// A minimal client of the Chrome DevTools protocol over --remote-debugging-pipe, to drive the
// Debian `chromium` headless from tests (no npm dependency): open a page, evaluate script in it,
// click with the real mouse, answer prompt() dialogs, take screenshots.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = '/usr/bin/chromium';

export const haveChromium = (): boolean => existsSync(CHROMIUM);

type Message = { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string };

export class Browser {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((m: Message) => void)[] = [];

  private constructor(private readonly child: ChildProcess, private readonly input: Writable, output: Readable) {
    let pending = '';
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      pending += chunk;
      let end: number;
      // Messages are JSON texts, each ended by a NUL byte.
      while ((end = pending.indexOf('\0')) >= 0) {
        const message = JSON.parse(pending.slice(0, end)) as Message;
        pending = pending.slice(end + 1);
        if (message.id !== undefined) {
          const w = this.waiting.get(message.id);
          this.waiting.delete(message.id);
          if (message.error) w?.reject(new Error(message.error.message));
          else w?.resolve(message.result ?? {});
        } else {
          for (const l of this.listeners) l(message);
        }
      }
    });
  }

  static launch(): Browser {
    const child = spawn(CHROMIUM, [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
      '--remote-debugging-pipe', '--window-size=1280,900', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    return new Browser(child, child.stdio[3] as Writable, child.stdio[4] as Readable);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.input.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  }

  /** Calls `listener` on every event until the returned function is called. */
  on(listener: (m: Message) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  /** A new tab showing `url`, once loaded. */
  async open(url: string): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId as string);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    const loaded = new Promise<void>((resolve) => {
      const off = this.on((m) => {
        if (m.sessionId === sessionId && m.method === 'Page.loadEventFired') { off(); resolve(); }
      });
    });
    await page.send('Page.navigate', { url });
    await loaded;
    return page;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    await this.send('Browser.close').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export class Page {
  constructor(private readonly browser: Browser, readonly sessionId: string) {}

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** The value of a JavaScript expression in the page (JSON-serializable). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`in page: ${JSON.stringify(r.exceptionDetails)}`);
    return (r.result as { value: T }).value;
  }

  /** A real mouse click (move, press, release) at page coordinates. */
  async click(x: number, y: number): Promise<void> {
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
    await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', x, y, button: 'left', clickCount: 1 });
    await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x, y, button: 'left', clickCount: 1 });
  }

  /**
   * Answers every prompt() with `text` until `stop()` (register before the action that opens
   * them): `asked` holds each prompt's message, in order.
   */
  answerPrompts(text: string): { asked: string[]; stop: () => void } {
    const asked: string[] = [];
    const stop = this.browser.on((m) => {
      if (m.sessionId !== this.sessionId || m.method !== 'Page.javascriptDialogOpening') return;
      asked.push(String(m.params?.message ?? ''));
      void this.send('Page.handleJavaScriptDialog', { accept: true, promptText: text });
    });
    return { asked, stop };
  }

  async screenshot(path: string): Promise<void> {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    writeFileSync(path, Buffer.from(data as string, 'base64'));
  }
}
