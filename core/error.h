// pf::Error and the PF_CHECK macro: every failed check in the framework throws
// one Error whose message names the operation, what was wrong and file:line.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace pf {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Parts>
[[noreturn]] void throw_error(const char* file, int line, const char* op, const Parts&... parts) {
  std::ostringstream msg;
  msg << op << ": ";
  (msg << ... << parts);
  msg << " [" << file << ":" << line << "]";
  throw Error(msg.str());
}
}  // namespace detail

}  // namespace pf

// PF_CHECK(cond, "op name", parts...): throws pf::Error("op name: parts... [file:line]")
// when cond is false. The parts are streamed with operator<<, so shapes and
// dtypes can be passed directly.
#define PF_CHECK(cond, op, ...)                                            \
  do {                                                                     \
    if (!(cond)) ::pf::detail::throw_error(__FILE__, __LINE__, op, __VA_ARGS__); \
  } while (0)

// PF_FAIL("op name", parts...): unconditional version of PF_CHECK.
#define PF_FAIL(op, ...) ::pf::detail::throw_error(__FILE__, __LINE__, op, __VA_ARGS__)
