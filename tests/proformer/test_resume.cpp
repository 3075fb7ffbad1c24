// Exact resume. A run that stops and is resumed with --resume must end with
// the same bits as a run that never stopped: every tensor of last.model
// (parameters), last.optim (Adam moments) and best.model is compared byte for
// byte, never with a tolerance. The runs stop
//   - at max_steps, in the middle of an epoch and on an epoch boundary;
//   - by TrainOptions::should_stop, after the first step;
//   - by a (simulated) crash between writing last.optim and last.model;
//   - by SIGKILL to the real pf-train binary at many moments, some of them
//     while it writes a checkpoint; every *.safetensors file seen in the run
//     directory meanwhile must load (only *.tmp files may be partial).
// All runs use the tiny config of test_util.h (22 batches per epoch).
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nn/formats/safetensors.h"
#include "proformer/config.h"
#include "proformer/training/trainer.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace pf;
using namespace pf::proformer;
using namespace pf::test;

namespace {

// Trains `config` in `dir` up to `max_steps` (resuming from dir/last.* when asked).
TrainSummary train_to(Config config, const fs::path& dir, int64_t max_steps, bool resume) {
  config.output.dir = dir.string();
  config.train.max_steps = max_steps;
  TrainOptions options;
  options.resume = resume;
  return train(config, options);
}

// Checks that the checkpoints of two runs are bit-identical.
void check_same_checkpoints(const fs::path& expected, const fs::path& actual) {
  for (const std::string file : {"last.model.safetensors", "last.optim.safetensors", "best.model.safetensors"}) {
    CAPTURE(file);
    REQUIRE(fs::exists(expected / file));
    REQUIRE(fs::exists(actual / file));
    const std::vector<std::string> differing = differing_tensors((expected / file).string(), (actual / file).string());
    std::string names;
    for (const std::string& name : differing) names += name + " ";
    CHECK_MESSAGE(differing.empty(), "tensors that differ: ", names);
  }
}

// The step column of metrics.csv (complete lines only).
std::vector<int64_t> metric_steps(const std::string& path) {
  std::istringstream text(read_text(path));
  std::vector<int64_t> steps;
  std::string line;
  std::getline(text, line);  // the header
  while (std::getline(text, line) && !text.eof()) steps.push_back(std::stoll(line));
  return steps;
}

std::vector<int64_t> one_to(int64_t n) {
  std::vector<int64_t> steps;
  for (int64_t i = 1; i <= n; ++i) steps.push_back(i);
  return steps;
}

}  // namespace

TEST_CASE("resume: stopping at max_steps and resuming gives bit-identical parameters and Adam moments") {
  struct Scenario {
    const char* name;
    int64_t stop;              // the first run's max_steps
    int64_t checkpoint_every;  // 0: once per epoch
    int64_t eval_every;        // 0: once per epoch
  };
  // 24 steps in all: epoch 1 ends after step 22. Each stop is at an
  // evaluation step: a run validates at its last step, and an evaluation the
  // uninterrupted run does not make could set a different best.* checkpoint.
  const Scenario scenarios[] = {
      {"stop mid-epoch (step 15); checkpoints inside (11) and on (22) the epoch boundary, evaluations off it", 15,
       11, 5},
      {"stop on the epoch boundary (step 22); checkpoints and evaluations once per epoch", 22, 0, 0},
  };
  const int64_t total = 24;
  for (const Scenario& s : scenarios) {
    const std::string scenario = s.name;
    CAPTURE(scenario);
    TempDir tmp("pf_test_resume");
    Config config = tiny_config("");
    config.output.checkpoint_every = s.checkpoint_every;
    config.train.eval_every = s.eval_every;
    config.train.log_every = 10;
    const TrainSummary whole = train_to(config, tmp.path / "whole", total, false);
    CHECK(whole.steps == total);

    CHECK(train_to(config, tmp.path / "stopped", s.stop, false).steps == s.stop);
    const TrainSummary resumed = train_to(config, tmp.path / "stopped", total, true);
    CHECK(resumed.steps == total);
    CHECK(resumed.best_val_pearson == whole.best_val_pearson);
    check_same_checkpoints(tmp.path / "whole", tmp.path / "stopped");
  }
}

TEST_CASE("resume: should_stop stops after the current step with a checkpoint that resumes to the same bits") {
  TempDir tmp("pf_test_resume");
  Config config = tiny_config("");
  config.train.eval_every = 1;  // the stopped run validates at its last step; so does the whole run, at every step
  const int64_t total = 24;
  train_to(config, tmp.path / "whole", total, false);

  config.output.dir = (tmp.path / "stopped").string();
  config.train.max_steps = total;
  int64_t polls = 0;
  TrainOptions options;
  options.should_stop = [&] {
    ++polls;
    return true;
  };
  const TrainSummary stopped = train(config, options);
  CHECK(polls == 1);  // polled once per step
  CHECK(stopped.steps == 1);
  CHECK(stopped.stopped);
  CHECK(metric_steps((tmp.path / "stopped" / "metrics.csv").string()) == one_to(1));
  const TrainSummary resumed = train_to(config, tmp.path / "stopped", total, true);
  CHECK(resumed.steps == total);
  CHECK_FALSE(resumed.stopped);
  check_same_checkpoints(tmp.path / "whole", tmp.path / "stopped");
}

