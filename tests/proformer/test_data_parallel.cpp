// Data parallel training and gradient accumulation (proformer/training/train_step.h).
// The global batch and the results must not depend on how a batch is split:
//
//   - 2 ranks (mpirun -np 2 pf-train) with batch 8 end with the same bits as
//     one process running 2 micro-batches of 4: each rank's gradient is that
//     micro-batch's gradient, and a sum of two floats does not depend on
//     their order (a + b == b + a), so the MPI all-reduce gives what the
//     accumulation gives. Dropout is on: both draw each row's mask alike.
//   - one process with micro-batches ends within 1e-5 (relative, per tensor)
//     of one process with the whole batch: the same sums, added in another
//     order (GEMMs over 8 rows or over 4 + 4). Measured: 2e-6 at most, except
//     the attention key bias, whose gradient is rounding noise (is_key_bias).
//   - a 2-rank run stopped and resumed (with 2 ranks, or with 1) continues
//     to the same bits as the run that never stopped;
//   - a rank that fails stops the whole job within seconds with its message
//     and a non-zero exit, and so does a rank killed with SIGKILL.
// The mpirun cases exit with 77 (CTest: Skipped) where mpirun is missing.
#include <doctest/doctest.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
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

constexpr int64_t kSteps = 6;

// The tiny config (dropout 0.1, batch 8), validating and checkpointing every 3 steps.
Config dp_config(const fs::path& dir) {
  Config config = tiny_config(dir.string());
  config.train.max_steps = kSteps;
  config.train.eval_every = 3;
  config.output.checkpoint_every = 3;
  return config;
}

TrainSummary train_in_process(Config config, bool resume = false) {
  TrainOptions options;
  options.resume = resume;
  return train(config, options);
}

// mpirun from PATH, or "" when it is not installed.
std::string find_mpirun() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && access((fs::path(dir) / "mpirun").c_str(), X_OK) == 0) return (fs::path(dir) / "mpirun").string();
  return "";
}

// Ends the test program as skipped (CTest SKIP_RETURN_CODE 77) without mpirun.
std::string mpirun_or_skip() {
  const std::string mpirun = find_mpirun();
  if (mpirun.empty()) {
    std::printf("mpirun not found: data parallel test skipped\n");
    std::exit(77);
  }
  return mpirun;
}

// mpirun's options for N ranks on this machine, as root too, with shared
// memory between the ranks and no network interface needed but loopback.
std::vector<std::string> mpirun_command(int ranks) {
  std::vector<std::string> command = {mpirun_or_skip(), "-np", std::to_string(ranks), "--oversubscribe"};
  if (geteuid() == 0) command.push_back("--allow-run-as-root");
  const char* settings[][2] = {
      {"pml", "ob1"}, {"btl", "self,vader"}, {"btl_vader_single_copy_mechanism", "none"}, {"oob_tcp_if_include", "lo"}};
  for (const auto& [name, value] : settings) command.insert(command.end(), {"--mca", name, value});
  return command;
}

// Runs `pf-train CONFIG args...` on `ranks` ranks; checks that it succeeded.
ProcessResult mpirun_pf_train(int ranks, const Config& config, const fs::path& dir, std::vector<std::string> args = {}) {
  fs::create_directories(dir);
  const std::string yaml = (dir / "run.yaml").string();
  write_text(yaml, to_yaml(config));
  std::vector<std::string> command = mpirun_command(ranks);
  command.push_back(app_path("pf-train"));
  command.push_back(yaml);
  command.insert(command.end(), args.begin(), args.end());
  // Open MPI keeps some memory until exit: LeakSanitizer (PF_SANITIZE) would call that a leak.
  setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
  return run_process(command, std::chrono::seconds(120));
}

