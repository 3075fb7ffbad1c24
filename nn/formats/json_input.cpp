#include "nn/formats/json_input.h"

#include "core/error.h"

namespace pf::nn {

nlohmann::json parse_json(std::string_view text, const JsonSource& source) {
  using json = nlohmann::json;
  try {
    return json::parse(text, [&](int depth, json::parse_event_t, const json&) {
      PF_CHECK(depth <= source.max_depth, source.op, source.path, ": ", source.what, " nests deeper than ",
               source.max_depth, " levels (", source.expected, ")");
      return true;
    });
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
    PF_FAIL(source.op, source.path, ": ", source.what, " is not valid JSON (", excerpt(e.what(), 200), ")");
  }
}

}  // namespace pf::nn
