// check_error_message: the rule every pf::Error from bad input must keep,
// that its message is ONE short line naming the file and the problem (an
// error line is printed to a terminal or a log; a file's own text must not
// add lines to it or make it megabytes long). Input text belongs in a message
// only through pf::excerpt (core/error.h). A message that breaks the rule is
// a bug: it is printed (its length, and its start) and the target traps, so
// libFuzzer saves the input.
#pragma once
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace pf::fuzz {

constexpr size_t kMaxErrorChars = 1000;

inline void check_error_message(const pf::Error& e) {
  const char* what = e.what();
  const size_t length = std::strlen(what);
  const bool newline = std::strchr(what, '\n') != nullptr;
  if (!newline && length <= kMaxErrorChars) return;
  std::fprintf(stderr, "pf::Error message breaks the one-line rule (%zu chars%s): %s\n", length,
               newline ? ", has '\\n'" : "", pf::excerpt(what, 300).c_str());
  __builtin_trap();
}

}  // namespace pf::fuzz
