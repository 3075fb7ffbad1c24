// Fuzz target: the npz reader (nn/formats/npz.h). The input is an npz file
// on a memfd. Every member read_npz returns must hold exactly as many values
// as its shape says. A pf::Error is the expected answer to bad input, as one
// short line (fuzz/error_rule.h); anything else is a bug: a crash, an
// ASan/UBSan report, another exception type, a timeout, an allocation over
// -rss_limit_mb (a size field believed without checking it against the file).
#include <cstdint>
#include <map>
#include <string>

#include "fuzz/harness.h"
#include "fuzz/memfile.h"
#include "nn/formats/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static pf::fuzz::MemFile file;
  file.set(data, size);
  std::map<std::string, pf::nn::NpyArray> arrays;
  if (!pf::fuzz::ok_or_error([&] { arrays = pf::nn::read_npz(file.path()); })) return 0;
  for (const auto& [name, array] : arrays) {
    int64_t count = 1;
    for (int64_t d : array.shape)
      if (d < 0 || __builtin_mul_overflow(count, d, &count)) pf::fuzz::fail("fuzz_npz", "a shape that overflows");
    if (uint64_t(count) != array.values.size()) pf::fuzz::fail("fuzz_npz", "values differ from the shape's count");
  }
  return 0;
}
