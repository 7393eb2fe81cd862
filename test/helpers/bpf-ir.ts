// Hand-written LLVM IR for tests and benchmarks of the native addon alone (no codegen).

export const LICENSE = '@LICENSE = global [4 x i8] c"GPL\\00", section "license"\n';
export const PSEUDO = 'declare i64 @llvm.bpf.pseudo(i64, i64)\n';

/**
 * IR lines that look up slot 0 of the map `mapFd` into `%v` and branch to `found` (not null) or
 * `missing`. The function needs nothing else in scope.
 */
export function lookupSlot0(mapFd: number, found: string, missing: string): string {
  return `  %key = alloca i32, align 4
  store i32 0, i32* %key, align 4
  %map = call i64 @llvm.bpf.pseudo(i64 1, i64 ${mapFd})
  %mapp = inttoptr i64 %map to i8*
  %keyp = bitcast i32* %key to i8*
  %v = call i8* inttoptr (i64 1 to i8* (i8*, i8*)*)(i8* %mapp, i8* %keyp)
  %isnull = icmp eq i8* %v, null
  br i1 %isnull, label %${missing}, label %${found}`;
}

/** A program that adds 1 (atomically) to slot 0 of an array or per-CPU array map; returns 0. */
export function bumpIR(name: string, section: string, mapFd: number): string {
  return `${LICENSE}${PSEUDO}
define i64 @${name}(i8* %ctx) section "${section}" {
entry:
${lookupSlot0(mapFd, 'found', 'out')}
found:
  %p = bitcast i8* %v to i64*
  %old = atomicrmw add i64* %p, i64 1 seq_cst
  br label %out
out:
  ret i64 0
}
`;
}
