// One pf-train run per output.dir (proformer/training/run_lock.h): pf-train runs as a
// child process, as a user would start it twice.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include "proformer/config.h"
#include "proformer/training/run_lock.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace pf::proformer;
using namespace pf::test;

namespace {

// Every file under `dir` with its size and modification time.
std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    files.insert(entry.path().string() + " " + std::to_string(entry.file_size()) + " " +
                 std::to_string(entry.last_write_time().time_since_epoch().count()));
  return files;
}

// A tiny pf-train config writing into `dir`, saved as <tmp>/tiny.yaml.
std::string tiny_run(const TempDir& tmp, const fs::path& dir, int64_t max_steps) {
  Config config = tiny_config(dir.string());
  config.train.max_steps = max_steps;
  const std::string path = tmp.file("tiny.yaml");
  write_text(path, to_yaml(config));
  return path;
}

}  // namespace

// Both runs ran before, interleaving their checkpoints and metrics.csv.
TEST_CASE("run lock: a second pf-train on a busy output.dir stops at once and writes nothing") {
  TempDir tmp("pf_test_run_lock");
  const fs::path dir = tmp.path / "run";
  fs::create_directories(dir);
  const std::string config = tiny_run(tmp, dir, 2);
  const RunLock running(dir.string());  // as a run in progress holds it
  const std::set<std::string> before = listing(dir);

  const ProcessResult second = run_process({app_path("pf-train"), config});
  INFO("stderr: ", second.err);
  CHECK(second.exit_code != 0);
  CHECK(second.signal == 0);
  CHECK(contains(second.err, dir.string() + ": another training run is writing into this output.dir"));
  CHECK(listing(dir) == before);
  CHECK(contains(error_of([&] { RunLock again(dir.string()); }), "another training run"));
}

TEST_CASE("run lock: a killed run leaves output.dir free for the next one") {
  TempDir tmp("pf_test_run_lock");
  const fs::path dir = tmp.path / "run";
  ChildProcess run({app_path("pf-train"), tiny_run(tmp, dir, 0)}, tmp.file("out"), tmp.file("err"));
  // config.yaml is written once the run holds the lock (it then trains for
  // 100 epochs: far longer than this test waits).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(dir / "config.yaml")) {
    REQUIRE_MESSAGE(run.running(), "pf-train ended early: ", read_text(tmp.file("err")));
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(contains(error_of([&] { RunLock probe(dir.string()); }), "another training run"));
  run.kill(SIGKILL);
  run.wait();
  CHECK(run.signal() == SIGKILL);
  CHECK(error_of([&] { RunLock next(dir.string()); }).empty());
}
