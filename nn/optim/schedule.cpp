#include "nn/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace pf::nn {

NoamSchedule::NoamSchedule(int64_t dim, int64_t warmup_steps) : dim_(double(dim)), warmup_(double(warmup_steps)) {}

double NoamSchedule::lr(int64_t step) const {
  const double s = double(std::max<int64_t>(step, 1));
  return std::pow(dim_, -0.5) * std::min(std::pow(s, -0.5), s * std::pow(warmup_, -1.5));
}

WarmupCosineSchedule::WarmupCosineSchedule(double peak, int64_t warmup_steps, int64_t total_steps, double min_lr)
    : peak_(peak), min_lr_(min_lr), warmup_(warmup_steps), total_(total_steps) {}

double WarmupCosineSchedule::lr(int64_t step) const {
  if (step < warmup_) return peak_ * double(step) / double(warmup_);
  if (step >= total_) return min_lr_;
  const double progress = double(step - warmup_) / double(std::max<int64_t>(total_ - warmup_, 1));
  return min_lr_ + 0.5 * (peak_ - min_lr_) * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace pf::nn
