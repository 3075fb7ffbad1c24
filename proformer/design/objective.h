// What pf-design optimises: a score to maximise, from the ensemble's mean
// prediction and its standard deviation over the members (one member: sd 0).
//
//   --target max      score = mean - penalty_sd * sd
//   --target min      score = -mean - penalty_sd * sd
//   --target VALUE    score = -|mean - VALUE| - penalty_sd * sd
//
// The sd penalty keeps a design where the members agree, so that it cannot
// exploit one model's quirks.
#pragma once
#include <string>
#include <string_view>

namespace pf::proformer::design {

struct Objective {
  enum class Target { kMax, kMin, kValue };
  Target target = Target::kMax;
  double value = 0;       // kValue: the expression to reach (training label scale)
  double penalty_sd = 0;  // lambda, >= 0

  double score(double mean, double sd) const;
  // "max", "min" or "value 12.5", for progress lines and the plot.
  std::string describe() const;
};

// The objective of `--target TEXT` ("max", "min" or a number). Throws
// pf::Error for anything else or a negative penalty.
Objective parse_objective(std::string_view target, double penalty_sd);

}  // namespace pf::proformer::design
