// Progress on stderr for the apps: a line redrawn in place on a terminal,
// plain lines every `log_every` updates otherwise (logs, CI); the figures come
// from ProgressMeter and the text from progress_text (proformer/training/progress.h).
#pragma once
#include <cstdint>
#include <string>

#include "proformer/training/progress.h"

namespace pf::proformer {

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

}  // namespace pf::proformer
