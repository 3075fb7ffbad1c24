// FlatParameters: a model's parameters and their gradients as two flat
// buffers, each parameter a view at its offset, so that what runs after
// backward (the finiteness checks, gradient clipping, the Adam update) is a
// few kernels over all parameters instead of a dozen per parameter:
//
//   values     [N]  every parameter, each starting at a multiple of kAlignment
//                   elements (the parameters themselves now view it: their
//                   values are moved in at construction)
//   gradients  [N]  every .grad at its parameter's offset, gathered once per step
//   offsets    [P + 1] i64 on the device: parameter p's segment is
//                   [offsets[p], offsets[p + 1]), its numel elements then the
//                   padding up to the next multiple of kAlignment
//
// The padding keeps every parameter as aligned as the buffer itself: packed
// back to back, a one-element bias (expr_head.bias) would leave every later
// parameter 4 bytes from a 16-byte boundary, which cuBLASLt's vector loads
// and bias epilogue (cuda/linear.cpp) cannot take. The padding holds zeros in
// both buffers and nothing writes it: a zero gradient adds nothing to a sum
// of squares, scales to zero, and leaves Adam's zero moments and zero value
// unchanged, so the segment kernels run over it as over the parameter.
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
  // Where parameter p starts in values() and gradients(): a multiple of kAlignment.
  int64_t offset(size_t p) const { return offsets_[p]; }
  static constexpr int64_t kAlignment = 64;  // elements: 128 bytes in bf16, 256 in f32
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
