// The options pf-infer and pf-design share (--input-format, --batch-size,
// --threads, --device, --dtype), declared once with one help text, and read
// into the library's RunSettings (proformer/api/predictor.h), which applies
// them; and their --output, a file written atomically or stdout.
#pragma once
#include <cstdio>
#include <memory>
#include <string>

#include "core/atomic_file.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "proformer/api/predictor.h"
#include "apps/command_line.h"

inline void declare_run_options(pf::proformer::CommandLine& cli) {
  cli.option("input-format", "auto, fasta, tsv or lines", "auto");
  cli.option("batch-size", "sequences per forward pass (more on a GPU)",
             std::to_string(pf::proformer::kDefaultBatchSize));
  cli.option("threads", "CPU threads (0 = the cores this process may use: affinity, cgroup CPU quota)", "0");
  cli.option("device", "cpu, cuda or cuda:N", "cpu");
  cli.option("dtype", "f32, or bf16 / f16: mixed precision (GEMMs in the half type, the f32 checkpoint cast once)",
             "f32");
}

// Where an app's text goes: the --output file, written atomically (an error
// midway leaves no partial file), or stdout.
class Output {
 public:
  explicit Output(const pf::proformer::CommandLine& cli) {
    if (cli.has("output")) file_ = std::make_unique<pf::AtomicFile>(cli.get("output"));
  }
  void write(const std::string& text) {
    if (file_)
      file_->write(text);
    else
      std::fwrite(text.data(), 1, text.size(), stdout);
  }
  // Renames the file into place.
  void commit() {
    if (file_) file_->commit();
  }

 private:
  std::unique_ptr<pf::AtomicFile> file_;
};

// The run settings the options give, checked by the library (its errors
// carry the option's name).
inline pf::proformer::RunSettings run_settings(const pf::proformer::CommandLine& cli) {
  pf::proformer::RunSettings settings;
  settings.threads = int(cli.get_int("threads", 0));
  settings.batch_size = cli.get_int("batch-size", 1);
  settings.device = pf::parse_device(cli.get("device"));
  settings.dtype = pf::proformer::parse_option("dtype", [&] {
    settings.dtype = pf::dtype_from_name(cli.get("dtype"));
    pf::proformer::check_run_settings(settings);
    return settings.dtype;
  });
  return settings;
}
