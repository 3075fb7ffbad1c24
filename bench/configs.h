// The two model configurations every benchmark times, by name: "full" (the
// original, configs/default.yaml) and "small" (configs/demo.yaml's model).
// Their PyTorch twins use the same two (CONFIGS in bench/reference_bench.py).
#pragma once
#include <string>

#include "core/error.h"
#include "proformer/config.h"

namespace pf::bench {

inline proformer::ModelConfig config_named(const std::string& name, const char* program) {
  proformer::ModelConfig c;  // full: the original
  if (name == "small") {
    c.dim = 128;
    c.blocks = 2;
    c.heads = 4;
    c.head_dim = 128;
  } else {
    PF_CHECK(name == "full", program, "--config must be full or small, got '", name, "'");
  }
  return c;
}

}  // namespace pf::bench
