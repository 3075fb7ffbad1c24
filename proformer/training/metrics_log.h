// metrics.csv, the run's learning curve: one row per log interval and per
// evaluation,
//
//   step,epoch,lr,loss,mse,ce,val_mse,val_pearson,val_spearman,samples_per_s
//
// where the loss columns average the steps since the previous row and the
// validation columns are nan on rows without an evaluation.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>

#include "proformer/training/validation.h"

namespace pf::proformer {

class MetricsLog {
 public:
  // A fresh file with its header; or, resuming at resume_step > 0 with the
  // file present, the same file without the rows a crashed run wrote after
  // resume_step (and without a last row cut short), appended to from there.
  MetricsLog(const std::string& path, int64_t resume_step);

  // Adds the losses of `steps` training steps, summed, to the current row's
  // averages.
  void add_steps(double loss_sum, double mse_sum, double ce_sum, int64_t steps);
  // Writes the row (flushed) and starts the next average.
  void write_row(int64_t step, int64_t epoch, double lr, const ValidationResult& val, double samples_per_s);
  // Closes the file (complete on disk before the plots read it).
  void close() { csv_.close(); }

 private:
  std::ofstream csv_;
  double loss_sum_ = 0, mse_sum_ = 0, ce_sum_ = 0;
  int64_t steps_ = 0;
};

}  // namespace pf::proformer
