// Training: the loop behind pf-train. Reads the DREAM data, splits it, trains
// with the configured optimiser and schedule, evaluates on the validation
// split, and writes checkpoints and a metrics CSV into config.output.dir:
//
//   <dir>/config.yaml               the effective configuration
//   <dir>/metrics.csv               one row per log interval and per evaluation
//   <dir>/last.{model,optim}.safetensors   written every checkpoint interval
//   <dir>/best.model.safetensors    the best validation Pearson so far
//   <dir>/val_predictions.tsv       measured and predicted expression of the
//                                   validation set at the best checkpoint
//   <dir>/learning_curves.png, val_scatter.png, plot_training.gp
//                                   plots drawn at the end when gnuplot is
//                                   installed (see plots.h)
//   <dir>/train.lock                locked while a run writes into <dir>: a
//                                   second run stops at once (run_lock.h)
//
// Fine-tuning: with train.init_from the run starts from a trained checkpoint
// (see initial_model) and otherwise trains as usual, labels z-scored with the
// mean/std of its own training data (configs/finetune.yaml).
//
// Failing to start writes nothing: the config, the data, init_from and the
// checkpoint to resume from are all read and checked before output.dir is
// created or anything is written into it (or printed), so bad input leaves
// output.dir as it was and one error. Once training runs, every file is
// replaced atomically, so a run killed at any moment (even SIGKILL) leaves
// complete files, and --resume continues it to the same bits as a run that
// never stopped: metrics.csv loses the rows written after the checkpoint it
// resumes from, and temporary files of the killed run are removed.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "nn/distributed/communicator.h"
#include "proformer/config.h"
#include "proformer/model.h"

namespace pf::proformer {

struct TrainOptions {
  bool resume = false;  // continue from <dir>/last.* if it exists (else start afresh)
  // Data parallel (mpirun -np N pf-train): the ranks, for host tensors
  // (validation, losses, the start-up broadcast); nullptr: this process alone.
  nn::Communicator* world = nullptr;
  // What all-reduces the gradients and broadcasts the parameters: NCCL for a
  // model on GPUs; nullptr: world.
  nn::Communicator* gradients = nullptr;
  // Called in each step between compute_gradients and apply_gradients
  // (train_step.h) with the parameters, their gradients complete; tests use
  // it to inject a non-finite gradient.
  std::function<void(const nn::NamedTensors&)> after_backward;
};

struct TrainSummary {
  int64_t steps = 0;
  double best_val_pearson = 0;
  double last_val_pearson = 0;
  std::string best_checkpoint;  // prefix of the best checkpoint
  double train_seconds = 0;     // in training steps (validation and checkpoints excluded)
  double all_reduce_wait_seconds = 0;  // of them, waiting for gradient all-reduces after backward
};

// The device a rank trains on: train.device, where a plain "cuda" means the
// rank's own GPU (its local rank: 0 for a single process) and "cuda:N" GPU N.
Device train_device(const TrainConfig& train, int local_rank);

// The model a run starts from, on the CPU: a fresh seeded initialisation
// (Keras defaults: glorot-uniform kernels, zero biases, ...) from
// config.train.seed and, with config.train.init_from, every weight of that
// checkpoint copied over it, or with config.train.reset_head every weight but
// the expression head's, which keeps its fresh glorot-uniform kernel and zero
// bias. Throws pf::Error when the checkpoint's architecture differs from
// config.model (model.dropout may differ).
std::unique_ptr<Proformer> initial_model(const Config& config);

// Runs training to the end (epochs or max_steps). Throws pf::Error on bad
// input; SIGINT/SIGTERM stop after the current step with a checkpoint.
//
// Data parallel: every rank calls train() with the same config. Each trains
// on its share of every global batch (train_step.h), the gradients are summed
// over the ranks, and rank 0 alone prints, writes metrics.csv, plots and
// checkpoints. Every rank reads the data and, with --resume, the checkpoint
// (on several machines output.dir must be on a shared file system); rank 0's
// parameters are broadcast at the start. The data position in a checkpoint is
// global, so a run resumes with any number of ranks.
TrainSummary train(const Config& config, const TrainOptions& options);

}  // namespace pf::proformer
