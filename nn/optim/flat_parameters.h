// FlatParameters: a model's parameters and their gradients as two flat
// buffers, each parameter a view at its offset, so that what runs after
// backward (the finiteness checks, gradient clipping, the Adam update) is a
// few kernels over all parameters instead of a dozen per parameter:
//
//   values     [N]  every parameter back to back (the parameters themselves
//                   now view it: their values are moved in at construction)
//   gradients  [N]  every .grad back to back, gathered once per step
//   offsets    [P + 1] i64 on the device: parameter p is [offsets[p], offsets[p + 1])
//
// Per parameter, on the device: sum_squares() (one segment_sum_squares) and
// scale() (one scale_segments); over everything: one adam_step (nn/optim/optimizer.h).
//
// Gradients come from backward as separate tensors (or as slices of the
// GradReducer's buckets); gather_gradients() copies each into its place and
// points the parameter's .grad at that view, once per step: a parameter whose
// .grad is already its view is not copied again, and one without a .grad
// keeps none (its place holds zeros).
#pragma once
#include <vector>

#include "nn/layers/module.h"

namespace pf::nn {

class FlatParameters {
 public:
  // params: leaves of one floating dtype on one device; each is re-pointed to
  // its place in values() with its values unchanged (every holder of the
  // parameter sees the move: it is the same TensorImpl).
  explicit FlatParameters(NamedTensors params);

  const NamedTensors& params() const { return params_; }
  size_t size() const { return params_.size(); }
  const Tensor& values() const { return values_; }  // [N]
  // Parameter p's part of a flat [N] tensor, in p's shape.
  Tensor view(const Tensor& flat, size_t p) const;

  // Copies the .grads into gradients() where they are not there yet and
  // returns it, [N]; throws pf::Error naming a parameter that no longer views
  // values() (replaced rather than copied into) or whose gradient is mis-shaped.
  const Tensor& gather_gradients();
  // Whether every parameter had a .grad at the last gather.
  bool all_have_gradients() const { return all_have_gradients_; }

  // [P] f64 on the device: each parameter's sum of squares of `flat` [N]
  // (inf or NaN where its part holds an inf or NaN).
  Tensor sum_squares(const Tensor& flat) const;
  // flat [N] *= factor[p] over each parameter's part, in place; factor [P] f64.
  void scale(const Tensor& flat, const Tensor& factor) const;

 private:
  void check_flat(const Tensor& flat, const char* what) const;  // pf::Error unless flat is like values()
  NamedTensors params_;
  std::vector<int64_t> offsets_;  // [P + 1], on the host
  Tensor device_offsets_;         // the same, i64 on the device
  Tensor values_, gradients_;     // [N]
  bool all_have_gradients_ = false;
};

}  // namespace pf::nn
