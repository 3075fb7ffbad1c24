// The apps' OpenMP threads spin briefly before they sleep, unless the user
// chose (apps/openmp_waiting.h). libgomp reads its settings when it loads, so
// run_app starts the program anew with GOMP_SPINCOUNT set; with
// OMP_DISPLAY_ENV=verbose libgomp prints the settings each time it loads, on
// stderr: once for the program as started, once for the program started anew.
#include <doctest/doctest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "apps/openmp_waiting.h"
#include "test_util.h"

using namespace pf::test;

namespace {

// An environment variable set (or unset) for one scope, restored after it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) saved_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { saved_ ? setenv(name_, saved_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

// The GOMP_SPINCOUNT values libgomp reported, in order, while pf-infer --help ran.
std::vector<std::string> spin_counts_reported() {
  const ProcessResult r = run_process({app_path("pf-infer"), "--help"});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> counts;
  const std::string key = "GOMP_SPINCOUNT = '";
  for (size_t at = r.err.find(key); at != std::string::npos; at = r.err.find(key, at + 1)) {
    const size_t start = at + key.size();
    counts.push_back(r.err.substr(start, r.err.find('\'', start) - start));
  }
  return counts;
}

}  // namespace

TEST_CASE("apps: OpenMP threads spin briefly by default, and the user's OMP_WAIT_POLICY or GOMP_SPINCOUNT wins") {
  ScopedEnv display("OMP_DISPLAY_ENV", "verbose");
  ScopedEnv no_policy("OMP_WAIT_POLICY", nullptr);
  {
    ScopedEnv no_spin("GOMP_SPINCOUNT", nullptr);
    const std::vector<std::string> counts = spin_counts_reported();
    REQUIRE(counts.size() == 2);  // started, then started anew with the short spin
    CHECK(counts[1] == pf::proformer::kOpenMpSpinCount);
  }
  {
    ScopedEnv user_spin("GOMP_SPINCOUNT", "5");
    CHECK(spin_counts_reported() == std::vector<std::string>{"5"});  // not started anew
  }
  {
    ScopedEnv no_spin("GOMP_SPINCOUNT", nullptr);
    ScopedEnv user_policy("OMP_WAIT_POLICY", "active");
    CHECK(spin_counts_reported().size() == 1);
  }
}
