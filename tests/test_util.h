// Helpers shared by the tests: a temporary directory per test, small file
// I/O, the message of a pf::Error, running a program (the apps) as a child
// process with its exit status, stdout and stderr captured, a tiny training
// config, and a bit-exact comparison of safetensors files.
//
//   pf::test::TempDir dir;                                  // removed at scope exit
//   write_text(dir.file("in.txt"), "ACGT\n");
//   ProcessResult r = run_process({app_path("pf-infer"), "--checkpoint", ckpt, dir.file("in.txt")});
//   CHECK(r.exit_code == 1);  CHECK(r.err == "pf-infer: error: ...\n");
#pragma once
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "nn/formats/safetensors.h"
#include "proformer/config.h"

extern char** environ;

namespace pf::test {

namespace fs = std::filesystem;

// A fresh, uniquely named directory for the files one test writes (unique
// across the processes CTest runs in parallel), removed with its contents
// when the TempDir goes out of scope.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& prefix = "pf_test") {
    std::string name = (fs::temp_directory_path() / (prefix + "_XXXXXX")).string();
    REQUIRE_MESSAGE(mkdtemp(name.data()) != nullptr, "mkdtemp failed: ", std::strerror(errno));
    path = name;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline void write_gzip(const std::string& path, const std::string& text) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, text.data(), unsigned(text.size())) == int(text.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

// The pf::Error message `action` throws, or "" when it does not throw.
inline std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const pf::Error& error) {
    return error.what();
  }
  return "";
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- child processes ----

// The path of an app built with the tests, e.g. app_path("pf-train").
inline std::string app_path(const std::string& name) { return std::string(PF_BINARY_DIR) + "/apps/" + name; }

// A program running as a child process, its stdin from /dev/null and its
// stdout and stderr going to files. The destructor kills (SIGKILL) and reaps
// a child that is still running, so a failed CHECK never leaves one behind.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& stderr_path) {
    REQUIRE(!argv.empty());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const int error = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE_MESSAGE(error == 0, "cannot start ", argv[0], ": ", std::strerror(error));
  }
  ~ChildProcess() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // True until the child has exited (reaps it when it has).
  bool running() {
    if (reaped_) return false;
    const pid_t done = waitpid(pid_, &status_, WNOHANG);
    reaped_ = done == pid_;
    return !reaped_;
  }
  void kill(int signal) {
    if (!reaped_) ::kill(pid_, signal);
  }
  // Waits for the child to end; returns its wait status (see exit_code, signal).
  int wait() {
    while (!reaped_) {
      const pid_t done = waitpid(pid_, &status_, 0);
      reaped_ = done == pid_ || (done < 0 && errno != EINTR);
    }
    return status_;
  }
  // After wait(): the exit code, or -1 when a signal ended the child.
  int exit_code() const { return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1; }
  // After wait(): the signal that ended the child, or 0.
  int signal() const { return WIFSIGNALED(status_) ? WTERMSIG(status_) : 0; }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when a signal ended the program
  int signal = 0;      // the signal that ended it, or 0
  std::string out, err;
};

// Runs a program to its end (killing it after `timeout`) and returns how it
// ended with everything it wrote to stdout and stderr.
inline ProcessResult run_process(const std::vector<std::string>& argv,
                                 std::chrono::seconds timeout = std::chrono::seconds(120)) {
  TempDir capture("pf_test_capture");
  const std::string out = capture.file("stdout"), err = capture.file("stderr");
  ChildProcess child(argv, out, err);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (child.running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      FAIL_CHECK(argv[0], " ran longer than ", timeout.count(), " s; killed");
      child.kill(SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  child.wait();
  return {child.exit_code(), child.signal(), read_text(out), read_text(err)};
}

// ---- training ----

// A model and run small enough for a test to train in well under a second:
// dim 16, 1 block, 2 heads of dim 8, batch 8, on the first 200 demo promoters
// (20 held out: 180 training promoters, 22 batches per epoch), one thread.
// Dropout is on so that resuming must restore the dropout generator too.
inline proformer::Config tiny_config(const std::string& output_dir) {
  proformer::Config c;
  c.model.dim = 16;
  c.model.blocks = 1;
  c.model.heads = 2;
  c.model.head_dim = 8;
  c.model.ffn_mult = 2;
  c.model.conv_kernel = 5;
  c.model.expr_tokens = 4;
  c.model.dropout = 0.1;
  c.data.train = std::string(PF_SOURCE_DIR) + "/data/demo/demo_train.txt";
  c.data.max_lines = 200;
  c.data.val_fraction = 0.1;
  c.train.batch_size = 8;
  c.train.epochs = 100;
  c.train.threads = 1;
  c.train.log_every = 1;
  c.schedule.name = "noam";
  c.schedule.warmup_steps = 10;
  c.output.dir = output_dir;
  return c;
}

// The names of the tensors that are not bit-identical in two safetensors
// files (different bytes, shape or dtype, or present in only one of them).
inline std::vector<std::string> differing_tensors(const std::string& path_a, const std::string& path_b) {
  const nn::SafetensorsFile a = nn::load_safetensors(path_a), b = nn::load_safetensors(path_b);
  std::vector<std::string> names;
  for (const auto& [name, ta] : a.tensors) {
    const auto found = b.tensors.find(name);
    const size_t bytes = size_t(ta.numel()) * dtype_size(ta.dtype());
    const bool same = found != b.tensors.end() && found->second.dtype() == ta.dtype() &&
                      found->second.shape() == ta.shape() &&
                      std::memcmp(ta.raw_data(), found->second.raw_data(), bytes) == 0;
    if (!same) names.push_back(name);
  }
  for (const auto& [name, tb] : b.tensors)
    if (a.tensors.count(name) == 0) names.push_back(name);
  return names;
}

}  // namespace pf::test
