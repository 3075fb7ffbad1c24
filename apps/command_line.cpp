#include "apps/command_line.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>

#include "apps/openmp_waiting.h"
#include "core/error.h"

namespace pf::proformer {

CommandLine::CommandLine(std::string program, std::string usage, std::string description)
    : program_(std::move(program)), usage_(std::move(usage)), description_(std::move(description)) {
  flag("help", "show this help and exit");
}

void CommandLine::option(const std::string& name, const std::string& help, const std::string& default_value) {
  specs_.push_back({name, {help, default_value, false}});
}

void CommandLine::flag(const std::string& name, const std::string& help) { specs_.push_back({name, {help, "", true}}); }

bool CommandLine::parse(int argc, char** argv) {
  auto find = [&](const std::string& name) -> const Spec* {
    for (auto& [n, s] : specs_)
      if (n == name) return &s;
    return nullptr;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 3 || arg.rfind("--", 0) != 0) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const Spec* spec = find(name);
    PF_CHECK(spec != nullptr, program_.c_str(), "unknown option --", name, " (see --help)");
    if (spec->is_flag) {
      PF_CHECK(!inline_value, program_.c_str(), "--", name, " takes no value");
      value = '1';  // not "1": GCC 12 reports a false -Wrestrict for that
    } else if (!inline_value) {
      PF_CHECK(i + 1 < argc, program_.c_str(), "--", name, " needs a value (see --help)");
      value = argv[++i];
    }
    values_[name] = value;
    all_values_[name].push_back(value);
  }
  if (enabled("help")) {
    std::fputs(help().c_str(), stdout);
    return false;
  }
  return true;
}

std::string CommandLine::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  for (auto& [n, s] : specs_)
    if (n == name) return s.default_value;
  PF_FAIL(program_.c_str(), "internal: undeclared option --", name);
}

std::vector<std::string> CommandLine::get_all(const std::string& name) const {
  auto it = all_values_.find(name);
  return it == all_values_.end() ? std::vector<std::string>{} : it->second;
}

int64_t CommandLine::get_int(const std::string& name, int64_t min) const {
  const std::string text = get(name);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  PF_CHECK(error == std::errc() && end == text.data() + text.size() && value >= min, program_.c_str(), "--", name,
           " must be an integer >= ", min, ", got '", text, "'");
  return value;
}

double CommandLine::get_number(const std::string& name, double min, double max) const {
  const std::string text = get(name);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  PF_CHECK(!text.empty() && error == std::errc() && end == text.data() + text.size() && std::isfinite(value) &&
               value >= min && value <= max,
           program_.c_str(), "--", name, " must be a number in [", min, ", ", max, "], got '", excerpt(text), "'");
  return value;
}

bool CommandLine::has(const std::string& name) const { return values_.count(name) > 0; }
bool CommandLine::enabled(const std::string& flag) const { return values_.count(flag) > 0; }

std::string CommandLine::help() const {
  std::ostringstream os;
  os << "usage: " << usage_ << "\n\n" << description_ << "\n\noptions:\n";
  for (auto& [name, spec] : specs_) {
    std::string left = "  --" + name + (spec.is_flag ? "" : " VALUE");
    os << left << std::string(left.size() < 28 ? 28 - left.size() : 1, ' ') << spec.help;
    if (!spec.default_value.empty()) os << " (default: " << spec.default_value << ")";
    os << "\n";
  }
  return os.str();
}

int run_app(const char* program, int (*body)(int, char**), int argc, char** argv) {
  exec_with_openmp_waiting(argv);
  try {
    return body(argc, argv);
  } catch (const std::exception& e) {
    // A PF_CHECK message begins with its op, often the app's own name: that
    // "PROGRAM: " is dropped so that the line names the program once.
    std::string_view what = e.what();
    const std::string own_op = std::string(program) + ": ";
    if (what.starts_with(own_op)) what.remove_prefix(own_op.size());
    std::string message;
    for (const char c : what) message += c == '\n' ? "\\n" : c == '\r' ? "\\r" : std::string(1, c);
    std::fprintf(stderr, "%s: error: %s\n", program, message.c_str());
    return 1;
  }
}

}  // namespace pf::proformer
