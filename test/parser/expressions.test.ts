import { describe, expect, it } from 'vitest';
import { at, expr, ok, sx } from './helpers.js';
import type { AssignStmt, Binary, Call, Cast, FieldAccess, MapRef } from '../../src/model/ast.js';

describe('literals', () => {
  it.each([
    ['0', '0'],
    ['42', '42'],
    ['0x1F', '31'],
    ['0XfF', '255'],
    ['0755', '493'],
    ['00', '0'],
    ['1_000_000', '1000000'],
    ['0xffff_ffff', '4294967295'],
    ['1e6', '1000000'],
    ['5E3', '5000'],
    ['0e9', '0'],
    ['10u', '10u'],
    ['10U', '10u'],
    ['10l', '10l'],
    ['10UL', '10ul'],
    ['10ll', '10ll'],
    ['10uLL', '10ull'],
    ['0x10ull', '16ull'],
    ['18446744073709551615', '18446744073709551615'],
    ['0xffffffffffffffff', '18446744073709551615'],
  ])('integer %s', (src, want) => {
    expect(expr(src)).toBe(want);
  });

  it.each([
    ['"plain"', 'plain'],
    ['"a\\nb\\tc"', 'a\nb\tc'],
    ['"q\\"q"', 'q"q'],
    ['"back\\\\slash"', 'back\\slash'],
    ['"\\x41\\x4a\\x7"', 'AJ\x07'],
    ['"\\101\\060\\0"', 'A0\0'],
    ['"\\r\\a\\b\\f\\v\\e\\\'"', "\r\x07\b\f\v\x1b'"],
    ['""', ''],
    ['"%-8d %s\\n"', '%-8d %s\n'],
  ])('string %s', (src, want) => {
    const s = ok(`BEGIN { $x = ${src}; }`).probes[0]!.body.statements[0] as AssignStmt;
    expect(s.value).toMatchObject({ kind: 'StringLiteral', value: want });
  });

  it('booleans, positional parameters and $#', () => {
    expect(expr('true')).toBe('true');
    expect(expr('false')).toBe('false');
    expect(expr('$1 + $12')).toBe('(+ $1 $12)');
    expect(expr('$#')).toBe('$#');
  });
});

describe('names', () => {
  it('builtins are Builtin nodes, other names Identifier', () => {
    for (const b of ['pid', 'tid', 'uid', 'gid', 'nsecs', 'elapsed', 'cpu', 'comm', 'kstack', 'ustack', 'arg0', 'arg15',
      'sarg0', 'sarg3', 'retval', 'func', 'probe', 'curtask', 'rand', 'cgroup', 'args', 'ctx', 'username', 'cpid', 'numaid',
      'jiffies', 'usermode']) {
      expect(expr(b)).toBe(b);
    }
    expect(expr('AF_INET')).toBe('id:AF_INET');
    expect(expr('argx')).toBe('id:argx');
    expect(expr('perf')).toBe('id:perf');
  });

  it('kstack/ustack with parentheses are calls', () => {
    expect(expr('kstack')).toBe('kstack');
    expect(expr('kstack()')).toBe('kstack()');
    expect(expr('kstack(perf, 3)')).toBe('kstack(id:perf, 3)');
    expect(expr('ustack(5)')).toBe('ustack(5)');
  });

  it('variables and maps', () => {
    expect(expr('$foo_1')).toBe('$foo_1');
    expect(expr('@')).toBe('@');
    expect(expr('@name')).toBe('@name');
    expect(expr('@[1]')).toBe('@[1]');
    expect(expr('@m[comm, pid]')).toBe('@m[comm, pid]');
    expect(expr('@m[(1, 2)]')).toBe('@m[(tuple 1 2)]');
    expect(expr('@m[1][2]')).toBe('(index @m[1] 2)');
  });

  it('calls', () => {
    expect(expr('count()')).toBe('count()');
    expect(expr('hist((nsecs - @start[arg0]) / 1000)')).toBe('hist((/ (- nsecs @start[arg0]) 1000))');
    expect(expr('lhist($len, 0, 100, 1)')).toBe('lhist($len, 0, 100, 1)');
    expect(expr('str(args->filename)')).toBe('str((-> args filename))');
    expect(expr('ntop(2, $sk->__sk_common.skc_daddr)')).toBe('ntop(2, (. (-> $sk __sk_common) skc_daddr))');
  });
});

