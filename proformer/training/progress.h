// A one-line progress display on stderr: step, rate, ETA and whatever the
// caller adds (loss, lr). Redrawn in place on a terminal, printed as plain
// lines every `log_every` updates otherwise (logs, CI). Its two halves serve
// alone too: ProgressMeter measures, ProgressLine prints (train() measures,
// and prints only when the caller has no progress hook of its own).
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

// The line: "LABEL done/total | status | R UNIT/s | elapsed E | ETA T" on
// stderr, redrawn in place on a terminal; otherwise a plain line every
// `log_every` calls and at the last step.
class ProgressLine {
 public:
  ProgressLine(std::string label, std::string unit, int64_t log_every = 10);
  // eta_seconds NaN shows as "?".
  void show(int64_t done, int64_t total, const std::string& status, double items_per_second, double elapsed_seconds,
            double eta_seconds);
  // Ends the line.
  void finish();

 private:
  std::string label_, unit_;
  int64_t log_every_, shown_ = 0;
  bool tty_;
};

class Progress {
 public:
  // total: steps expected (0 if unknown); unit: what is counted per second.
  Progress(std::string label, int64_t total, std::string unit, int64_t log_every = 10);
  // Reports that `done` steps are finished, `items` more units processed since
  // the last call, with a caller-formatted status ("loss 0.512 lr 3.1e-4").
  void update(int64_t done, int64_t items, const std::string& status);
  // Ends the line.
  void finish() { line_.finish(); }
  double items_per_second() const { return meter_.items_per_second(); }

 private:
  ProgressMeter meter_;
  ProgressLine line_;
};

// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace pf::proformer
