#include "proformer/train_step.h"

#include <cmath>

#include "autograd/autocast.h"

namespace pf::proformer {

BatchTensors to_tensors(const Batch& b, Device device) {
  const Shape shape = {b.size, int64_t(b.row_tokens)};  // [B, T]
  return {ops::to(Tensor::from_vector(b.tokens, shape), device), ops::to(Tensor::from_vector(b.targets, shape), device),
          ops::to(Tensor::from_vector(b.mask, shape), device), ops::to(Tensor::from_vector(b.labels_z, {b.size}), device)};
}

StepResult train_step(Proformer& model, nn::Adam& optimizer, const BatchTensors& batch,
                      const OptimizerConfig& clipping, double lr, Generator& dropout_gen, const Precision& precision,
                      int64_t step) {
  StepResult result;
  {
    autocast::AutocastGuard autocast(precision.dtype);  // the low copies of the weights live for this forward
    ModelOutput out = model.forward(batch.tokens, dropout_gen);
    result.loss = proformer_loss(out, batch.labels_z, batch.targets, batch.mask);
  }
  const double loss_value = result.loss.total.item();
  PF_CHECK(std::isfinite(loss_value), "train", "loss became ", loss_value, " at step ", step,
           " (HINT: lower the learning rate or enable clipping)");
  model.zero_grad();
  const double scale = precision.scaler ? precision.scaler->scale() : 1.0;
  (scale == 1.0 ? result.loss.total : mul(result.loss.total, scale)).backward();

  const nn::NamedTensors params = model.named_parameters();
  if (precision.after_backward) precision.after_backward(params);
  if (precision.scaler && !precision.scaler->unscale_or_skip(params)) {
    result.skipped = true;
    return result;
  }
  const std::string bad = nn::first_non_finite_gradient(params);
  PF_CHECK(bad.empty(), "train", "the gradient of ", bad, " is not finite at step ", step,
           "; stopped before updating (HINT: lower the learning rate, enable clipping, or use train.dtype=bf16 "
           "instead of f16)");
  const nn::ClipMode mode = clipping.clip_mode == "global" ? nn::ClipMode::Global : nn::ClipMode::PerParameter;
  nn::clip_gradients(model.parameters(), clipping.clip_value, clipping.clip_norm, mode);
  optimizer.step(lr);
  return result;
}

}  // namespace pf::proformer