describe('precedence and associativity (C rules)', () => {
  it.each([
    ['1 + 2 * 3', '(+ 1 (* 2 3))'],
    ['1 * 2 + 3', '(+ (* 1 2) 3)'],
    ['1 - 2 - 3', '(- (- 1 2) 3)'],
    ['8 / 4 / 2', '(/ (/ 8 4) 2)'],
    ['7 % 4 * 2', '(* (% 7 4) 2)'],
    ['1 << 2 + 3', '(<< 1 (+ 2 3))'],
    ['1 < 2 == 3 > 4', '(== (< 1 2) (> 3 4))'],
    ['1 <= 2 != 3 >= 4', '(!= (<= 1 2) (>= 3 4))'],
    ['1 & 2 == 2', '(& 1 (== 2 2))'],
    ['1 | 2 ^ 3 & 4', '(| 1 (^ 2 (& 3 4)))'],
    ['1 || 2 && 3', '(|| 1 (&& 2 3))'],
    ['1 && 2 | 3', '(&& 1 (| 2 3))'],
    ['$a || $b || $c', '(|| (|| $a $b) $c)'],
    ['$a ? 1 : 2', '(? $a 1 2)'],
    ['$a ? 1 : $b ? 2 : 3', '(? $a 1 (? $b 2 3))'],
    ['$a || $b ? $c + 1 : $d', '(? (|| $a $b) (+ $c 1) $d)'],
    ['$len > 0 ? $len - 1 : 0', '(? (> $len 0) (- $len 1) 0)'],
    ['(1 + 2) * 3', '(* (+ 1 2) 3)'],
    ['-1 + 2', '(+ (- 1) 2)'],
    ['- -1', '(- (- 1))'],
    ['!$a && ~$b', '(&& (! $a) (~ $b))'],
    ['*$p + 1', '(+ (* $p) 1)'],
    ['&$x', '(& $x)'],
    ['+$x', '(+ $x)'],
    ['-$x * 2', '(* (- $x) 2)'],
    ['-$p->x', '(- (-> $p x))'],
    ['!@m[1]', '(! @m[1])'],
    ['1 >> 2 >> 3', '(>> (>> 1 2) 3)'],
  ])('%s', (src, want) => {
    expect(expr(src)).toBe(want);
  });
});

describe('postfix', () => {
  it('field access, index, tuple index', () => {
    expect(expr('$p->a->b')).toBe('(-> (-> $p a) b)');
    expect(expr('$p->a.b')).toBe('(. (-> $p a) b)');
    expect(expr('args.x')).toBe('(. args x)');
    expect(expr('$p->arr[2]')).toBe('(index (-> $p arr) 2)');
    expect(expr('$t.0')).toBe('(.0 $t)');
    expect(expr('$t.1.0')).toBe('(.0 (.1 $t))');
    expect(expr('@kv.1')).toBe('(.1 @kv)');
    expect(expr('$kv.0 + 1')).toBe('(+ (.0 $kv) 1)');
    expect(expr('arg0[1]')).toBe('(index arg0 1)');
  });

  it('field names may be keywords', () => {
    expect(expr('$p->if')).toBe('(-> $p if)');
    expect(expr('args->struct')).toBe('(-> args struct)');
  });

  it('increment and decrement, prefix and postfix, on maps and variables', () => {
    expect(expr('$i++')).toBe('(++post $i)');
    expect(expr('$i--')).toBe('(--post $i)');
    expect(expr('++$i')).toBe('(++pre $i)');
    expect(expr('--@m[1]')).toBe('(--pre @m[1])');
    expect(expr('@m[1]++')).toBe('(++post @m[1])');
    expect(expr('@++')).toBe('(++post @)');
  });
});

