// Fuzz target: nn/formats/safetensors.h load_safetensors on the input as a file (a
// memfd). A file that loads must keep its promises: every tensor a
// contiguous CPU tensor whose bytes lie inside the file.
// A pf::Error is the expected answer to bad input, as one short line
// (fuzz/error_rule.h). Anything else is a bug: a
// crash, an ASan/UBSan report, another exception type (an nlohmann::json
// exception that escapes, say), a timeout, or an allocation over
// -rss_limit_mb from a size in the header.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "fuzz/error_rule.h"
#include "fuzz/memfile.h"
#include "nn/formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pf::fuzz::MemFile file;
  file.set(data, size);
  try {
    const pf::nn::SafetensorsFile loaded = pf::nn::load_safetensors(file.path());
    uint64_t bytes = 0;
    for (const auto& [name, tensor] : loaded.tensors) {
      if (!tensor.is_contiguous()) std::abort();
      bytes += uint64_t(tensor.numel()) * pf::dtype_size(tensor.dtype());
    }
    if (bytes > size) {
      std::fprintf(stderr, "fuzz_safetensors: %llu tensor bytes from a file of %zu\n", (unsigned long long)bytes, size);
      std::abort();
    }
  } catch (const pf::Error& e) {
    pf::fuzz::check_error_message(e);
  }
  return 0;
}
