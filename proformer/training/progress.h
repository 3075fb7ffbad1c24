// Progress measured: steps done, rate, elapsed time and ETA (ProgressMeter),
// and the text of a progress line. train() measures with it and hands the
// figures to its progress hook; drawing the line on a terminal is a report's
// job (reports/progress_line.h).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace pf::proformer {

// Steps done of a total, timed: the smoothed rate of units per second, the
// time since the start and the time left.
class ProgressMeter {
 public:
  // total: steps expected (0 if unknown).
  explicit ProgressMeter(int64_t total);
  // Records that `done` steps are finished, `items` more units processed
  // since the last call.
  void update(int64_t done, int64_t items);
  int64_t total() const { return total_; }
  double items_per_second() const { return rate_; }
  // From the start to the last update.
  double elapsed_seconds() const;
  // Left to the total at the pace from the start to the last update; NaN
  // while unknown (no total, or no step done).
  double eta_seconds() const;

 private:
  int64_t total_, done_ = 0, updates_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
  double rate_ = 0;  // smoothed items per second
};

// The text of a progress line: "LABEL done/total | status | R UNIT/s |
// elapsed E | ETA T" (an ETA of NaN shows as "?").
std::string progress_text(const std::string& label, int64_t done, int64_t total, const std::string& status,
                          double items_per_second, const std::string& unit, double elapsed_seconds,
                          double eta_seconds);

// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace pf::proformer