describe('tuples, casts, sizeof, offsetof', () => {
  it('tuples', () => {
    expect(expr('(1, "two", $x)')).toBe('(tuple 1 "two" $x)');
    expect(expr('((1, 2), 3)')).toBe('(tuple (tuple 1 2) 3)');
    expect(expr('(1)')).toBe('1');
  });

  it.each([
    ['(uint32)arg0', '(cast uint32 arg0)'],
    ['(int8)$x', '(cast int8 $x)'],
    ['(struct task_struct *)curtask', '(cast struct task_struct* curtask)'],
    ['(struct sock *) $skb->sk', '(cast struct sock* (-> $skb sk))'],
    ['((struct sock *)$x)->sk_family', '(-> (cast struct sock* $x) sk_family)'],
    ['(union u **)$p', '(cast union u** $p)'],
    ['(enum e)$v', '(cast enum e $v)'],
    ['(int8[4])$x', '(cast int8[4] $x)'],
    ['(unsigned long long)$x', '(cast unsigned long long $x)'],
    ['(const char *)arg1', '(cast char* arg1)'],
    ['(mytype *)arg0', '(cast mytype* arg0)'],
    ['(mytype)arg0', '(cast mytype arg0)'],
    ['(uint64)$a + 1', '(+ (cast uint64 $a) 1)'],
    ['(uint8)-1', '(cast uint8 (- 1))'],
    ['(pid) - 1', '(- pid 1)'],
    ['(x) - 1', '(- id:x 1)'],
    ['(comm)', 'comm'],
  ])('cast %s', (src, want) => {
    expect(expr(src)).toBe(want);
  });

  it.each([
    ['sizeof(struct task_struct)', '(sizeof type:struct task_struct)'],
    ['sizeof(uint32)', '(sizeof type:uint32)'],
    ['sizeof(char *)', '(sizeof type:char*)'],
    ['sizeof(mytype *)', '(sizeof type:mytype*)'],
    ['sizeof($x)', '(sizeof $x)'],
    ['sizeof(@m[1])', '(sizeof @m[1])'],
    ['sizeof(x)', '(sizeof id:x)'],
    ['offsetof(struct task_struct, pid)', '(offsetof struct task_struct pid)'],
    ['offsetof(struct foo, a.b.c)', '(offsetof struct foo a.b.c)'],
    ['offsetof(mytype, x)', '(offsetof mytype x)'],
  ])('%s', (src, want) => {
    expect(expr(src)).toBe(want);
  });
});

describe('spans', () => {
  const src = 'BEGIN {\n  @m[comm, pid] = count();\n  $x = (uint32)$p->field + 0x10;\n}';
  const prog = ok(src);
  const [s1, s2] = prog.probes[0]!.body.statements as AssignStmt[];

  it('map with keys, call, assignment', () => {
    const m = s1!.target as MapRef;
    expect(at(s1!.span)).toBe('2:3-2:26');
    expect(at(m.span)).toBe('2:3-2:16');
    expect(at(m.keys![0]!.span)).toBe('2:6-2:10');
    expect(at(m.keys![1]!.span)).toBe('2:12-2:15');
    const c = s1!.value as Call;
    expect(at(c.span)).toBe('2:19-2:26');
    expect(at(c.nameSpan)).toBe('2:19-2:24');
  });

  it('binary, cast, field access', () => {
    const b = s2!.value as Binary;
    expect(at(b.span)).toBe('3:8-3:32');
    expect(at(b.opSpan)).toBe('3:26-3:27');
    const c = b.left as Cast;
    expect(at(c.span)).toBe('3:8-3:25');
    expect(at(c.type.span)).toBe('3:9-3:15');
    const f = c.operand as FieldAccess;
    expect(at(f.span)).toBe('3:16-3:25');
    expect(at(f.fieldSpan)).toBe('3:20-3:25');
    expect(at(b.right.span)).toBe('3:28-3:32');
  });

  it('probe, attach point, block, program', () => {
    const p = prog.probes[0]!;
    expect(at(p.span)).toBe('1:1-4:2');
    expect(at(p.attachPoints[0]!.span)).toBe('1:1-1:6');
    expect(at(p.body.span)).toBe('1:7-4:2');
    expect(at(prog.span)).toBe('1:1-4:2');
    expect(prog.span.end).toBe(src.length);
  });

  it('offsets are 0-based and consistent with line/column', () => {
    const c = s1!.value as Call;
    expect(src.slice(c.span.start, c.span.end)).toBe('count()');
    expect(src.slice(b(s2!).opSpan.start, b(s2!).opSpan.end)).toBe('+');
    function b(s: AssignStmt) {
      return s.value as Binary;
    }
  });

  it('tuple, ternary, unary, incdec, sizeof spans cover their text', () => {
    const text = 'BEGIN { $t = (1, 2); $u = $a ? -$b : @c++; $s = sizeof(struct x *); $v = $t.1; }';
    const st = ok(text).probes[0]!.body.statements as AssignStmt[];
    const show = (i: number) => text.slice(st[i]!.value.span.start, st[i]!.value.span.end);
    expect(show(0)).toBe('(1, 2)');
    expect(show(1)).toBe('$a ? -$b : @c++');
    expect(show(2)).toBe('sizeof(struct x *)');
    expect(show(3)).toBe('$t.1');
    expect(sx(st[1]!.value)).toBe('(? $a (- $b) (++post @c))');
  });
});
