// pf::Error's message ending and pf::excerpt: input text made fit for a
// one-line error message.
#include <doctest/doctest.h>

#include <string>

#include "core/error.h"
#include "core/ops.h"

using namespace pf;

TEST_CASE("excerpt: escapes control characters and cuts long text, noting its length") {
  CHECK(excerpt("") == "");
  CHECK(excerpt("weight.0") == "weight.0");
  CHECK(excerpt("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(excerpt(std::string("x\0y\x1b\x7f", 5)) == "x\\x00y\\x1b\\x7f");
  CHECK(excerpt("caf\xc3\xa9") == "caf\xc3\xa9");  // bytes >= 0x80 (UTF-8) are kept

  // Up to max_chars it is whole; past it, the first max_chars and the length.
  CHECK(excerpt(std::string(60, 'a')) == std::string(60, 'a'));
  CHECK(excerpt(std::string(61, 'a')) == std::string(60, 'a') + "... (61 chars)");
  CHECK(excerpt(std::string(20'971'520, '['), 6) == "[[[[[[... (20971520 chars)");
  CHECK(excerpt("a\nbcdef", 3) == "a\\nb... (7 chars)");  // the cut counts input characters

  // Whatever the input, the result is one line of bounded length.
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes += char(c);
  const std::string line = excerpt(all_bytes + all_bytes, 1000);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find('\r') == std::string::npos);
  CHECK(excerpt(std::string(1 << 20, '\n')).size() <= 4 * 60 + 20);
}

// The build maps the repository root out of __FILE__ (-fmacro-prefix-map in
// CMakeLists.txt); the message ended with the absolute path of the checkout.
TEST_CASE("error: messages end with the source file relative to the repository") {
  std::string message;
  try {
    ops::reshape(Tensor::zeros({2, 3}), {4});
  } catch (const Error& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.starts_with("reshape: cannot reshape f32[2, 3] on cpu to [4] [core/ops.cpp:"));
  CHECK(message.ends_with("]"));
  CHECK(message.find(PF_SOURCE_DIR) == std::string::npos);
  try {
    PF_FAIL("test", "here");
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message.starts_with("test: here [tests/core/test_error.cpp:"));
}
