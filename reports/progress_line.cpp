#include "reports/progress_line.h"

#include <unistd.h>

#include <cstdio>

namespace pf::proformer {

ProgressLine::ProgressLine(std::string label, std::string unit, int64_t log_every)
    : label_(std::move(label)), unit_(std::move(unit)), log_every_(log_every > 0 ? log_every : 1),
      tty_(isatty(STDERR_FILENO)) {}

void ProgressLine::show(int64_t done, int64_t total, const std::string& status, double items_per_second,
                        double elapsed_seconds, double eta_seconds) {
  ++shown_;
  if (!tty_ && shown_ % log_every_ != 0 && done != total) return;
  std::fprintf(stderr, "%s%s%s", tty_ ? "\r\033[K" : "",
               progress_text(label_, done, total, status, items_per_second, unit_, elapsed_seconds, eta_seconds).c_str(),
               tty_ ? "" : "\n");
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

Progress::Progress(std::string label, int64_t total, std::string unit, int64_t log_every)
    : meter_(total), line_(std::move(label), std::move(unit), log_every) {}

void Progress::update(int64_t done, int64_t items, const std::string& status) {
  meter_.update(done, items);
  line_.show(done, meter_.total(), status, meter_.items_per_second(), meter_.elapsed_seconds(),
             meter_.eta_seconds());
}

}  // namespace pf::proformer
