// train()'s hooks (trainer.h): the progress hook sees every step in order,
// after_validation every evaluation; without a progress hook train() prints
// the progress line. pf-train stops on SIGTERM through should_stop and says
// how to resume. All runs use the tiny config of test_util.h (22 batches per
// epoch, 20 validation promoters).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "proformer/config.h"
#include "proformer/training/trainer.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

TEST_CASE("train hooks: progress after every step, after_validation after every evaluation") {
  TempDir tmp("pf_test_train_hooks");
  Config config = tiny_config(tmp.file("run"));
  config.train.max_steps = 12;
  config.train.eval_every = 5;
  config.train.log_every = 4;
  std::vector<TrainProgress> progress;
  std::vector<std::pair<int64_t, int64_t>> validations;  // step, epoch
  TrainOptions options;
  options.progress = [&](const TrainProgress& p) { progress.push_back(p); };
  options.after_validation = [&](int64_t step, int64_t epoch, const ValidationResult& metrics) {
    validations.push_back({step, epoch});
    CHECK(metrics.predictions.size() == 20);
    CHECK(std::isfinite(metrics.pearson));
  };
  const TrainSummary summary = train(config, options);
  CHECK(summary.steps == 12);
  CHECK_FALSE(summary.stopped);

  REQUIRE(progress.size() == 12);
  for (size_t k = 0; k < progress.size(); ++k) {
    const TrainProgress& p = progress[k];
    CAPTURE(k);
    CHECK(p.step == int64_t(k) + 1);
    CHECK(p.total_steps == 12);
    CHECK(p.samples_per_second > 0);
    CHECK(p.eta_seconds >= 0);
    CHECK(p.elapsed_seconds >= (k ? progress[k - 1].elapsed_seconds : 0));
  }
  // The losses are first read at step 4 (log_every), then at 5 (an evaluation), 8, 10 and 12.
  CHECK(progress[2].epoch == 0);
  CHECK(std::isnan(progress[2].loss));
  CHECK(progress[3].epoch == 1);
  CHECK(std::isfinite(progress[3].loss));
  CHECK(progress[3].lr > 0);
  CHECK(progress[4].loss != progress[3].loss);
  CHECK(progress[11].eta_seconds == 0);
  CHECK(validations == std::vector<std::pair<int64_t, int64_t>>{{5, 1}, {10, 1}, {12, 1}});
}

namespace {

// The tiny config written to `dir`/tiny.yaml for pf-train, `max_steps` steps into `dir`/run.
std::string tiny_config_file(const TempDir& dir, int64_t max_steps) {
  Config config = tiny_config(dir.file("run"));
  config.train.max_steps = max_steps;
  const std::string path = dir.file("tiny.yaml");
  write_text(path, to_yaml(config));
  return path;
}

}  // namespace

TEST_CASE("pf-train: the progress line, and SIGTERM stops after the current step with a checkpoint to resume") {
  TempDir tmp("pf_test_train_hooks");
  const std::string whole = run_process({app_path("pf-train"), tiny_config_file(tmp, 2)}).err;
  CHECK(contains(whole, "\ntrain 1/2 | epoch 1 | loss "));
  CHECK(contains(whole, " samples/s | elapsed "));
  CHECK(contains(whole, "\ntrain 2/2 | epoch 1 | loss "));
  CHECK(contains(whole, " | ETA 0s\n"));
  CHECK_FALSE(contains(whole, "stopped at step"));
  fs::remove_all(tmp.path / "run");

  // Stopped once it has written a few rows of metrics.csv (one per step), long before its end.
  const std::string config = tiny_config_file(tmp, 100000);
  ChildProcess child({app_path("pf-train"), config}, tmp.file("stdout"), tmp.file("stderr"));
  const std::string metrics = tmp.file("run/metrics.csv");
  auto rows = [&] {
    const std::string text = read_text(metrics);
    return std::count(text.begin(), text.end(), '\n');
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (child.running() && rows() < 4 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  child.kill(SIGTERM);
  child.wait();
  const std::string err = read_text(tmp.file("stderr"));
  INFO("stderr: ", err);
  REQUIRE(child.exit_code() == 0);
  const size_t at = err.find("stopped at step ");
  REQUIRE(at != std::string::npos);
  const int64_t step = std::stoll(err.substr(at + 16));
  CHECK(step >= 3);
  CHECK(contains(err, "stopped at step " + std::to_string(step) + "; resume with --resume\npf-train: " +
                          std::to_string(step) + " steps"));
  CHECK(fs::exists(tmp.path / "run" / "last.model.safetensors"));

  const ProcessResult resumed =
      run_process({app_path("pf-train"), config, "train.max_steps=" + std::to_string(step + 2), "--resume"});
  INFO("resumed stderr: ", resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(contains(resumed.err, "at step " + std::to_string(step) + " "));
  CHECK(contains(resumed.err, "pf-train: " + std::to_string(step + 2) + " steps"));
}
