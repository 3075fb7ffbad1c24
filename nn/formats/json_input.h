// parse_json: the one way JSON read from an input file (a safetensors header,
// a checkpoint's model config, pf-eval's predictions and labels) is parsed.
//
// nlohmann::json builds one value per bracket, about 75 bytes of memory per
// byte of "[[[[...", and its recursive destructor can exhaust the stack on
// deep nesting. So every input is parsed with a nesting bound that stops the
// parse at the first bracket past it, before the document is built, and every
// failure is one pf::Error naming the file.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pf::nn {

struct JsonSource {
  const char* op;          // the operation, first in the message: "safetensors", "pf-eval"
  std::string path;        // the file, for the message
  std::string what;        // what the text is, for the message: "the header", "the file"
  int max_depth;           // values nested deeper than this stop the parse (0: the top-level value)
  std::string expected;    // said when the nesting is too deep: "expected a flat JSON object"
};

// Parses `text`. Throws pf::Error
//   "<op>: <path>: <what> is not valid JSON (<parser message>)" or
//   "<op>: <path>: <what> nests deeper than <max_depth> levels (<expected>)".
nlohmann::json parse_json(std::string_view text, const JsonSource& source);

}  // namespace pf::nn
