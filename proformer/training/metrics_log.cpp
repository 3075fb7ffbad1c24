#include "proformer/training/metrics_log.h"

#include <cstdlib>
#include <filesystem>

#include "core/atomic_file.h"

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

void MetricsLog::add_steps(double loss_sum, double mse_sum, double ce_sum, int64_t steps) {
  loss_sum_ += loss_sum;
  mse_sum_ += mse_sum;
  ce_sum_ += ce_sum;
  steps_ += steps;
}

void MetricsLog::write_row(int64_t step, int64_t epoch, double lr, const ValidationResult& val, double samples_per_s) {
  const double n = double(steps_);
  csv_ << step << ',' << epoch << ',' << lr << ',' << loss_sum_ / n << ',' << mse_sum_ / n << ',' << ce_sum_ / n << ','
       << val.mse << ',' << val.pearson << ',' << val.spearman << ',' << samples_per_s << '\n'
       << std::flush;
  loss_sum_ = mse_sum_ = ce_sum_ = 0;
  steps_ = 0;
}

}  // namespace pf::proformer
