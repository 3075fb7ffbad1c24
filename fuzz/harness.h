// What the fuzz targets share beside MemFile (memfile.h) and the one-line
// error rule (error_rule.h): failing with a message libFuzzer keeps, running
// a reader that may reject its input with pf::Error, and cutting one input
// into parts at NUL bytes (text formats hold no NUL, so each part stays
// readable and libFuzzer's mutations of one part leave the others alone).
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz/error_rule.h"

namespace pf::fuzz {

// A broken contract: printed, then abort(), so libFuzzer saves the input.
[[noreturn]] inline void fail(const char* target, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", target, what.c_str());
  std::abort();
}

// Runs `read`; a pf::Error is how it rejects bad input, and must keep the
// one-line rule. Returns whether it ran without one.
template <typename Read>
bool ok_or_error(Read&& read) {
  try {
    read();
    return true;
  } catch (const pf::Error& e) {
    check_error_message(e);
    return false;
  }
}

// The input cut at its first `count - 1` NUL bytes: always `count` parts,
// the missing ones empty.
inline std::vector<std::string> split_parts(const uint8_t* data, size_t size, size_t count) {
  std::vector<std::string> parts(count);
  size_t part = 0;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0 && part + 1 < count) {
      ++part;
      continue;
    }
    parts[part] += char(data[i]);
  }
  return parts;
}

}  // namespace pf::fuzz
