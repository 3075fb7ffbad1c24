// The options pf-infer and pf-design share (--input-format, --batch-size,
// --threads, --device, --dtype), declared once with one help text, and what
// they read alike from them: the OpenMP thread count (0 keeps OpenMP's
// default, all cores), the checked precision and the device.
#pragma once
#include <omp.h>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "proformer/cli.h"

struct RunOptions {
  pf::DType dtype;     // f32, or bf16 / f16 under autocast
  pf::Device device;
};

inline void declare_run_options(pf::proformer::CommandLine& cli) {
  cli.option("input-format", "auto, fasta, tsv or lines", "auto");
  // 32: on 2 CPU cores batch 256 ran the demo model 1.8x slower (its attention
  // scores, [256, heads, 232, 232], no longer fit in cache) and used 6x the memory.
  cli.option("batch-size", "sequences per forward pass (more on a GPU)", "32");
  cli.option("threads", "CPU threads (0 = all cores)", "0");
  cli.option("device", "cpu, cuda or cuda:N", "cpu");
  cli.option("dtype", "f32, or bf16 / f16: mixed precision (GEMMs in the half type, the f32 checkpoint cast once)",
             "f32");
}

// Sets the thread count and returns the checked dtype and device; `app` names the errors.
inline RunOptions apply_run_options(const pf::proformer::CommandLine& cli, const char* app) {
  if (const int64_t threads = cli.get_int("threads", 0); threads > 0) omp_set_num_threads(int(threads));
  const pf::DType dtype = pf::dtype_from_name(cli.get("dtype"));
  PF_CHECK(dtype == pf::DType::f32 || pf::is_half(dtype), app, "--dtype must be f32, bf16 or f16, got '",
           cli.get("dtype"), "'");
  return {dtype, pf::parse_device(cli.get("device"))};
}
