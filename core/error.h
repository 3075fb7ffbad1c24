// pf::Error and the PF_CHECK macro: every failed check in the framework throws
// one Error whose message names the operation, what was wrong and file:line:
//   reshape: cannot reshape f32[2, 3] on cpu to [4] [core/ops.cpp:LINE]
// The file is relative to the repository root wherever the code was built:
// CMakeLists.txt maps the root out of __FILE__ (-fmacro-prefix-map), so a
// message names the file a reader finds in the repository, and no build path.
#pragma once
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pf {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// excerpt(text, max_chars): text from an input file made fit for an error
// message, which must stay one short line whatever the file holds. Control
// bytes (below 0x20, and 0x7f) are escaped as \n, \r, \t or \xNN; text
// longer than max_chars is cut to its first max_chars characters, followed by
// "... (N chars)" with the full length N. Put every name, key, value or line
// that comes from an input file through it before it goes into a pf::Error:
//   PF_CHECK(ok, "reader", path, ": bad value '", excerpt(value), "'");
inline std::string excerpt(std::string_view text, size_t max_chars = 60) {
  const std::string_view head = text.substr(0, max_chars);
  std::string out;
  out.reserve(head.size() + 24);
  for (const char c : head) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  if (text.size() > max_chars) out += "... (" + std::to_string(text.size()) + " chars)";
  return out;
}

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
