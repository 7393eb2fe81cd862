// --flamegraph FILE.svg: folded stacks drawn as a self-contained, interactive SVG flame graph
// (root at the bottom, children in name order, width by value), in the manner of flamegraph.pl:
// hover shows a frame's details, a click zooms to it, Search (or Ctrl-F) highlights matching
// frames and prints their share, Reset Zoom goes back. Frames are coloured by kind from their
// folded suffix: kernel (`_[k]`) orange to yellow, JIT (`_[j]`) green, user code red.
// Without script (an <img>, a README) it is a static picture with a tooltip per frame.
import { JIT_SUFFIX, KERNEL_SUFFIX, WAKER_SEPARATOR, type FoldedStack } from './folded.js';

export interface FlameGraphOptions {
  readonly title: string;
  /** A line under the title (e.g. the map and what was traced). */
  readonly subtitle?: string;
  /** `samples`, a time unit the values are in (`ns`, `us`, `ms`, `s`: shown as durations), any other word, or '' for bare numbers. */
  readonly units: string;
  /** Width of the image in pixels (default 1200). */
  readonly width?: number;
}

type Kind = 'kernel' | 'jit' | 'user' | 'other';

interface Node {
  readonly name: string;
  value: number;
  readonly children: Map<string, Node>;
}

const FRAME_HEIGHT = 16;
const FONT_SIZE = 12;
const CHAR_WIDTH = FONT_SIZE * 0.59;
const PAD_X = 10;
const PAD_TOP = FONT_SIZE * 5;
const PAD_BOTTOM = FONT_SIZE * 2 + 10;
/** Frames narrower than this are left out (they cannot be seen or clicked). */
const MIN_WIDTH_PX = 0.1;

/** Seconds per unit, for values that are durations. */
const TIME_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1 };

/** The display name and kind of a folded frame name. */
export function frameKind(name: string): { label: string; kind: Kind } {
  if (name.endsWith(KERNEL_SUFFIX)) return { label: name.slice(0, -KERNEL_SUFFIX.length), kind: 'kernel' };
  if (name.endsWith(JIT_SUFFIX)) return { label: name.slice(0, -JIT_SUFFIX.length), kind: 'jit' };
  return { label: name, kind: name === WAKER_SEPARATOR ? 'other' : 'user' };
}

/** A value with its unit: `1,234 samples`, or a duration (`1.50 s`, `12.3 ms`) for time units. */
export function formatAmount(value: number, units: string): string {
  const seconds = TIME_UNITS[units];
  if (seconds === undefined) return units ? `${value.toLocaleString('en-US')} ${units}` : value.toLocaleString('en-US');
  const s = value * seconds;
  const [v, u] = s >= 1 ? [s, 's'] : s >= 1e-3 ? [s * 1e3, 'ms'] : s >= 1e-6 ? [s * 1e6, 'µs'] : [s * 1e9, 'ns'];
  return `${v >= 100 || u === 'ns' ? v.toFixed(0) : v.toPrecision(3)} ${u}`;
}

/** A colour for a frame: its kind chooses the hue, a hash of its name the shade (stable across runs). */
function colour(name: string, kind: Kind): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  const v1 = (h & 0xff) / 255;
  const v2 = ((h >>> 8) & 0xff) / 255;
  switch (kind) {
    case 'kernel': return `rgb(${Math.round(200 + 55 * v1)},${Math.round(120 + 60 * v1)},${Math.round(30 * v2)})`;
    case 'jit': return `rgb(${Math.round(50 + 60 * v1)},${Math.round(180 + 60 * v2)},${Math.round(50 + 50 * v1)})`;
    case 'user': return `rgb(${Math.round(210 + 45 * v1)},${Math.round(60 + 60 * v2)},${Math.round(60 + 40 * v2)})`;
    case 'other': return 'rgb(200,200,200)';
  }
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** What fits of a label in `width` pixels: all of it, or a prefix and `..`, or nothing. */
function fitLabel(label: string, width: number): string {
  const chars = Math.floor(width / CHAR_WIDTH);
  if (chars < 3) return '';
  return label.length <= chars ? label : label.slice(0, chars - 2) + '..';
}

