// What each training step leaves on the device for the host to read once
// per log interval: its losses, summed, and whether it was finite.
//
// Reading a value back waits for the device to finish everything queued
// before it. Read once per step (the loss to print, a finiteness check before
// the update), a GPU would idle at every step while the host queues the next
// one. So the checks run on the device and only their outcome is read, later:
//
//   sums      += the step's losses                   [L] f64, since the last read
//   bad        = 1 where the losses (entry 0) or a    [1 + P] f64, 0 or 1
//                parameter's gradient (entry 1 + i) hold an inf or NaN
//                (seen in its sum of squares: one kernel for all of them)
//   first_step, first_bad = the step number and `bad` of the first step with
//                any bad entry (kept until read)
//   healthy    = 1 until that step, 0 from it on      0-d f64
//
// The optimiser is given 1 - healthy as its skip flag (Adam reads it on the
// device), so from a non-finite step on no parameter changes. read() copies
// all of it to the host in one transfer, throws pf::Error naming the first
// non-finite step and the losses or the first parameter concerned, and
// otherwise returns the sums.
#pragma once
#include <string>
#include <vector>

#include "nn/layers/module.h"

namespace pf::nn {

class StepChecks {
 public:
  // params: the parameters whose gradients check_gradients() looks at, in
  // the order errors name the first bad one.
  explicit StepChecks(NamedTensors params);

  // The step's losses (0-d tensors on the parameters' device, the same count
  // every step): added to the sums and checked.
  void add_losses(int64_t step, const std::vector<Tensor>& losses);
  // After the gradients are complete (summed over micro-batches and ranks,
  // unscaled): checks every gradient from its sum of squares, [P] f64 in the
  // order of the constructor's params (FlatParameters::sum_squares: inf or
  // NaN exactly where the gradient holds an inf or NaN). Returns the
  // optimiser's skip flag, a 0-d f64 tensor on the device, nonzero from the
  // first bad step on.
  Tensor check_gradients(int64_t step, const Tensor& grad_sum_squares);

  struct Sums {
    std::vector<double> losses;  // summed over the steps since the last read
    int64_t steps = 0;
  };
  // One read-back. Throws pf::Error when a step since the last read was not
  // finite; otherwise returns the sums and starts new ones.
  Sums read();

 private:
  // Keeps `bad` [1 + P] as the first bad step's if none was bad before.
  void note(int64_t step, const Tensor& bad);
  void start(Device device, size_t losses);

  NamedTensors params_;
  Tensor sums_;        // [L] f64
  Tensor healthy_;     // 0-d f64
  Tensor first_step_;  // 0-d f64
  Tensor first_bad_;   // [1 + P] f64
  Tensor no_bad_params_;  // [P] f64 zeros
  int64_t steps_ = 0;
};

// 1 when x holds an inf or NaN, else 0: a [1] f64 tensor on x's device.
Tensor non_finite_flag(const Tensor& x);
// Element by element: 1 where x[i] is inf or NaN, else 0; f64, x's shape.
Tensor non_finite_elements(const Tensor& x);

}  // namespace pf::nn
