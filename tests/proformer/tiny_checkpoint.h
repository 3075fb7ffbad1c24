// Helpers for the tests of variant effects, in-silico mutagenesis, plots and
// fine-tuning: a tiny Proformer (dim 16, 1 block, 2 heads of dim 8) saved as a
// checkpoint, so the tests run in milliseconds. Temporary directories, files
// and error_of come from tests/test_util.h.
#pragma once
#include <functional>
#include <string>

#include "proformer/checkpoint.h"
#include "proformer/config.h"
#include "proformer/model.h"
#include "test_util.h"

namespace pf::test {

// The config of save_tiny_checkpoint's model (dim 16, 1 block, 2 heads of dim 8;
// not test_util.h's tiny_config, which the resume tests use); everything else
// keeps the defaults.
inline proformer::Config tiny_checkpoint_config() {
  proformer::Config config;
  config.model.dim = 16;
  config.model.blocks = 1;
  config.model.heads = 2;
  config.model.head_dim = 8;
  return config;
}

// Saves a tiny model initialised from `seed` (then changed by `edit`, if
// given) as <prefix>.model.safetensors with the given label statistics, and
// returns `prefix`.
inline std::string save_tiny_checkpoint(const std::string& prefix, uint64_t seed, proformer::LabelStats stats,
                                        const std::function<void(proformer::Proformer&)>& edit = {}) {
  proformer::Proformer model(tiny_checkpoint_config().model, seed);
  if (edit) edit(model);
  proformer::TrainState state;
  state.label_stats = stats;
  proformer::save_checkpoint(prefix, model, nullptr, state, "");
  return prefix;
}

}  // namespace pf::test
