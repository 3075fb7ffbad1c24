// Checkpoints: safetensors files that numpy/PyTorch can read.
//
//   <prefix>.model.safetensors  the weights by module name; metadata holds the
//                               format and version, the model config (JSON),
//                               the label mean/std and the training state
//   <prefix>.optim.safetensors  the Adam moments "m.<name>", "v.<name>" and
//                               the same training state (resume only)
//
// Each file is written to a temporary name and renamed into place, so a crash
// never leaves a half-written checkpoint; the two files carry the same step,
// and loading checks that they agree. While a new pair is being written the
// previous optimiser file is kept as <prefix>.optim.prev.safetensors, so a
// crash between the two files still leaves a consistent pair to resume from.
#pragma once
#include <limits>
#include <memory>
#include <string>

#include "nn/optim/loss_scaler.h"
#include "nn/optim/optimizer.h"
#include "proformer/data/batches.h"
#include "proformer/data/dataset.h"
#include "proformer/model.h"

namespace pf::proformer {

constexpr const char* kCheckpointFormat = "proformer-checkpoint";
constexpr int kCheckpointVersion = 1;

// Everything besides the tensors that a resumed run needs to continue exactly.
struct TrainState {
  int64_t step = 0;                 // optimiser updates done
  BatchPosition next_batch;         // where the training batch stream resumes
  uint64_t dropout_rng_offset = 0;  // the dropout generator's position
  double best_val_pearson = -std::numeric_limits<double>::infinity();
  LabelStats label_stats;
  nn::LossScalerState loss_scaler;  // f16 runs; checkpoints without it read as the initial state
};

// Writes <prefix>.model.safetensors and, when optimizer is given,
// <prefix>.optim.safetensors. config_yaml is the full training config, kept
// for the record.
void save_checkpoint(const std::string& prefix, const Proformer& model, const nn::Adam* optimizer,
                     const TrainState& state, const std::string& config_yaml);

struct LoadedModel {
  std::shared_ptr<Proformer> model;  // in eval mode
  TrainState state;
  std::string config_yaml;
};

// Reads a model file (the path of <prefix>.model.safetensors, or the prefix
// itself). Throws pf::Error naming the file for a missing or corrupt file, a
// wrong format or version, a missing or mis-shaped weight.
LoadedModel load_model(const std::string& path);

// Copies weights from a model file into `model` (for init_from / fine-tuning).
// Parameters whose name starts with one of `skip_prefixes` keep their values.
void load_weights(const std::string& path, nn::Module& model, const std::vector<std::string>& skip_prefixes = {});

// Restores the optimiser moments of <prefix>.optim.safetensors; the step in it
// must equal `state.step` from the model file. When it does not (a crash
// between writing the two files), <prefix>.optim.prev.safetensors is used if
// its step does.
void load_optimizer(const std::string& prefix, nn::Adam& optimizer, const TrainState& state);

// The model file path of a prefix: "<prefix>.model.safetensors".
std::string model_file(const std::string& prefix);

}  // namespace pf::proformer
