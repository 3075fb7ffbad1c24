#include "proformer/training/progress.h"

#include <unistd.h>

#include <cmath>
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

ProgressMeter::ProgressMeter(int64_t total)
    : total_(total), start_(std::chrono::steady_clock::now()), last_(start_) {}

void ProgressMeter::update(int64_t done, int64_t items) {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  if (dt > 0) {
    const double instant = double(items) / dt;
    rate_ = updates_ == 0 ? instant : 0.8 * rate_ + 0.2 * instant;  // smooth out step-to-step noise
  }
  ++updates_;
  done_ = done;
}

double ProgressMeter::elapsed_seconds() const { return std::chrono::duration<double>(last_ - start_).count(); }

double ProgressMeter::eta_seconds() const {
  if (total_ <= 0 || done_ <= 0) return NAN;
  return elapsed_seconds() / double(done_) * double(total_ - done_);
}

ProgressLine::ProgressLine(std::string label, std::string unit, int64_t log_every)
    : label_(std::move(label)), unit_(std::move(unit)), log_every_(log_every > 0 ? log_every : 1),
      tty_(isatty(STDERR_FILENO)) {}

void ProgressLine::show(int64_t done, int64_t total, const std::string& status, double items_per_second,
                        double elapsed_seconds, double eta_seconds) {
  ++shown_;
  if (!tty_ && shown_ % log_every_ != 0 && done != total) return;
  const std::string eta = std::isnan(eta_seconds) ? "?" : format_duration(eta_seconds);
  std::fprintf(stderr, "%s%s %ld/%ld | %s | %.1f %s/s | elapsed %s | ETA %s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), long(done), long(total), status.c_str(), items_per_second, unit_.c_str(),
               format_duration(elapsed_seconds).c_str(), eta.c_str(), tty_ ? "" : "\n");
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
