// Helpers for the tests of variant effects, in-silico mutagenesis, plots and
// fine-tuning: a temporary directory and a tiny Proformer (dim 16, 1 block,
// 2 heads of dim 8) saved as a checkpoint, so the tests run in milliseconds.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "core/error.h"
#include "proformer/checkpoint.h"
#include "proformer/config.h"
#include "proformer/model.h"

namespace pf::testing {

// A fresh directory for the files one test writes, removed afterwards.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("pf_test_bio_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
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

// A config whose model is tiny; everything else keeps the defaults.
inline proformer::Config tiny_config() {
  proformer::Config config;
  config.model.dim = 16;
  config.model.blocks = 1;
  config.model.heads = 2;
  config.model.head_dim = 8;
  return config;
}

// Saves a tiny model initialised from `seed` (then changed by `edit`, if
// given) as <prefix>.model.safetensors with the given label statistics, and
// returns `prefix`.
inline std::string save_tiny_checkpoint(const std::string& prefix, uint64_t seed, proformer::LabelStats stats,
                                        const std::function<void(proformer::Proformer&)>& edit = {}) {
  proformer::Proformer model(tiny_config().model, seed);
  if (edit) edit(model);
  proformer::TrainState state;
  state.label_stats = stats;
  proformer::save_checkpoint(prefix, model, nullptr, state, "");
  return prefix;
}

}  // namespace pf::testing
