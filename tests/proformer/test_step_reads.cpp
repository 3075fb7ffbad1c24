// The trainer reads losses and checks back from the device once per log
// interval (nn/optim/step_checks.h), not once per step, and still stops at a
// non-finite step it learns of only at the next read.
#include <doctest/doctest.h>

#include <filesystem>
#include <limits>

#include "proformer/checkpoint.h"
#include "proformer/training/trainer.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

namespace {

// Reads only at log intervals and at the end: no evaluation or checkpoint
// before max_steps.
Config sparse_reads_config(const fs::path& dir, int64_t max_steps, int64_t log_every) {
  Config config = tiny_config(dir.string());
  config.train.max_steps = max_steps;
  config.train.log_every = log_every;
  config.train.eval_every = 1000;
  config.output.checkpoint_every = 1000;
  return config;
}

int64_t host_reads_of_run(const Config& config) {
  const int64_t before = host_reads();
  train(config, {});
  return host_reads() - before;
}

}  // namespace

TEST_CASE("trainer: losses and checks are read back once per log interval, not once per step") {
  TempDir tmp("pf_test_reads");
  const int64_t ten = host_reads_of_run(sparse_reads_config(tmp.path / "ten", 10, 5));
  const int64_t thirty = host_reads_of_run(sparse_reads_config(tmp.path / "thirty", 30, 5));
  MESSAGE("host reads: 10 steps ", ten, ", 30 steps ", thirty);
  CHECK(thirty - ten == 4);  // 20 more steps: 4 more log intervals of 5, one read each
}

TEST_CASE("trainer: a NaN gradient between two reads stops the run naming its step, the checkpoint before stays") {
  TempDir tmp("pf_test_reads");
  Config config = sparse_reads_config(tmp.path, 12, 4);
  config.output.checkpoint_every = 4;
  TrainOptions options;
  int64_t step = 0;
  std::string poisoned;
  options.after_backward = [&](const nn::NamedTensors& params) {
    if (++step != 6) return;  // read at steps 4 and 8: step 6 is found at step 8
    poisoned = params.at(2).first;
    ops::fill_(params.at(2).second.grad(), std::numeric_limits<double>::quiet_NaN());
  };
  const std::string error = error_of([&] { train(config, options); });
  CHECK(contains(error, "the gradient of " + poisoned + " is not finite at step 6"));
  const LoadedModel last = load_model((tmp.path / "last").string());
  CHECK(last.state.step == 4);
}
