// The output formatters: bpftrace 0.17's text and JSON formats, and printf.
import { jsonFormatter } from './json.js';
import type { Formatter } from './model.js';
import { textFormatter } from './text.js';

export type OutputFormat = 'text' | 'json';

/** The formatter for `-f text` (the default) or `-f json`. Formatters are stateless. */
export function createFormatter(format: OutputFormat | string = 'text'): Formatter {
  if (format === 'json') return jsonFormatter;
  if (format === 'text') return textFormatter;
  throw new Error(`Invalid output format "${format}"\nValid formats: 'text', 'json'`);
}

export type { Formatter, HelperError, MapEntry, MapSnapshot, MapValue, PrintOptions, TypedValue, Value } from './model.js';
export { textFormatter, mapToText } from './text.js';
export { jsonFormatter, mapToJson } from './json.js';
export { compilePrintf, formatPrintf } from './printf.js';
export type { CompiledPrintf } from './printf.js';
export {
  histBucketIndex, lhistBucketIndex, histToText, histToJson, lhistToText, lhistToJson,
} from './hist.js';
export {
  valueToText, valueToJson, jsonEscape, formatStack, formatBuffer, sortEntries, sortMapNames, cxxSort,
} from './values.js';
