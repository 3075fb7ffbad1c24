// One optimisation step of Proformer: the batch onto the device, forward,
// loss, backward (in micro-batches, gradients summed, and over the ranks of a
// data-parallel run), gradient clipping (the Keras order: element-wise, then
// by norm) and the Adam update. In mixed precision the forwards run under
// autocast and an f16 loss is scaled (see Precision).
//
// How a global batch of B = train.batch_size rows is split over N ranks and M
// rows per forward (train.micro_batch_size):
//
//   global batch  [B rows]  the same on every rank (same order, same masking)
//   rank r        rows [r B/N, (r+1) B/N)
//   micro-batch   M rows of them at a time: B / (N M) forwards per step
//
// Each part's loss is weighted as its share of the global batch (MSE by M / B,
// the token loss divided by the global batch's sum(mask) + 1, counted on the
// host), and dropout draws what the whole batch would draw for its rows
// (Generator::rows), so the summed gradient is the whole batch's for any N and
// M, up to the order of float additions.
#pragma once
#include "core/philox.h"
#include "nn/distributed/grad_reducer.h"
#include "nn/optim/loss_scaler.h"
#include "nn/optim/optimizer.h"
#include "nn/optim/step_checks.h"
#include "proformer/data/batches.h"
#include "proformer/config.h"
#include "proformer/model.h"

namespace pf::proformer {

// The model's view of a batch, on its device.
struct BatchTensors {
  Tensor tokens;    // [B, T] u8, masked positions set to M
  Tensor targets;   // [B, T] u8, the original tokens
  Tensor mask;      // [B, T] f32, 1 where masked
  Tensor labels_z;  // [B] f32, z-scored expression
};
BatchTensors to_tensors(const Batch& batch, Device device);

// This rank's share of each global batch and its micro-batches.
struct BatchSplit {
  int64_t global = 0;     // B, rows of the global batch
  int64_t first_row = 0;  // of this rank's share
  int64_t rows = 0;       // B / N, this rank's share
  int64_t micro = 0;      // rows per forward
  int64_t micro_batches() const { return rows / micro; }
};
// Throws pf::Error naming train.batch_size and train.micro_batch_size when
// they do not split evenly over `ranks`.
BatchSplit split_batch(const TrainConfig& train, int ranks, int rank);

// How a step handles precision (autograd/autocast.h, nn/optim/loss_scaler.h).
struct Precision {
  DType dtype = DType::f32;          // autocast's low dtype; f32: autocast off
  nn::LossScaler* scaler = nullptr;  // f16: the loss is scaled, overflowing steps are skipped
};

// What every step of a run works with. The step's own inputs (its batch,
// learning rate and number) are the arguments of the two phases below.
struct StepContext {
  Proformer& model;
  nn::Adam& optimizer;
  BatchSplit split;                 // this rank's share of each global batch
  Device device;                    // the model's
  const OptimizerConfig& clipping;  // clip_value, clip_norm, clip_mode
  Generator& dropout_gen;           // dropout draws from it
  nn::GradReducer* reducer;         // sums the gradients over the ranks; nullptr: one process
  Precision precision;
  nn::StepChecks& checks;           // losses and finiteness, read back at log intervals
};

// One step is compute_gradients, then apply_gradients: the gradients lie
// complete in the parameters' .grad in between (where the trainer's
// TrainOptions::after_backward looks at them).
//
// compute_gradients runs this rank's share of the global `batch`: the
// gradients are summed over its micro-batches and, with a reducer, over the
// ranks, so every rank clips and updates the same. Nothing is read back: this
// rank's part of the batch's losses (total, mse, ce; unscaled; their sum over
// ranks is the batch's loss) goes to `checks`, naming `step_number` (1-based).
void compute_gradients(StepContext& step, const Batch& batch, int64_t step_number);

// apply_gradients checks, clips and applies them with learning rate lr. The
// finiteness of the gradients goes to `checks`, whose skip flag stops the
// update on the device from the first non-finite step on; checks.read()
// reports it. An f16 overflow is no error: the scaler skips that update (its
// one read-back).
void apply_gradients(StepContext& step, double lr, int64_t step_number);

}  // namespace pf::proformer
