// Fuzz target: proformer/checkpoint.h load_model on the input as a model file
// (<tmp>/fuzz.model.safetensors, a symlink to a memfd): the safetensors
// reader, the checkpoint metadata (format, version, training state), the
// model_config JSON, building the model it describes and copying the weights
// into it.
// A pf::Error is the expected answer to bad input, as one short line
// (fuzz/error_rule.h). Anything else is a bug: a
// crash, an ASan/UBSan report, another exception type, a timeout, or an
// allocation over -rss_limit_mb because the metadata asks for a huge model.
#include <stdlib.h>  // mkdtemp
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "fuzz/error_rule.h"
#include "fuzz/memfile.h"
#include "proformer/checkpoint.h"

namespace {

// The memfd under a name that ends in .model.safetensors, as load_model wants;
// the directory is removed at exit.
struct CheckpointFile {
  pf::fuzz::MemFile memory;
  std::filesystem::path dir, path;

  CheckpointFile() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/pf_fuzz_checkpoint.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    dir = pattern;
    path = dir / "fuzz.model.safetensors";
    std::filesystem::create_symlink(memory.path(), path);
  }
  ~CheckpointFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static CheckpointFile file;
  file.memory.set(data, size);
  try {
    pf::proformer::load_model(file.path.string());
  } catch (const pf::Error& e) {
    pf::fuzz::check_error_message(e);
  }
  return 0;
}
