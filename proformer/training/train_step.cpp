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

void train_step(Proformer& model, nn::Adam& optimizer, const Batch& batch, const BatchSplit& split, Device device,
                const OptimizerConfig& clipping, double lr, Generator& dropout_gen, nn::GradReducer* reducer,
                const Precision& precision, nn::StepChecks& checks, int64_t step_number) {
  const double ce_denominator = double(masked_count(batch)) + 1.0;  // of the global batch
  const double mse_weight = double(split.micro) / double(split.global);
  const uint64_t dropout_offset = dropout_gen.offset;  // every micro-batch draws from the batch's fills
  model.zero_grad();
  const double scale = precision.scaler ? precision.scaler->scale() : 1.0;
  Loss step;
  {
    autocast::AutocastGuard autocast(precision.dtype);  // the weights' low copies: made once for the whole step
    for (int64_t m = 0; m < split.micro_batches(); ++m) {
      const int64_t first = split.first_row + m * split.micro;
      const BatchTensors micro = to_tensors(batch_rows(batch, first, split.micro), device);
      dropout_gen.offset = dropout_offset;
      dropout_gen.rows = {uint64_t(first), uint64_t(split.micro), uint64_t(split.global)};
      ModelOutput out = model.forward(micro.tokens, dropout_gen);
      Loss loss = proformer_loss(out, micro.labels_z, micro.targets, micro.mask, mse_weight, ce_denominator);
      if (reducer && m + 1 == split.micro_batches()) reducer->arm();  // the last backward all-reduces
      // Adds to the gradients of the micro-batches before.
      (scale == 1.0 ? loss.total : mul(loss.total, scale)).backward();
      step = add_losses(step, loss);
    }
  }
  dropout_gen.rows = {};
  if (reducer) reducer->finish();
  checks.add_losses(step_number, {step.total, step.mse, step.ce});  // this rank's parts
  const nn::NamedTensors params = model.named_parameters();
  if (precision.after_backward) precision.after_backward(params);
  // After the all-reduce every rank sees the same gradients, so all skip or stop together.
  if (precision.scaler && !precision.scaler->unscale_or_skip(params)) return;
  const Tensor skip = checks.check_gradients(step_number);
  const nn::ClipMode mode = clipping.clip_mode == "global" ? nn::ClipMode::Global : nn::ClipMode::PerParameter;
  nn::clip_gradients(model.parameters(), clipping.clip_value, clipping.clip_norm, mode);
  optimizer.step(lr, skip);
}

}  // namespace pf::proformer
