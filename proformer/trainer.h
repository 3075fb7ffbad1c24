// Training: the loop behind pf-train. Reads the DREAM data, splits it, trains
// with the configured optimiser and schedule, evaluates on the validation
// split, and writes checkpoints and a metrics CSV into config.output.dir:
//
//   <dir>/config.yaml               the effective configuration
//   <dir>/metrics.csv               one row per log interval and per evaluation
//   <dir>/last.{model,optim}.safetensors   written every checkpoint interval
//   <dir>/best.model.safetensors    the best validation Pearson so far
#pragma once
#include <string>

#include "proformer/config.h"

namespace pf::proformer {

struct TrainOptions {
  bool resume = false;  // continue from <dir>/last.* if it exists
};

struct TrainSummary {
  int64_t steps = 0;
  double best_val_pearson = 0;
  double last_val_pearson = 0;
  std::string best_checkpoint;  // prefix of the best checkpoint
};

// Runs training to the end (epochs or max_steps). Throws pf::Error on bad
// input; SIGINT/SIGTERM stop after the current step with a checkpoint.
TrainSummary train(const Config& config, const TrainOptions& options);

}  // namespace pf::proformer
