// A small command-line parser shared by the apps: --flag, --option value,
// --option=value and positional arguments, with generated --help text.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace pf::proformer {

class CommandLine {
 public:
  // usage: the synopsis line; description: a paragraph under it.
  CommandLine(std::string program, std::string usage, std::string description);
  // Declares an option taking a value (default shown in --help when not empty).
  void option(const std::string& name, const std::string& help, const std::string& default_value = "");
  // Declares a boolean flag.
  void flag(const std::string& name, const std::string& help);
  // Parses argv. Returns false when --help was given (help is printed to
  // stdout). Throws pf::Error for an unknown option or a missing value.
  bool parse(int argc, char** argv);

  std::string get(const std::string& name) const;  // the value or its default
  // Every value of an option given more than once (--checkpoint a --checkpoint b),
  // in command-line order; empty when it was not given. get() returns the last.
  std::vector<std::string> get_all(const std::string& name) const;
  // The value as an integer >= min; throws pf::Error naming the option when
  // it is not one (e.g. "--threads must be an integer >= 0, got 'abc'").
  int64_t get_int(const std::string& name, int64_t min) const;
  // The value as a finite number in [min, max]; throws pf::Error naming the
  // option when it is not one (e.g. "--gc-min must be a number in [0, 1], got 'x'").
  double get_number(const std::string& name, double min, double max) const;
  bool has(const std::string& name) const;         // given on the command line
  bool enabled(const std::string& flag) const;
  const std::vector<std::string>& positional() const { return positional_; }
  std::string help() const;

 private:
  struct Spec {
    std::string help, default_value;
    bool is_flag;
  };
  std::string program_, usage_, description_;
  std::vector<std::pair<std::string, Spec>> specs_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> all_values_;
  std::vector<std::string> positional_;
};

// Runs `parse`, a library call on the value of option --name; a pf::Error it
// throws is thrown again naming the option, so that the library's words
// ("design: method must be greedy, beam or evolve, got 'anneal'") reach the
// user with the flag they typed ("--method: design: method must be ...").
template <typename Parse>
auto parse_option(const std::string& name, Parse&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const Error& e) {
    throw Error("--" + name + ": " + e.what());
  }
}

// Runs an app's body, turning a pf::Error (or any exception) into a one-line
// "PROGRAM: error: ..." message on stderr and exit code 1 (line breaks inside
// the message are shown as \n, so the message is always one line). A message
// whose op is the program itself ("pf-infer: long.txt:1: ...") loses that
// prefix, so the line names the program once: "pf-infer: error: long.txt:1: ...".
// First it sets how OpenMP's threads wait (openmp_waiting.h), which may start
// the program anew.
int run_app(const char* program, int (*body)(int, char**), int argc, char** argv);

}  // namespace pf::proformer
