#include "proformer/metrics_log.h"

#include <cstdlib>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/ops.h"

namespace pf::proformer {

namespace {

// Drops the rows of metrics.csv written after `step` (by a run that went on
// past the checkpoint being resumed and then crashed), and a last row that a
// crash cut short, so the resumed run's rows follow on without duplicates.
void rewind_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path, std::ios::binary);
  std::string kept, line;
  for (bool header = true; std::getline(in, line); header = false) {
    if (in.eof()) break;  // no newline: a row cut short
    if (!header && std::strtoll(line.c_str(), nullptr, 10) > step) break;
    kept += line + "\n";
  }
  in.close();
  AtomicFile file(path);
  file.write(kept);
  file.commit();
}

}  // namespace

MetricsLog::MetricsLog(const std::string& path, int64_t resume_step) {
  const bool append = resume_step > 0 && std::filesystem::exists(path);
  if (append) rewind_metrics(path, resume_step);
  csv_.open(path, append ? std::ios::app : std::ios::trunc);
  if (!append) csv_ << "step,epoch,lr,loss,mse,ce,val_mse,val_pearson,val_spearman,samples_per_s\n";
}

void MetricsLog::add_step(const Tensor& loss, const Tensor& mse, const Tensor& ce) {
  // In f64, as the host summed them: the rows are the same to the last digit.
  Tensor step = ops::to(ops::concat({ops::reshape(loss, {1}), ops::reshape(mse, {1}), ops::reshape(ce, {1})}, 0),
                        DType::f64);  // [3]
  sums_ = sums_.defined() ? ops::add(sums_, step) : step;
  host_sums_.clear();
  ++steps_;
}

const std::vector<double>& MetricsLog::host_sums() {
  if (host_sums_.empty()) host_sums_ = sums_.defined() ? sums_.to_vector<double>() : std::vector<double>(3, 0.0);
  return host_sums_;
}

double MetricsLog::mean_loss() { return host_sums()[0] / double(steps_); }

void MetricsLog::write_row(int64_t step, int64_t epoch, double lr, const ValidationResult& val, double samples_per_s) {
  const std::vector<double>& sums = host_sums();
  const double n = double(steps_);
  csv_ << step << ',' << epoch << ',' << lr << ',' << sums[0] / n << ',' << sums[1] / n << ',' << sums[2] / n << ','
       << val.mse << ',' << val.pearson << ',' << val.spearman << ',' << samples_per_s << '\n'
       << std::flush;
  sums_ = Tensor();
  host_sums_.clear();
  steps_ = 0;
}

}  // namespace pf::proformer
