{
  # tracelet's native addons and the command's launcher (a small executable):
  #  - tracelet_native.node: the BPF side (maps, programs, links, ring buffer) through libbpf, and
  #    process helpers; every run loads it.
  #  - tracelet_llvm.node: LLVM IR -> BPF object (LLVM-C, in memory); loaded only when something
  #    must be compiled (src/runtime/native.ts), so a run whose object is in the compile cache
  #    does not pay for LLVM's relocations and static constructors (~10 MiB, tens of ms).
  # LLVM is linked statically, only the BPF backend and what it needs: loading the shared
  # libLLVM-14 (110 MB, plus z3, ICU, libxml2) took ~60-80 ms of every run, this ~15 ms.
  # The addons' common compiler settings (the launcher, plain C, is unaffected by them).
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": [
      "NAPI_VERSION=8",
      "NAPI_CPP_EXCEPTIONS",
      "NODE_ADDON_API_DISABLE_DEPRECATED"
    ],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter",
                  "-Wno-missing-field-initializers"]
  },
  "targets": [
    {
      "target_name": "tracelet_native",
      "sources": [
        "src/runtime/native/addon.cc",
        "src/runtime/native/args.cc",
        "src/runtime/native/maps.cc",
        "src/runtime/native/object.cc",
        "src/runtime/native/ringbuf.cc",
        "src/runtime/native/process-maps.cc",
        "src/runtime/native/process-exit.cc",
        "src/runtime/native/misc.cc",
        "src/runtime/native/lifecycle.cc",
        "src/runtime/native/dump.cc",
        "src/runtime/native/symbols.cc",
        "src/runtime/native/kernel-ops.c"
      ],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    },
    {
      "target_name": "tracelet_llvm",
      "sources": [
        "src/runtime/native/llvm.cc",
        "src/runtime/native/args.cc"
      ],
      "include_dirs": ["<!(llvm-config-14 --includedir)"],
      "libraries": [
        "-L<!(llvm-config-14 --libdir)",
        "-Wl,--start-group",
        "<!@(llvm-config-14 --link-static --libs bpf passes)",
        "-Wl,--end-group",
        "-Wl,--exclude-libs,ALL",
        # LLVM's archives have a section per function: gold drops the unused ones and folds
        # identical ones whose address is not taken (28.7 -> 21.1 MB of text). A compile's code is
        # faulted in 64 KiB around each page it runs: its resident memory is ~7.7 MiB less.
        "-Wl,--gc-sections",
        "-fuse-ld=gold",
        "-Wl,--icf=safe",
        "<!@(llvm-config-14 --link-static --system-libs)",
        # libbpf's linker joins the parts of a module compiled on several threads.
        "-lbpf"
      ]
    },
    {
      # The tracelet command's launcher (src/launcher/launcher.c): bin/tracelet execs it. On the
      # second run of a command line it loads and attaches the program itself (prepared.c).
      "target_name": "tracelet",
      "type": "executable",
      "sources": ["src/launcher/launcher.c", "src/launcher/prepared.c", "src/runtime/native/kernel-ops.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
