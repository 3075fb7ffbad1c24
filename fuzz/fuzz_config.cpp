// Fuzz target: the YAML config loader of proformer/config.h. The input is
// YAML text for config_from_yaml_string; when it holds a NUL byte, the text
// after the first NUL is a "section.key=value" override for apply_override
// (the YAML before it). A config that loads must survive to_yaml and read
// back equal (config.h promises the round trip).
// A pf::Error is the expected answer to bad input, as one short line
// (fuzz/error_rule.h). Anything else is a bug: a
// crash, an ASan/UBSan report, another exception type (a yaml-cpp exception
// that escapes, say), a timeout, a huge allocation, or a broken round trip.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "fuzz/error_rule.h"
#include "proformer/config.h"

using namespace pf::proformer;

namespace {

// to_yaml's output must read back to the same Config.
void check_round_trip(const Config& config) {
  const std::string yaml = to_yaml(config);
  Config again;
  try {
    again = config_from_yaml_string(yaml, "to_yaml output");
  } catch (const pf::Error& e) {
    std::fprintf(stderr, "fuzz_config: to_yaml output does not load: %s\n%s", e.what(), yaml.c_str());
    std::abort();
  }
  if (!(again == config)) {
    std::fprintf(stderr, "fuzz_config: to_yaml output reads back to a different config:\n%s", yaml.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  try {
    Config config = config_from_yaml_string(input.substr(0, nul), "fuzz.yaml");
    check_round_trip(config);
    if (nul != std::string::npos) {
      apply_override(config, input.substr(nul + 1));
      check_round_trip(config);
    }
  } catch (const pf::Error& e) {
    pf::fuzz::check_error_message(e);
  }
  return 0;
}
