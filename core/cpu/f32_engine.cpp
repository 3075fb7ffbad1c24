#include "core/cpu/f32_engine.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/error.h"

namespace pf::cpu {

namespace {

// The engine a file names on its first line; nullopt if it names none.
std::optional<F32Engine> read_engine(const std::string& file) {
  std::ifstream in(file);
  std::string first;
  if (!std::getline(in, first)) return std::nullopt;
  if (first == "ours") return F32Engine::ours;
  if (first == "onednn") return F32Engine::onednn;
  return std::nullopt;
}

// Writes `measured` (and a note) to `file` unless the file exists already,
// then returns what the file says: the first writer wins, and the file
// appears whole or not at all (written aside, then hard-linked into place,
// which fails where the name exists).
std::optional<F32Engine> settle_in_file(const std::string& file, F32Engine measured, const std::string& note) {
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ignored);
  const std::string aside = file + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(aside);
    out << f32_engine_name(measured) << "\n" << note << "\n";
  }
  if (link(aside.c_str(), file.c_str()) != 0 && errno != EEXIST) {
    std::remove(aside.c_str());
    return std::nullopt;
  }
  std::remove(aside.c_str());
  return read_engine(file);
}

std::string milliseconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", seconds * 1e3);
  return text;
}

// The CPU's model name as a file-name part: "AMD-EPYC-9454-48-Core-Processor".
std::string cpu_model_for_file_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, name = "unknown-cpu";
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      name = line.substr(line.find(':') + 1);
      break;
    }
  std::string part;
  for (char ch : name) {
    const bool keep = std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.';
    if (keep)
      part += ch;
    else if (!part.empty() && part.back() != '-')
      part += '-';
  }
  while (!part.empty() && part.back() == '-') part.pop_back();
  return part.empty() ? "unknown-cpu" : part;
}

}  // namespace

const char* f32_engine_name(F32Engine engine) { return engine == F32Engine::onednn ? "onednn" : "ours"; }

std::string f32_engine_cache_file() {
  std::string dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0')
    dir = std::string(xdg) + "/proformer";
  else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    dir = std::string(home) + "/.cache/proformer";
  else
    return "";
  return dir + "/cpu-gemm-" + cpu_model_for_file_name();
}

F32EngineChoice choose_f32_engine(const char* env_value, bool onednn_built, const std::string& cache_file,
                                  const std::function<EngineTimes()>& time_both) {
  const std::string asked = env_value == nullptr ? "auto" : env_value;
  PF_CHECK(asked == "auto" || asked == "ours" || asked == "onednn", "PF_CPU_GEMM",
           "expected auto, ours or onednn, got '", asked, "'");
  if (asked == "onednn") {
    PF_CHECK(onednn_built, "PF_CPU_GEMM", "onednn: this build has no oneDNN (libdnnl-dev)");
    return {F32Engine::onednn, "PF_CPU_GEMM"};
  }
  if (asked == "ours") return {F32Engine::ours, "PF_CPU_GEMM"};
  if (!onednn_built) return {F32Engine::ours, "no oneDNN in this build"};
  if (cache_file.empty()) return {F32Engine::ours, "no cache directory to keep a measurement in (HOME unset)"};
  if (std::filesystem::exists(cache_file)) {
    if (const std::optional<F32Engine> kept = read_engine(cache_file)) return {*kept, "measured before, " + cache_file};
    return {F32Engine::ours, cache_file + " names no engine (delete it to measure again)"};
  }
  const EngineTimes times = time_both();
  const F32Engine faster = times.onednn_seconds < times.ours_seconds ? F32Engine::onednn : F32Engine::ours;
  const std::string measured =
      "ours " + milliseconds(times.ours_seconds) + ", onednn " + milliseconds(times.onednn_seconds);
  const std::optional<F32Engine> settled = settle_in_file(cache_file, faster, "# " + measured);
  if (!settled) return {F32Engine::ours, cache_file + " could not be written"};
  if (*settled != faster) return {*settled, "measured first by another process, " + cache_file};
  return {faster, "measured here (" + measured + "), kept in " + cache_file};
}

}  // namespace pf::cpu
