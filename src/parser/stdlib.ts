// The macros of bpftrace 0.26's standard library that tracelet provides, written in the language
// itself: a script that uses one of these names (and does not define a macro of that name and
// number of parameters itself) gets this file's macros, as if it imported it. Diagnostics in a
// macro point into `stdlib.bt`.

/** The file name diagnostics give the library. */
export const STDLIB_FILE = 'stdlib.bt';

export const STDLIB_SOURCE = `// tracelet's part of bpftrace 0.26's standard library (docs/reference.md).

// The pid of the parent of the current task, or of \`task\` (its real_parent).
macro ppid(task) { task.real_parent.pid }
macro ppid() { ppid(curtask) }

// The name of the parent of the current task, or of \`task\`.
macro pcomm(task) { task.real_parent.comm }
macro pcomm() { pcomm(curtask) }

// The thread id of the thread group leader of the current task, or of \`task\`.
macro leader_tid(task) { task.group_leader.pid }
macro leader_tid() { leader_tid(curtask) }

// The name of the thread group leader of the current task, or of \`task\`.
macro leader_comm(task) { task.group_leader.comm }
macro leader_comm() { leader_comm(curtask) }

// The bytes str() reads from a pointer: max_strlen (the terminator included).
macro default_str_length() { sizeof(str((int8 *)0)) }

// Refuses, when the program is compiled, a value that is not string-like: a string (char arrays
// are strings here), or a pointer to chars (read as a C string).
macro assert_str(s) {
  if comptime is_ptr(s) {
    static_assert(sizeof(*s) == 1, "string-like pointers must point to a char-like type");
  } else if comptime !is_str(s) {
    fail("string-like values must be either strings, arrays or pointers");
  }
}

// The capacity of a string-like value: a string's size (with its terminator), or for a char
// pointer the length of the string it points to.
macro strcap(s) {
  assert_str(s);
  if comptime is_str(s) { (int64)sizeof(s) } else { (int64)strlen(s) }
}

// The length of a string, of a char array, or of the string a char pointer points to (at most
// max_strlen - 1, as str() reads it).
macro strlen(s) {
  let $s = str(s);
  let $n = (uint64)0;
  while ($n < sizeof($s) && $s[$n] != 0) { $n++; }
  $n
}

// The index of the first \`needle\` in \`haystack\` (strings, char arrays or char pointers, read as
// str() reads them), or -1; 0 for an empty needle, as C's strstr.
macro strstr(haystack, needle) {
  let $h = str(haystack);
  let $n = str(needle);
  let $length = strlen($n);
  let $found = (int64)-1;
  let $i = (uint64)0;
  while ($found < 0 && $i < sizeof($h)) {
    let $j = (uint64)0;
    let $same = 1;
    while ($same && $j < $length) {
      if ($h[$i + $j] != $n[$j]) { $same = 0; }
      $j++;
    }
    if ($same) { $found = (int64)$i; }
    if ($h[$i] == 0) { $i = sizeof($h); }
    $i++;
  }
  $found
}

// Whether a pointer is an error code in the kernel's ERR_PTR encoding (-4095 to -1), as IS_ERR().
macro is_err(ptr) { (uint64)ptr >= (uint64)-4095 }

// Ends the run with exit code 1 and an error naming \`msg\` if \`cond\` is false.
macro assert(cond, msg) {
  if (!cond) {
    errorf("assert failed: %s", msg);
    exit(1);
  }
}
`;

/** The names the library defines. */
export const STDLIB_NAMES: ReadonlySet<string> = new Set([...STDLIB_SOURCE.matchAll(/^macro (\w+)/gm)].map((m) => m[1]!));

const STDLIB_WORD = new RegExp(`\\b(?:${[...STDLIB_NAMES].join('|')})\\b`);

/** Whether a script's text may use the library (a cheap test: a word that is one of its names). */
export function mayUseStdlib(text: string): boolean {
  return STDLIB_WORD.test(text);
}
