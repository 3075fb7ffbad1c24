#include "proformer/design/objective.h"

#include <charconv>
#include <cmath>

#include "core/error.h"

namespace pf::proformer::design {

double Objective::score(double mean, double sd) const {
  switch (target) {
    case Target::kMax: return mean - penalty_sd * sd;
    case Target::kMin: return -mean - penalty_sd * sd;
    case Target::kValue: return -std::abs(mean - value) - penalty_sd * sd;
  }
  return 0;
}

std::string Objective::describe() const {
  switch (target) {
    case Target::kMax: return "max";
    case Target::kMin: return "min";
    case Target::kValue: return "value " + std::to_string(value);
  }
  return "";
}

Objective parse_objective(std::string_view target, double penalty_sd) {
  PF_CHECK(penalty_sd >= 0 && std::isfinite(penalty_sd), "design", "penalty_sd must be a number >= 0, got ",
           penalty_sd);
  Objective objective;
  objective.penalty_sd = penalty_sd;
  if (target == "max") return objective;
  if (target == "min") {
    objective.target = Objective::Target::kMin;
    return objective;
  }
  double value = 0;
  const auto [end, error] = std::from_chars(target.data(), target.data() + target.size(), value);
  PF_CHECK(!target.empty() && error == std::errc() && end == target.data() + target.size() && std::isfinite(value),
           "design", "target must be max, min or a number (expression units), got '", excerpt(target), "'");
  objective.target = Objective::Target::kValue;
  objective.value = value;
  return objective;
}

}  // namespace pf::proformer::design
