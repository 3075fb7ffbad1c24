// The test runner: doctest's main. Every TEST_CASE in tests/ is also a CTest
// test of the same name (doctest_discover_tests in tests/CMakeLists.txt).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
