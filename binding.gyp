# The qkv_native addon. The x86-64 kernels (sgemm micro-kernels, fused row kernels) are built as
# separate static libraries so each gets its own instruction-set flags; which copy runs is chosen
# at load (__builtin_cpu_supports).
# No -march=native: the binary must run on any x86-64 (or arm64, with the portable kernels).
{
  "target_defaults": {
    "cflags": ["-O3", "-std=gnu11", "-fno-trapping-math", "-fPIC", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
    "cflags!": ["-O2"],
    "xcode_settings": {"OTHER_CFLAGS": ["-O3", "-std=gnu11", "-fno-trapping-math"]},
  },
  "targets": [
    {
      "target_name": "qkv_native",
      "sources": [
        "native/addon.c", "native/addon-fused.c", "native/pool.c", "native/strided.c", "native/elementwise.c", "native/reduce.c",
        "native/matmul.c", "native/index.c", "native/gemm.c", "native/gemm-select.c", "native/gemm-small.c", "native/gemm-naive.c", "native/gemm-portable.c", "native/gemm-linear.c",
        "native/fused.c", "native/fused-ops.c", "native/fused-portable.c", "native/decode.c",
      ],
      "libraries": ["-lm", "-lpthread"],
      "conditions": [
        ["target_arch=='x64'", {"dependencies": ["qkv_avx2", "qkv_avx512"]}],
      ],
    },
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "qkv_avx2",
          "type": "static_library",
          "sources": ["native/gemm-avx2.c", "native/fused-avx2.c", "native/decode-avx2.c"],
          "cflags": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CFLAGS": ["-mavx2", "-mfma"]},
        },
        {
          "target_name": "qkv_avx512",
          "type": "static_library",
          "sources": ["native/gemm-avx512.c", "native/fused-avx512.c"],
          "cflags": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma"],
          "xcode_settings": {"OTHER_CFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma"]},
        },
      ],
    }],
  ],
}
