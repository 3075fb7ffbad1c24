// Correlation metrics used for validation and the DREAM challenge score.
#pragma once
#include <vector>

namespace pf::proformer {

// Pearson correlation coefficient; 0 when either side has zero variance.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
// Spearman rank correlation: Pearson of the ranks, ties get their average rank.
double spearman(const std::vector<double>& x, const std::vector<double>& y);
// 1-based ranks with ties averaged (as scipy.stats.rankdata(method="average")).
std::vector<double> average_ranks(const std::vector<double>& x);
double mean_squared_error(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace pf::proformer
