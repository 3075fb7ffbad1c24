#include "proformer/training/train_step.h"

#include <cmath>

#include "autograd/autocast.h"

namespace pf::proformer {

BatchTensors to_tensors(const Batch& b, Device device) {
  const Shape shape = {b.size, int64_t(b.row_tokens)};  // [B, T]
  return {ops::to(Tensor::from_vector(b.tokens, shape), device), ops::to(Tensor::from_vector(b.targets, shape), device),
          ops::to(Tensor::from_vector(b.mask, shape), device), ops::to(Tensor::from_vector(b.labels_z, {b.size}), device)};
}

BatchSplit split_batch(const TrainConfig& train, int ranks, int rank) {
  BatchSplit split;
  split.global = train.batch_size;
  PF_CHECK(split.global % ranks == 0, "train", "train.batch_size = ", split.global, " does not split evenly over ",
           ranks, " ranks (HINT: make train.batch_size a multiple of the number of processes, mpirun -np)");
  split.rows = split.global / ranks;
  split.first_row = rank * split.rows;
  split.micro = train.micro_batch_size > 0 ? train.micro_batch_size : split.rows;
  PF_CHECK(split.rows % split.micro == 0, "train", "train.micro_batch_size = ", split.micro,
           " does not divide the ", split.rows, " rows of each rank (train.batch_size = ", split.global, " over ",
           ranks, " ranks) (HINT: pick a divisor of ", split.rows, ", or 0 for all of them at once)");
  return split;
}

namespace {

// a + b for the reported losses (no graph); b alone when a is empty.
Loss add_losses(const Loss& a, const Loss& b) {
  if (!a.total.defined()) return {b.total.detach(), b.mse.detach(), b.ce.detach()};
  return {ops::add(a.total, b.total.detach()), ops::add(a.mse, b.mse.detach()), ops::add(a.ce, b.ce.detach())};
}

}  // namespace

void compute_gradients(StepContext& step, const Batch& batch, int64_t step_number) {
  const BatchSplit& split = step.split;
  const double ce_denominator = double(masked_count(batch)) + 1.0;  // of the global batch
  const double mse_weight = double(split.micro) / double(split.global);
  const uint64_t dropout_offset = step.dropout_gen.offset;  // every micro-batch draws from the batch's fills
  step.model.zero_grad();
  const double scale = step.precision.scaler ? step.precision.scaler->scale() : 1.0;
  Loss total;
  {
    autocast::AutocastGuard autocast(step.precision.dtype);  // the weights' low copies: made once for the whole step
    for (int64_t m = 0; m < split.micro_batches(); ++m) {
      const int64_t first = split.first_row + m * split.micro;
      const BatchTensors micro = to_tensors(batch_rows(batch, first, split.micro), step.device);
      step.dropout_gen.offset = dropout_offset;
      step.dropout_gen.rows = {uint64_t(first), uint64_t(split.micro), uint64_t(split.global)};
      ModelOutput out = step.model.forward(micro.tokens, step.dropout_gen);
      Loss loss = proformer_loss(out, micro.labels_z, micro.targets, micro.mask, mse_weight, ce_denominator);
      if (step.reducer && m + 1 == split.micro_batches()) step.reducer->arm();  // the last backward all-reduces
      // Adds to the gradients of the micro-batches before.
      (scale == 1.0 ? loss.total : mul(loss.total, scale)).backward();
      total = add_losses(total, loss);
    }
  }
  step.dropout_gen.rows = {};
  if (step.reducer) step.reducer->finish();
  step.checks.add_losses(step_number, {total.total, total.mse, total.ce});  // this rank's parts
}

void apply_gradients(StepContext& step, double lr, int64_t step_number) {
  nn::FlatParameters& params = step.optimizer.parameters();
  // After the all-reduce every rank sees the same gradients, so all skip or stop together.
  if (step.precision.scaler && !step.precision.scaler->unscale_or_skip(params.params())) return;
  const Tensor skip = step.checks.check_gradients(step_number, params.sum_squares(params.gather_gradients()));
  const nn::ClipMode mode = step.clipping.clip_mode == "global" ? nn::ClipMode::Global : nn::ClipMode::PerParameter;
  nn::clip_gradients(params, step.clipping.clip_value, step.clipping.clip_norm, mode);
  step.optimizer.step(lr, skip);
}

}  // namespace pf::proformer
