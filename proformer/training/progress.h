// A one-line progress display on stderr: step, rate, ETA and whatever the
// caller adds (loss, lr). Redrawn in place on a terminal, printed as plain
// lines every `log_every` updates otherwise (logs, CI).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace pf::proformer {

class Progress {
 public:
  // total: steps expected (0 if unknown); unit: what is counted per second.
  Progress(std::string label, int64_t total, std::string unit, int64_t log_every = 10);
  // Reports that `done` steps are finished, `items` more units processed since
  // the last call, with a caller-formatted status ("loss 0.512 lr 3.1e-4").
  void update(int64_t done, int64_t items, const std::string& status);
  // Ends the line.
  void finish();
  double items_per_second() const { return rate_; }

 private:
  std::string label_, unit_;
  int64_t total_, log_every_, updates_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
  double rate_ = 0;  // smoothed items per second
};

// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace pf::proformer
