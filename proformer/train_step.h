// One optimisation step of Proformer: the batch onto the device, forward,
// loss, backward, gradient clipping (the Keras order: element-wise, then by
// norm) and the Adam update; in mixed precision the forward runs under
// autocast, and an f16 loss is scaled (see Precision).
#pragma once
#include <functional>

#include "core/philox.h"
#include "nn/loss_scaler.h"
#include "nn/optimizer.h"
#include "proformer/batches.h"
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

// How a step handles precision (autograd/autocast.h, nn/loss_scaler.h).
struct Precision {
  DType dtype = DType::f32;          // autocast's low dtype; f32: autocast off
  nn::LossScaler* scaler = nullptr;  // f16: the loss is scaled, overflowing steps are skipped
  // Called between backward and the checks with every parameter; tests use it
  // to corrupt a gradient on purpose.
  std::function<void(const nn::NamedTensors&)> after_backward;
};

struct StepResult {
  Loss loss;             // computed before the update, unscaled
  bool skipped = false;  // f16 overflow: no update, the scaler halved its scale
};

// Runs step number `step` (1-based, for messages) with learning rate lr.
// Dropout draws from dropout_gen. Throws pf::Error naming the step (and the
// first parameter concerned) when the loss or a gradient is not finite,
// before anything is updated, except an f16 overflow that the scaler handles.
StepResult train_step(Proformer& model, nn::Adam& optimizer, const BatchTensors& batch,
                      const OptimizerConfig& clipping, double lr, Generator& dropout_gen, const Precision& precision,
                      int64_t step);

}  // namespace pf::proformer
