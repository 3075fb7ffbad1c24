#include "proformer/train_step.h"

#include <numeric>

namespace pf::proformer {

BatchTensors to_tensors(const Batch& b, Device device) {
  const Shape shape = {b.size, int64_t(b.row_tokens)};  // [B, T]
  // 0s and 1s: the count is exact in any order, as the device's sum was.
  const double masked = std::accumulate(b.mask.begin(), b.mask.end(), 0.0);
  return {ops::to(Tensor::from_vector(b.tokens, shape), device), ops::to(Tensor::from_vector(b.targets, shape), device),
          ops::to(Tensor::from_vector(b.mask, shape), device), ops::to(Tensor::from_vector(b.labels_z, {b.size}), device),
          masked};
}

Loss train_step(Proformer& model, nn::Adam& optimizer, const BatchTensors& batch, const OptimizerConfig& clipping,
                double lr, Generator& dropout_gen) {
  ModelOutput out = model.forward(batch.tokens, dropout_gen);
  Loss loss = proformer_loss(out, batch.labels_z, batch.targets, batch.mask, batch.masked);
  model.zero_grad();
  loss.total.backward();
  const nn::ClipMode mode = clipping.clip_mode == "global" ? nn::ClipMode::Global : nn::ClipMode::PerParameter;
  nn::clip_gradients(model.parameters(), clipping.clip_value, clipping.clip_norm, mode);
  optimizer.step(lr);
  return loss;
}

}  // namespace pf::proformer
