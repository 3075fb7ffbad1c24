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
//                                   plots pf-train draws at the end when
//                                   gnuplot is installed (see plots.h)
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
// complete files, and resuming (TrainOptions::resume) continues it to the
// same bits as a run that never stopped: metrics.csv loses the rows written
// after the checkpoint it resumes from, and temporary files of the killed run
// are removed.
//
// The caller steers and watches a run through hooks (TrainOptions): whether
// to stop, the progress after each step, each validation. pf-train stops on
// SIGINT/SIGTERM, prints the progress line and draws the plots; a notebook
// can pass its own.
#pragma once
#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "nn/distributed/communicator.h"
#include "proformer/config.h"
#include "proformer/model.h"
#include "proformer/training/validation.h"

namespace pf::proformer {

// Where a run stands after a step, for TrainOptions::progress.
struct TrainProgress {
  int64_t step = 0, total_steps = 0;
  // As of the last read of the losses (each train.log_every steps, each
  // evaluation and checkpoint): the epoch of that step (1-based; 0 before
  // the first read), the mean training loss of the steps since the read
  // before, and the learning rate of that step.
  int64_t epoch = 0;
  double loss = NAN, lr = NAN;
  double samples_per_second = 0;  // smoothed over the recent steps
  double elapsed_seconds = 0;     // since this run (or this resumed run) began its steps
  double eta_seconds = 0;         // left to total_steps at the pace so far
};

// The status of a progress line: "epoch 2 | loss 0.5123 | lr 1.00e-03", empty
// before the first read of the losses. Without a progress hook, train() tells
// progress_text("train", ...) with it every train.log_every steps; pf-train
// draws it with ProgressLine.
std::string progress_status(const TrainProgress& p);

// One line of text for the caller, without its newline.
using Message = std::function<void(const std::string& line)>;

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
  // Polled once per step, after it, on every rank: once it has returned
  // true, the run stops after the step at which the ranks next read their
  // losses (at once for a lone process), with a checkpoint, as at its end
  // (TrainSummary::stopped). pf-train sets it from SIGINT/SIGTERM.
  std::function<bool()> should_stop;
  // Called by rank 0 after every step. Empty: every train.log_every steps
  // train() tells (`message`) the progress line
  //   train 40/200 | epoch 2 | loss 0.5123 | lr 1.00e-03 | 812.3 samples/s | elapsed 5s | ETA 20s
  std::function<void(const TrainProgress&)> progress;
  // Called by rank 0 after each validation (each train.eval_every steps, or
  // each epoch, and at the last step) with the step, its epoch (1-based) and
  // the scores; train() has printed them already.
  std::function<void(int64_t step, int64_t epoch, const ValidationResult& metrics)> after_validation;
  // Called by rank 0 with each line train() tells: the data and its split,
  // the CPU GEMM, the ranks, each validation's scores, the time spent.
  // Empty: printed on stderr. The Python module hands them to `logging`.
  Message message;
};

struct TrainSummary {
  int64_t steps = 0;
  double best_val_pearson = 0;
  double last_val_pearson = 0;
  std::string best_checkpoint;  // prefix of the best checkpoint
  bool stopped = false;         // should_stop ended it before train.epochs or train.max_steps
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

// Runs training to the end (epochs or max_steps), or until should_stop.
// Throws pf::Error on bad input.
//
// Data parallel: every rank calls train() with the same config. Each trains
// on its share of every global batch (train_step.h), the gradients are summed
// over the ranks, and rank 0 alone prints, writes metrics.csv and
// checkpoints. Every rank reads the data and, resuming, the checkpoint
// (on several machines output.dir must be on a shared file system); rank 0's
// parameters are broadcast at the start. The data position in a checkpoint is
// global, so a run resumes with any number of ranks.
TrainSummary train(const Config& config, const TrainOptions& options);

}  // namespace pf::proformer
