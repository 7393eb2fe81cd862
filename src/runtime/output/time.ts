// strftime for time() and strftime(): every conversion of C's strftime (glibc, C locale), in local
// time, with glibc's flags (`-` no padding, `_` spaces, `0` zeros, `^` upper case, `#` swapped
// case) and field widths, the E and O modifiers (which the C locale ignores), and `%f`, the
// microseconds (strftime() only, as bpftrace). An unknown conversion is printed as written.
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];

const CONVERSION = /%([-_0^#]*)(\d*)([EO]?)([a-zA-Z%+])/g;

/** A number as a conversion prints it: `width` digits padded with `fill` unless a flag says otherwise. */
interface Num {
  readonly value: number;
  readonly width: number;
  readonly fill: '0' | ' ';
}

/** `format` for the local time `d`; `micros` is what `%f` prints (absent: `%f` is printed as written). */
export function strftime(format: string, d: Date, micros?: number): string {
  return format.replace(CONVERSION, (whole, flags: string, width: string, _modifier: string, c: string) => {
    const v = convert(c, d, micros);
    if (v === undefined) return whole;
    const wanted = width === '' ? undefined : Number(width);
    let text: string;
    if (typeof v === 'string') {
      text = wanted !== undefined ? v.padStart(wanted, flags.includes('0') ? '0' : ' ') : v;
    } else {
      const fill = flags.includes('-') ? '' : flags.includes('_') ? ' ' : flags.includes('0') ? '0' : v.fill;
      const digits = String(Math.abs(v.value));
      const sign = v.value < 0 ? '-' : '';
      const size = Math.max(0, (wanted ?? v.width) - sign.length);
      text = sign + (fill === '' ? digits : digits.padStart(size, fill));
    }
    if (flags.includes('^')) text = text.toUpperCase();
    else if (flags.includes('#')) text = /[a-z]/.test(text) ? text.toUpperCase() : text.toLowerCase();
    return text;
  });
}

const num = (value: number, width = 2, fill: '0' | ' ' = '0'): Num => ({ value, width, fill });
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function convert(c: string, d: Date, micros: number | undefined): string | Num | undefined {
  const hours = d.getHours();
  switch (c) {
    case 'a': return DAYS[d.getDay()]!.slice(0, 3);
    case 'A': return DAYS[d.getDay()]!;
    case 'b': case 'h': return MONTHS[d.getMonth()]!.slice(0, 3);
    case 'B': return MONTHS[d.getMonth()]!;
    case 'c': return strftime('%a %b %e %H:%M:%S %Y', d);
    case 'C': return num(Math.floor(d.getFullYear() / 100));
    case 'd': return num(d.getDate());
    case 'D': return strftime('%m/%d/%y', d);
    case 'e': return num(d.getDate(), 2, ' ');
    case 'f': return micros === undefined ? undefined : pad(micros, 6);
    case 'F': return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    case 'g': return num(isoWeek(d).year % 100);
    case 'G': return num(isoWeek(d).year, 1);
    case 'H': return num(hours);
    case 'I': return num(hours % 12 || 12);
    case 'j': return num(dayOfYear(d) + 1, 3);
    case 'k': return num(hours, 2, ' ');
    case 'l': return num(hours % 12 || 12, 2, ' ');
    case 'm': return num(d.getMonth() + 1);
    case 'M': return num(d.getMinutes());
    case 'n': return '\n';
    case 'p': return hours < 12 ? 'AM' : 'PM';
    case 'P': return hours < 12 ? 'am' : 'pm';
    case 'r': return strftime('%I:%M:%S %p', d);
    case 'R': return strftime('%H:%M', d);
    case 's': return num(Math.floor(d.getTime() / 1000), 1);
    case 'S': return num(d.getSeconds());
    case 't': return '\t';
    case 'T': return strftime('%H:%M:%S', d);
    case 'u': return num(d.getDay() || 7, 1);
    case 'U': return num(Math.floor((dayOfYear(d) + 7 - d.getDay()) / 7));
    case 'V': return num(isoWeek(d).week);
    case 'w': return num(d.getDay(), 1);
    case 'W': return num(Math.floor((dayOfYear(d) + 7 - ((d.getDay() + 6) % 7)) / 7));
    case 'x': return strftime('%m/%d/%y', d);
    case 'X': return strftime('%H:%M:%S', d);
    case 'y': return num(d.getFullYear() % 100);
    case 'Y': return num(d.getFullYear(), 1);
    case 'z': {
      const off = -d.getTimezoneOffset();
      return `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
    }
    case 'Z': return zoneName(d);
    case '+': return strftime('%a %b %e %H:%M:%S %Z %Y', d);
    case '%': return '%';
    default: return undefined;
  }
}

/** Days since January 1st of the date's year (0-365), in local time. */
function dayOfYear(d: Date): number {
  return Math.round((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(d.getFullYear(), 0, 1)) / 86_400_000);
}

/** The ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday) and its year. */
function isoWeek(d: Date): { week: number; year: number } {
  const day = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  const thursday = new Date(day + (3 - ((d.getDay() + 6) % 7)) * 86_400_000);
  const year = thursday.getUTCFullYear();
  return { week: Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1, year };
}

/** The time zone's abbreviation (`UTC`, `PST`), as tzname gives it where the platform names it. */
function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? '';
}

/**
 * strftime() as bpftrace 0.17 calls C's: into 64 bytes, so a text that does not fit them (or an
 * empty one) is no text; it reports `strftime returned 0`, as bpftrace logs it, and gives undefined.
 */
export function strftimeIn64Bytes(format: string, d: Date, report: (message: string) => void, micros?: number): string | undefined {
  const text = strftime(format, d, micros);
  if (text !== '' && Buffer.byteLength(text) < 64) return text;
  report('strftime returned 0');
  return undefined;
}
