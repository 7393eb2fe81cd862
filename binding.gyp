{
  # tracelet's native addon: LLVM IR -> BPF object (LLVM-C, in memory) and the BPF side
  # (maps, programs, links, ring buffer) through libbpf. One target, one .node file.
  "targets": [
    {
      "target_name": "tracelet_native",
      "sources": [
        "src/runtime/native/addon.cc",
        "src/runtime/native/llvm.cc",
        "src/runtime/native/maps.cc",
        "src/runtime/native/object.cc",
        "src/runtime/native/ringbuf.cc",
        "src/runtime/native/misc.cc",
        "src/runtime/native/lifecycle.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/lib/llvm-14/include"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "-Wno-missing-field-initializers"],
      "libraries": [
        "-L/usr/lib/llvm-14/lib",
        "-Wl,-rpath,/usr/lib/llvm-14/lib",
        "-lLLVM-14",
        "-lbpf",
        "-lelf",
        "-lz"
      ]
    }
  ]
}
