#include "proformer/training/progress.h"

#include <unistd.h>

#include <cstdio>

namespace pf::proformer {

std::string format_duration(double seconds) {
  const int64_t s = int64_t(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", long(s / 3600), long(s % 3600 / 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", long(s / 60), long(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lds", long(s));
  return buf;
}

Progress::Progress(std::string label, int64_t total, std::string unit, int64_t log_every)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), log_every_(log_every > 0 ? log_every : 1),
      tty_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(int64_t done, int64_t items, const std::string& status) {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  if (dt > 0) {
    const double instant = double(items) / dt;
    rate_ = updates_ == 0 ? instant : 0.8 * rate_ + 0.2 * instant;  // smooth out step-to-step noise
  }
  ++updates_;
  if (!tty_ && updates_ % log_every_ != 0 && done != total_) return;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string eta = "?";
  if (total_ > 0 && done > 0) eta = format_duration(elapsed / double(done) * double(total_ - done));
  std::fprintf(stderr, "%s%s %ld/%ld | %s | %.1f %s/s | elapsed %s | ETA %s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), long(done), long(total_), status.c_str(), rate_, unit_.c_str(),
               format_duration(elapsed).c_str(), eta.c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

void Progress::finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace pf::proformer
