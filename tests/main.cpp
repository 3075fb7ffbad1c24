// The test runner: doctest's main, and one rule of our own. Every TEST_CASE
// in tests/ is also a CTest test of the same name (doctest_discover_tests in
// tests/CMakeLists.txt), which runs `pf_tests --test-case=NAME`. A name that
// CTest cuts (it splits at ';') would select no test case, and doctest calls
// a run of nothing a success: here, a --test-case filter that selects nothing
// fails instead.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string_view>

namespace {

unsigned selected_test_cases = 0;  // how many passed the filters, set at the end of the run

// A listener that keeps the run's count of selected test cases.
struct SelectedCount : doctest::IReporter {
  explicit SelectedCount(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    selected_test_cases = stats.numTestCasesPassingFilters;
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("selected_count", 1, SelectedCount);

bool filters_test_cases(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("--test-case=", 0) == 0 || arg.rfind("-tc=", 0) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (context.shouldExit() || result != 0) return result;  // a query (--list-test-cases), or failures
  if (filters_test_cases(argc, argv) && selected_test_cases == 0) {
    std::fprintf(stderr, "pf_tests: the --test-case filter selects no test case (a name with ';' is cut by CTest)\n");
    return 1;
  }
  return 0;
}