TEST_CASE("resume: a crash between writing last.optim and last.model still resumes exactly") {
  TempDir tmp("pf_test_resume");
  Config config = tiny_config("");
  config.output.checkpoint_every = 4;
  config.train.eval_every = 5;
  const int64_t total = 20;
  train_to(config, tmp.path / "whole", total, false);

  // What a crash leaves while a run that checkpointed step 8 writes the
  // checkpoint of step 9 (its last step): last.model from step 8, the
  // previous optimiser file (step 8) kept as last.optim.prev, and last.optim
  // either not written yet or from step 9.
  const fs::path crashed = tmp.path / "crashed", later = tmp.path / "later";
  train_to(config, crashed, 8, false);
  fs::copy(crashed, later);
  train_to(config, later, 9, true);
  const std::string optim = "last.optim.safetensors", previous = "last.optim.prev.safetensors";
  fs::rename(crashed / optim, crashed / previous);
  auto copy_of_crashed = [&](const std::string& name) {
    fs::copy(crashed, tmp.path / name);
    return tmp.path / name;
  };

  const fs::path written = copy_of_crashed("new optimiser file written");
  fs::copy_file(later / optim, written / optim);
  CHECK(train_to(config, written, total, true).steps == total);
  check_same_checkpoints(tmp.path / "whole", written);
  CHECK_FALSE(fs::exists(written / previous));  // removed by the next complete checkpoint

  const fs::path not_written = copy_of_crashed("new optimiser file not written yet");
  CHECK(train_to(config, not_written, total, true).steps == total);
  check_same_checkpoints(tmp.path / "whole", not_written);

  // Without the previous optimiser file the pair cannot be resumed: one clear error.
  const fs::path lost = copy_of_crashed("previous optimiser file lost");
  fs::remove(lost / previous);
  fs::copy_file(later / optim, lost / optim);
  const std::string message = error_of([&] { train_to(config, lost, total, true); });
  CHECK(contains(message, "last.optim.safetensors: optimiser state is from step 9"));
  CHECK(contains(message, "model file is from step 8"));
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("resume: pf-train killed with SIGKILL at any moment resumes to the same bits") {
  TempDir tmp("pf_test_resume_kill");
  const int64_t total = 24;
  Config config = tiny_config(tmp.file("unused"));  // each run sets output.dir
  config.train.max_steps = total;
  config.output.checkpoint_every = 1;  // a checkpoint write is in progress most of the time
  config.train.eval_every = 4;
  const std::string config_path = tmp.file("tiny.yaml");
  write_text(config_path, to_yaml(config));
  const fs::path whole = tmp.path / "whole", killed = tmp.path / "killed";
  auto pf_train = [&](const fs::path& dir) {
    return std::vector<std::string>{app_path("pf-train"), config_path, "output.dir=" + dir.string(), "--resume"};
  };

  const auto start = std::chrono::steady_clock::now();
  const ProcessResult reference = run_process(pf_train(whole));
  REQUIRE_MESSAGE(reference.exit_code == 0, reference.err);
  const auto reference_time = std::chrono::steady_clock::now() - start;

  // Every *.safetensors file in the run directory must load whenever we look.
  // A file can vanish between listing and loading (renamed to .prev, or
  // replaced by rename); only one that exists and still fails is half-written.
  int64_t loads = 0;
  auto check_directory = [&] {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(killed, error)) {
      const std::string path = entry.path().string();
      if (entry.path().extension() != ".safetensors") continue;
      std::string message = error_of([&] { nn::load_safetensors(path); });
      if (!message.empty() && fs::exists(path)) message = error_of([&] { nn::load_safetensors(path); });
      if (!message.empty() && fs::exists(path)) FAIL_CHECK("half-written file: ", message);
      ++loads;
    }
  };
  // The last step metrics.csv shows (one row per step: log_every = 1).
  auto steps_done = [&] {
    const std::vector<int64_t> steps = metric_steps((killed / "metrics.csv").string());
    return steps.empty() ? int64_t(0) : steps.back();
  };
  // Runs pf-train --resume in `killed` until `kill_now` says so (then SIGKILL) or it ends.
  auto run_until = [&](const std::function<bool(std::chrono::steady_clock::duration)>& kill_now) {
    ChildProcess child(pf_train(killed), tmp.file("stdout"), tmp.file("stderr"));
    const auto started = std::chrono::steady_clock::now();
    while (child.running()) {
      check_directory();
      if (kill_now(std::chrono::steady_clock::now() - started)) {
        child.kill(SIGKILL);
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    child.wait();
    check_directory();
    INFO("pf-train's stderr: ", read_text(tmp.file("stderr")));
    CHECK((child.signal() == SIGKILL || child.exit_code() == 0));
    return child.exit_code();  // -1 when killed
  };

  // Killed after a few checkpoints, then at random moments of a run (which
  // includes its start-up, data reading, training steps and checkpoint writes).
  CHECK(run_until([&](auto) { return steps_done() >= 3; }) == -1);
  CHECK(run_until([&](auto) { return steps_done() >= 9; }) == -1);
  std::mt19937 random(7);
  std::uniform_int_distribution<int64_t> delay_us(
      0, std::chrono::duration_cast<std::chrono::microseconds>(reference_time).count() / 2);
  for (int trial = 0; trial < 5; ++trial) {
    const auto delay = std::chrono::microseconds(delay_us(random));
    CAPTURE(trial);
    if (run_until([&](auto elapsed) { return elapsed >= delay; }) == 0) break;  // it ended first
  }
  REQUIRE(run_until([](auto) { return false; }) == 0);  // to the end

  check_same_checkpoints(whole, killed);
  CHECK(metric_steps((killed / "metrics.csv").string()) == one_to(total));  // no row lost or repeated
  for (const auto& entry : fs::directory_iterator(killed)) {
    const std::string leftover = entry.path().filename().string();
    CAPTURE(leftover);
    CHECK(entry.path().extension() != ".tmp");
    CHECK_FALSE(contains(leftover, ".prev."));
  }
  CHECK(loads > 0);
}