// The attention key bias adds q.b to every score of a query's row, which the
// softmax cancels: its gradient is 0 but for rounding, and Adam turns that
// noise into steps of the learning rate's size, so two runs that round
// differently end with different key biases. Nothing reads them either.
bool is_key_bias(const std::string& name) {
  const std::string suffix = "attn.k.bias";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ||a - b|| / ||a|| of each tensor of two safetensors files but the key biases:
// the largest, and its name.
std::pair<double, std::string> max_relative_difference(const std::string& path_a, const std::string& path_b) {
  const nn::SafetensorsFile a = nn::load_safetensors(path_a), b = nn::load_safetensors(path_b);
  std::pair<double, std::string> worst = {0.0, ""};
  for (const auto& [name, ta] : a.tensors) {
    if (is_key_bias(name)) continue;
    const std::vector<float> x = ta.to_vector<float>(), y = b.tensors.at(name).to_vector<float>();
    REQUIRE(x.size() == y.size());
    double difference = 0, norm = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      difference += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
      norm += double(x[i]) * x[i];
    }
    const double relative = norm > 0 ? std::sqrt(difference / norm) : std::sqrt(difference);
    if (relative > worst.first) worst = {relative, name};
  }
  return worst;
}

// The pid of the process whose command line contains `text` and whose
// environment says it is rank `rank` of mpirun; 0 while there is none.
pid_t find_rank(const std::string& text, int rank) {
  const std::string wanted = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string command = read_text((entry.path() / "cmdline").string());
    const std::string environment = read_text((entry.path() / "environ").string());
    if (command.find(text) != std::string::npos && command.find("pf-train") != std::string::npos &&
        environment.find(std::string("\0") + wanted + '\0') != std::string::npos)  // NUL-separated
      return pid_t(std::stol(name));
  }
  return 0;
}

void check_same_bits(const fs::path& expected, const fs::path& actual) {
  for (const std::string file : {"last.model.safetensors", "last.optim.safetensors"}) {
    CAPTURE(file);
    REQUIRE(fs::exists(expected / file));
    REQUIRE(fs::exists(actual / file));
    std::string names;
    for (const std::string& name : differing_tensors((expected / file).string(), (actual / file).string()))
      names += name + " ";
    CHECK_MESSAGE(names.empty(), "tensors that differ: ", names);
  }
}

}  // namespace

TEST_CASE("data parallel: one process with micro-batches ends within 1e-5 of one process with the whole batch") {
  TempDir tmp("pf_test_dp");
  Config whole = dp_config(tmp.path / "whole");
  train_in_process(whole);
  Config micro = dp_config(tmp.path / "micro");
  micro.train.micro_batch_size = 2;  // 4 forwards per step
  train_in_process(micro);
  const auto [difference, name] = max_relative_difference((tmp.path / "whole/last.model.safetensors").string(),
                                                          (tmp.path / "micro/last.model.safetensors").string());
  CAPTURE(name);
  CHECK(difference < 1e-5);
  CHECK(difference > 0);  // the order of additions differs: identical bits would mean the split did nothing
}

TEST_CASE("data parallel: a micro_batch_size or batch_size that does not split evenly is a config error") {
  TempDir tmp("pf_test_dp");
  Config config = dp_config(tmp.path);
  config.train.micro_batch_size = 3;
  CHECK(error_of([&] { train_in_process(config); })
            .find("train.micro_batch_size = 3 does not divide the 8 rows of each rank") != std::string::npos);
  CHECK(!fs::exists(tmp.path / "metrics.csv"));
}

TEST_CASE("data parallel: 2 ranks end with the bits of one process accumulating 2 micro-batches") {
  TempDir tmp("pf_test_dp");
  const ProcessResult run = mpirun_pf_train(2, dp_config(tmp.path / "ranks"), tmp.path / "ranks");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.err.find("2 ranks (MPI, gradients over MPI): 4 rows each per batch of 8") != std::string::npos);
  CHECK(run.err.find("pf-train: 6 steps") != std::string::npos);  // rank 0 alone reports

  Config micro = dp_config(tmp.path / "micro");
  micro.train.micro_batch_size = 4;
  train_in_process(micro);
  check_same_bits(tmp.path / "micro", tmp.path / "ranks");
  Config whole = dp_config(tmp.path / "whole");
  train_in_process(whole);
  CHECK(max_relative_difference((tmp.path / "whole/last.model.safetensors").string(),
                                (tmp.path / "ranks/last.model.safetensors").string())
            .first < 1e-5);
}

