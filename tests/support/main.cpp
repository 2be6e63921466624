// The test runner: doctest's, and one check of its own. ctest runs each test case by name
// (--test-case=<name>); a run that asked for cases by name and found none fails, since it
// would otherwise pass without testing anything (ctest's discovery cuts a name at a ';',
// for one).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string_view>

namespace {

unsigned cases_run = 0;

// Counts the test cases that ran; reports nothing.
struct case_counter : doctest::IReporter {
  explicit case_counter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override { cases_run = stats.numTestCasesPassingFilters; }
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

}  // namespace

DOCTEST_REGISTER_LISTENER("case_counter", 1, case_counter);

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (context.shouldExit()) return result;
  bool by_name = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    by_name = by_name || argument.starts_with("--test-case=") || argument.starts_with("-tc=");
  }
  if (by_name && cases_run == 0) {
    std::fprintf(stderr, "no test case has the name asked for: nothing was tested\n");
    return 1;
  }
  return result;
}
