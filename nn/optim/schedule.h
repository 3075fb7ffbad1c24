// Learning-rate schedules. Steps count from 1 (the first update).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace pf::nn {

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  virtual double lr(int64_t step) const = 0;
};

// The Transformer schedule (Vaswani et al. 2017), the original recipe:
//   lr = dim^-0.5 * min(step^-0.5, step * warmup^-1.5)
// (peak 3.95e-4 at step 12,500 for dim 512).
class NoamSchedule : public LrSchedule {
 public:
  NoamSchedule(int64_t dim, int64_t warmup_steps);
  double lr(int64_t step) const override;

 private:
  double dim_, warmup_;
};

// Linear warm-up from 0 to peak over warmup_steps, then a cosine decay to
// min_lr at total_steps (min_lr after that).
class WarmupCosineSchedule : public LrSchedule {
 public:
  WarmupCosineSchedule(double peak, int64_t warmup_steps, int64_t total_steps, double min_lr);
  double lr(int64_t step) const override;

 private:
  double peak_, min_lr_;
  int64_t warmup_, total_;
};

class ConstantSchedule : public LrSchedule {
 public:
  explicit ConstantSchedule(double lr) : lr_(lr) {}
  double lr(int64_t) const override { return lr_; }

 private:
  double lr_;
};

}  // namespace pf::nn