TEST_CASE("data parallel: a 2-rank run resumed with 2 ranks or with 1 continues to the same bits") {
  TempDir tmp("pf_test_dp");
  const Config config = dp_config(tmp.path / "whole");
  REQUIRE(mpirun_pf_train(2, config, tmp.path / "whole").exit_code == 0);

  Config stopped = dp_config(tmp.path / "stopped");
  stopped.train.max_steps = 3;
  REQUIRE(mpirun_pf_train(2, stopped, tmp.path / "stopped").exit_code == 0);
  fs::copy(tmp.path / "stopped", tmp.path / "one_rank", fs::copy_options::recursive);
  const ProcessResult resumed = mpirun_pf_train(2, dp_config(tmp.path / "stopped"), tmp.path / "stopped", {"--resume"});
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.err.find("resumed from") != std::string::npos);
  check_same_bits(tmp.path / "whole", tmp.path / "stopped");

  Config one_rank = dp_config(tmp.path / "one_rank");
  one_rank.train.micro_batch_size = 4;  // the rows of each rank, one after the other
  CHECK(train_in_process(one_rank, true).steps == kSteps);
  check_same_bits(tmp.path / "whole", tmp.path / "one_rank");
}

TEST_CASE("data parallel: a rank that fails stops every rank within seconds, with its message") {
  TempDir tmp("pf_test_dp");
  Config good = dp_config(tmp.path);
  good.train.max_steps = 1000000;  // rank 0 alone would train for minutes
  Config bad = good;
  bad.train.init_from = (tmp.path / "missing").string();  // rank 1 fails while rank 0 waits in a collective
  write_text((tmp.path / "good.yaml").string(), to_yaml(good));
  write_text((tmp.path / "bad.yaml").string(), to_yaml(bad));
  // One rank of each config (mpirun's MPMD form: A : B).
  std::vector<std::string> command = mpirun_command(1);
  command.push_back(app_path("pf-train"));
  command.push_back((tmp.path / "good.yaml").string());
  command.insert(command.end(), {":", "-np", "1"});
  command.push_back(app_path("pf-train"));
  command.push_back((tmp.path / "bad.yaml").string());
  setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult run = run_process(command, std::chrono::seconds(60));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(run.err);
  CHECK(run.exit_code != 0);
  CHECK(run.err.find("pf-train: error on rank 1 of 2: ") != std::string::npos);
  CHECK(run.err.find("missing") != std::string::npos);
  CHECK(seconds < 30);
}

TEST_CASE("data parallel: a rank killed with SIGKILL stops every rank within seconds") {
  TempDir tmp("pf_test_dp");
  Config config = dp_config(tmp.path);
  config.train.max_steps = 1000000;  // minutes, unless the job ends
  fs::create_directories(tmp.path);
  write_text((tmp.path / "run.yaml").string(), to_yaml(config));
  std::vector<std::string> command = mpirun_command(2);
  command.push_back(app_path("pf-train"));
  command.push_back((tmp.path / "run.yaml").string());
  setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
  ChildProcess job(command, tmp.file("stdout"), tmp.file("stderr"));
  // Kill rank 1 once the ranks train (rank 0 has written metrics.csv rows).
  const auto started = std::chrono::steady_clock::now();
  pid_t rank1 = 0;
  while (job.running() && std::chrono::steady_clock::now() - started < std::chrono::seconds(60) &&
         (rank1 == 0 || read_text(tmp.file("metrics.csv")).find("\n3,") == std::string::npos)) {
    rank1 = find_rank(tmp.path.string(), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(rank1 != 0);
  REQUIRE(job.running());
  ::kill(rank1, SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  while (job.running() && std::chrono::steady_clock::now() - killed < std::chrono::seconds(30))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  INFO(read_text(tmp.file("stderr")));
  CHECK(!job.running());  // else the destructor kills mpirun
  job.wait();
  CHECK(job.exit_code() != 0);
}
