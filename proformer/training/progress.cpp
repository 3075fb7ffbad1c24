#include "proformer/training/progress.h"

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

std::string progress_text(const std::string& label, int64_t done, int64_t total, const std::string& status,
                          double items_per_second, const std::string& unit, double elapsed_seconds,
                          double eta_seconds) {
  char figures[160];
  std::snprintf(figures, sizeof figures, " %ld/%ld | ", long(done), long(total));
  std::string text = label + figures + status + " | ";
  std::snprintf(figures, sizeof figures, "%.1f %s/s | elapsed %s | ETA %s", items_per_second, unit.c_str(),
                format_duration(elapsed_seconds).c_str(),
                std::isnan(eta_seconds) ? "?" : format_duration(eta_seconds).c_str());
  return text + figures;
}

}  // namespace pf::proformer