function buildTree(stacks: readonly FoldedStack[]): { root: Node; depth: number } {
  const root: Node = { name: 'all', value: 0, children: new Map() };
  let depth = 0;
  for (const s of stacks) {
    const value = Number(s.value);
    if (!(value > 0)) continue; // a flame graph has no room for zero or negative values
    root.value += value;
    let node = root;
    for (const name of s.frames) {
      let child = node.children.get(name);
      if (!child) {
        child = { name, value: 0, children: new Map() };
        node.children.set(name, child);
      }
      child.value += value;
      node = child;
    }
    depth = Math.max(depth, s.frames.length);
  }
  return { root, depth };
}

/** The SVG document of a flame graph of `stacks`. */
export function flameGraphSvg(stacks: readonly FoldedStack[], options: FlameGraphOptions): string {
  const width = options.width ?? 1200;
  const { root, depth } = buildTree(stacks);
  const height = PAD_TOP + (depth + 1) * FRAME_HEIGHT + PAD_BOTTOM;
  const plotWidth = width - 2 * PAD_X;
  const scale = root.value > 0 ? plotWidth / root.value : 0;
  const frames: string[] = [];
  const draw = (node: Node, level: number, start: number) => {
    const w = node.value * scale;
    if (w < MIN_WIDTH_PX) return;
    const { label, kind } = level === 0 ? { label: 'all', kind: 'other' as Kind } : frameKind(node.name);
    const x = PAD_X + start * scale;
    const y = height - PAD_BOTTOM - (level + 1) * FRAME_HEIGHT;
    const share = root.value > 0 ? ((100 * node.value) / root.value).toFixed(2) : '0';
    const kindNote = kind === 'kernel' ? ', kernel' : kind === 'jit' ? ', JIT' : '';
    const tip = `${label} (${formatAmount(node.value, options.units)}, ${share}%${kindNote})`;
    frames.push(
      `<g class="f" data-s="${start}" data-v="${node.value}" data-d="${level}">` +
      `<title>${xml(tip)}</title>` +
      `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${FRAME_HEIGHT - 1}" fill="${colour(label, kind)}" rx="2" ry="2"/>` +
      `<text x="${(x + 3).toFixed(1)}" y="${y + FRAME_HEIGHT - 4.5}">${xml(fitLabel(label, w - 3))}</text></g>`,
    );
    let childStart = start;
    for (const child of [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      draw(child, level + 1, childStart);
      childStart += child.value;
    }
  };
  draw(root, 0, 0);

  const config = JSON.stringify({ width, padX: PAD_X, charWidth: CHAR_WIDTH, total: root.value, units: options.units, minWidth: MIN_WIDTH_PX });
  return `<?xml version="1.0" standalone="no"?>
<svg version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">
<!-- A flame graph drawn by tracelet. Click a frame to zoom, Ctrl-F or Search to search. -->
<style>
text { font-family: Verdana, sans-serif; font-size: ${FONT_SIZE}px; fill: rgb(0,0,0); }
#title { font-size: ${FONT_SIZE + 5}px; text-anchor: middle; }
#subtitle { text-anchor: middle; fill: rgb(90,90,90); }
.button { cursor: pointer; fill: rgb(60,60,160); }
.hidden { display: none; }
g.f { cursor: pointer; }
g.f:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }
g.f.parent rect { opacity: 0.5; }
</style>
<rect x="0" y="0" width="${width}" height="${height}" fill="rgb(248,248,240)"/>
<text id="title" x="${width / 2}" y="${FONT_SIZE * 2}">${xml(options.title)}</text>
<text id="subtitle" x="${width / 2}" y="${FONT_SIZE * 3.5}">${xml(options.subtitle ?? `total ${formatAmount(root.value, options.units)}`)}</text>
<text id="reset" class="button hidden" x="${PAD_X}" y="${FONT_SIZE * 2}">Reset Zoom</text>
<text id="search" class="button" x="${width - PAD_X - 100}" y="${FONT_SIZE * 2}">Search</text>
<text id="clear" class="button hidden" x="${width - PAD_X - 50}" y="${FONT_SIZE * 2}">Clear</text>
<text id="matched" x="${width - PAD_X - 150}" y="${height - FONT_SIZE}"></text>
<text id="details" x="${PAD_X}" y="${height - FONT_SIZE}"> </text>
<g id="frames">
${frames.join('\n')}
</g>
<script type="text/ecmascript"><![CDATA[
${SCRIPT.replace('CONFIG', config)}
]]></script>
</svg>
`;
}

/** The viewer: zoom, search, details. Plain ES5-style DOM code, no dependencies. */
const SCRIPT = `(function () {
  var cfg = CONFIG;
  var plot = cfg.width - 2 * cfg.padX;
  var frames = Array.prototype.slice.call(document.querySelectorAll('g.f')).map(function (g) {
    var text = g.querySelector('text');
    var title = g.querySelector('title').textContent;
    return { g: g, rect: g.querySelector('rect'), text: text, s: +g.getAttribute('data-s'), v: +g.getAttribute('data-v'),
      d: +g.getAttribute('data-d'), label: title.slice(0, title.lastIndexOf(' (')), title: title };
  });
  var byElement = new Map(frames.map(function (f) { return [f.g, f]; }));
  var details = document.getElementById('details');
  var reset = document.getElementById('reset');
  var clear = document.getElementById('clear');
  var matched = document.getElementById('matched');
  var zoomed = null;
  var term = null;

  function fit(label, width) {
    var n = Math.floor(width / cfg.charWidth);
    if (n < 3) return '';
    return label.length <= n ? label : label.slice(0, n - 2) + '..';
  }
  function place(f, x, w) {
    f.rect.setAttribute('x', x.toFixed(1));
    f.rect.setAttribute('width', w.toFixed(1));
    f.text.setAttribute('x', (x + 3).toFixed(1));
    f.text.textContent = fit(f.label, w - 3);
  }
  // Zoom to frame z (null: everything): z spans the full width; its ancestors too, faded;
  // frames outside it are hidden.
  function zoom(z) {
    zoomed = z;
    var s = z ? z.s : 0, v = z ? z.v : cfg.total, d = z ? z.d : 0;
    frames.forEach(function (f) {
      var inside = f.s >= s && f.s + f.v <= s + v && f.d >= d;
      var ancestor = f.d < d && f.s <= s && f.s + f.v >= s + v;
      var w = inside ? (f.v / v) * plot : plot;
      var show = (inside || ancestor) && w >= cfg.minWidth;
      f.g.classList.toggle('hidden', !show);
      f.g.classList.toggle('parent', ancestor);
      if (show) place(f, inside ? cfg.padX + ((f.s - s) / v) * plot : cfg.padX, w);
    });
    reset.classList.toggle('hidden', !z);
  }
  function search(t) {
    term = t;
    var re;
    try { re = new RegExp(t); } catch (e) { re = { test: function (x) { return x.indexOf(t) >= 0; } }; }
    // The share of the matches: a match inside a match is not counted twice.
    var hits = frames.filter(function (f) { return f.d > 0 && re.test(f.label); }).sort(function (a, b) { return a.s - b.s || a.d - b.d; });
    var covered = 0, end = -1;
    hits.forEach(function (f) {
      if (f.s >= end) { covered += f.v; end = f.s + f.v; } else if (f.s + f.v > end) { covered += f.s + f.v - end; end = f.s + f.v; }
    });
    frames.forEach(function (f) {
      if (!f.fill) f.fill = f.rect.getAttribute('fill');
      f.rect.setAttribute('fill', hits.indexOf(f) >= 0 ? 'rgb(230,0,230)' : f.fill);
    });
    matched.textContent = hits.length ? 'Matched: ' + (cfg.total ? (100 * covered / cfg.total).toFixed(1) : '0') + '%' : 'No match';
    clear.classList.remove('hidden');
  }
  function clearSearch() {
    term = null;
    frames.forEach(function (f) { if (f.fill) f.rect.setAttribute('fill', f.fill); });
    matched.textContent = '';
    clear.classList.add('hidden');
  }
  function askSearch() {
    var t = prompt('Search frames (a regular expression):', term || '');
    if (t) search(t);
  }
  document.getElementById('frames').addEventListener('click', function (e) {
    var f = byElement.get(e.target.closest('g.f'));
    if (f) zoom(f.d === 0 ? null : f);
  });
  document.getElementById('frames').addEventListener('mouseover', function (e) {
    var f = byElement.get(e.target.closest('g.f'));
    details.textContent = f ? f.title : ' ';
  });
  reset.addEventListener('click', function () { zoom(null); });
  document.getElementById('search').addEventListener('click', askSearch);
  clear.addEventListener('click', clearSearch);
  window.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); askSearch(); }
    if (e.key === 'Escape') { clearSearch(); zoom(null); }
  });
  // For scripts and tests: the same actions as the buttons.
  window.flamegraph = { zoom: function (label) { zoom(frames.filter(function (f) { return f.label === label; })[0] || null); }, search: search, clear: clearSearch };
})();`;
