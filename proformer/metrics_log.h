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
#include <vector>

#include "core/tensor.h"
#include "proformer/validation.h"

namespace pf::proformer {

class MetricsLog {
 public:
  // A fresh file with its header; or, resuming at resume_step > 0 with the
  // file present, the same file without the rows a crashed run wrote after
  // resume_step (and without a last row cut short), appended to from there.
  MetricsLog(const std::string& path, int64_t resume_step);

  // Adds one training step's losses (0-d tensors) to the current row's sums.
  // The sums stay on the losses' device: a step reads nothing back.
  void add_step(const Tensor& loss, const Tensor& mse, const Tensor& ce);
  // The mean loss of the steps since the previous row: one read-back.
  double mean_loss();
  // How many steps the current row averages.
  int64_t pending_steps() const { return steps_; }
  // Writes the row (flushed) and starts the next average.
  void write_row(int64_t step, int64_t epoch, double lr, const ValidationResult& val, double samples_per_s);
  // Closes the file (complete on disk before the plots read it).
  void close() { csv_.close(); }

 private:
  // Reads the sums back once per row (at mean_loss or write_row).
  const std::vector<double>& host_sums();

  std::ofstream csv_;
  Tensor sums_;  // [3] f64: loss, mse, ce summed over the row's steps, on their device
  std::vector<double> host_sums_;  // sums_ read back; empty when stale
  int64_t steps_ = 0;
};

}  // namespace pf::proformer
