// Generates grammar/diagrams.html: railroad diagrams of the parser's grammar, drawn from the
// chevrotain parser itself (so they can never drift from the implementation).
//
//   npm run grammar:diagrams            (scripts and styles from node_modules: works offline)
//   npm run grammar:diagrams -- --cdn   (from unpkg: the file can be copied anywhere)
//
// The output is a build artifact (git-ignored). The prose grammar is grammar/tracelet.ebnf.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSyntaxDiagramsCode } from 'chevrotain';
import { serializedGrammar } from '../src/parser/parser.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'grammar', 'diagrams.html');
mkdirSync(dirname(out), { recursive: true });
const local = join(root, 'node_modules', 'chevrotain', 'diagrams');
const config =
  process.argv.includes('--cdn') || !existsSync(local)
    ? {}
    : { resourceBase: relative(dirname(out), local) + '/', css: relative(dirname(out), join(local, 'diagrams.css')) };
const html = createSyntaxDiagramsCode(serializedGrammar(), config);
writeFileSync(out, html);
console.log(`wrote ${out} (${html.length} bytes)`);
