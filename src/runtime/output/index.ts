// The output formatters: bpftrace 0.17's text and JSON formats, and printf.
import { createFoldedFormatter } from './folded.js';
import { jsonFormatter } from './json.js';
import type { Formatter } from './model.js';
import { textFormatter } from './text.js';

export type OutputFormat = 'text' | 'json' | 'folded';

/**
 * The formatter for `-f text` (the default), `-f json` or `-f folded`. Formatters are stateless;
 * `side` is bpftrace's error stream (the CLI gives stderr): where `-f folded` writes what is not a
 * folded stack, and where text writes errorf()/warnf() messages (without it, text returns them
 * as output).
 */
export function createFormatter(format: OutputFormat | string = 'text', side?: (text: string) => void): Formatter {
  if (format === 'json') return jsonFormatter;
  if (format === 'text') return side ? { ...textFormatter, scriptMessage: (m) => (side(textFormatter.scriptMessage(m)), '') } : textFormatter;
  if (format === 'folded') return createFoldedFormatter(side ?? (() => {}));
  throw new Error(`Invalid output format "${format}"\nValid formats: 'text', 'json', 'folded'`);
}

export type { BenchOutcome, Formatter, HelperError, ScriptLocation, ScriptMessage, TestOutcome, MapEntry, MapSnapshot, MapValue, PrintOptions, TypedValue, Value } from './model.js';
export { textFormatter, mapToText, scriptMessageText } from './text.js';
export { jsonFormatter, mapToJson } from './json.js';
export { createFoldedFormatter, foldMap, foldedText, foldedFrameName, hasStacks, type FoldedStack } from './folded.js';
export { compilePrintf, formatPrintf } from './printf.js';
export type { CompiledPrintf } from './printf.js';
export {
  histBucketIndex, lhistBucketIndex, histToText, histToJson, lhistToText, lhistToJson,
} from './hist.js';
export {
  valueToText, valueToJson, jsonEscape, formatStack, formatBuffer, sortEntries, sortMapNames, cxxSort,
} from './values.js';
