// The options pf-infer and pf-design share (--input-format, --batch-size,
// --threads, --device, --dtype), declared once with one help text, and read
// into the library's RunSettings (proformer/api/predictor.h), which applies
// them.
#pragma once
#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "proformer/api/predictor.h"
#include "apps/command_line.h"

inline void declare_run_options(pf::proformer::CommandLine& cli) {
  cli.option("input-format", "auto, fasta, tsv or lines", "auto");
  cli.option("batch-size", "sequences per forward pass (more on a GPU)",
             std::to_string(pf::proformer::kDefaultBatchSize));
  cli.option("threads", "CPU threads (0 = all cores)", "0");
  cli.option("device", "cpu, cuda or cuda:N", "cpu");
  cli.option("dtype", "f32, or bf16 / f16: mixed precision (GEMMs in the half type, the f32 checkpoint cast once)",
             "f32");
}

// The run settings the options give; `app` names the errors.
inline pf::proformer::RunSettings run_settings(const pf::proformer::CommandLine& cli, const char* app) {
  pf::proformer::RunSettings settings;
  settings.threads = int(cli.get_int("threads", 0));
  settings.batch_size = cli.get_int("batch-size", 1);
  settings.dtype = pf::dtype_from_name(cli.get("dtype"));
  PF_CHECK(settings.dtype == pf::DType::f32 || pf::is_half(settings.dtype), app,
           "--dtype must be f32, bf16 or f16, got '", cli.get("dtype"), "'");
  settings.device = pf::parse_device(cli.get("device"));
  return settings;
}
