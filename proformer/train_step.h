// One optimisation step of Proformer: the batch onto the device, forward,
// loss, backward, gradient clipping (the Keras order: element-wise, then by
// norm) and the Adam update.
#pragma once
#include "core/philox.h"
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
  double masked = 0;  // sum(mask), counted on the host
};
BatchTensors to_tensors(const Batch& batch, Device device);

// Runs one step with learning rate lr and returns its losses (computed before
// the update). Dropout draws from dropout_gen.
Loss train_step(Proformer& model, nn::Adam& optimizer, const BatchTensors& batch, const OptimizerConfig& clipping,
                double lr, Generator& dropout_gen);

}  // namespace pf::proformer
