// What pf-infer and pf-design read alike from --threads, --dtype and --device:
// the OpenMP thread count (0 keeps OpenMP's default, all cores), the checked
// precision and the device.
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

// Sets the thread count and returns the checked dtype and device; `app` names the errors.
inline RunOptions apply_run_options(const pf::proformer::CommandLine& cli, const char* app) {
  if (const int64_t threads = cli.get_int("threads", 0); threads > 0) omp_set_num_threads(int(threads));
  const pf::DType dtype = pf::dtype_from_name(cli.get("dtype"));
  PF_CHECK(dtype == pf::DType::f32 || pf::is_half(dtype), app, "--dtype must be f32, bf16 or f16, got '",
           cli.get("dtype"), "'");
  return {dtype, pf::parse_device(cli.get("device"))};
}
