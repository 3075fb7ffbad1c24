// Which of the GEMM's compiled loops run (core/cpu/sgemm.cpp): the choice
// follows the CPU's own flags, and the AVX-512 copy of the loops keeps all its
// code to itself, so that the linker cannot hand an AVX2 CPU an AVX-512
// function (core/cpu/sgemm/isa.h says why that matters).
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "core/cpu/sgemm.h"

using namespace pf;

#if PF_HAVE_SGEMM
namespace {

// The CPU's feature flags as the kernel lists them (/proc/cpuinfo's first "flags" line).
std::set<std::string> cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::set<std::string> flags;
      for (std::string w; words >> w;) flags.insert(w);
      return flags;
    }
  return {};
}

}  // namespace

TEST_CASE("sgemm: the loops chosen are the widest that /proc/cpuinfo's flags allow") {
  const std::set<std::string> flags = cpuinfo_flags();
  if (flags.empty()) {
    MESSAGE("no /proc/cpuinfo flags on this machine: nothing to compare with");
    return;
  }
  auto has = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (!flags.count(n)) return false;
    return true;
  };
  const bool avx2 = has({"avx2", "fma", "f16c"});
  const bool avx512 = avx2 && has({"avx512f", "avx512bw", "avx512dq", "avx512vl"});
  const cpu::SgemmIsa expected = avx512 ? cpu::SgemmIsa::avx512 : avx2 ? cpu::SgemmIsa::avx2 : cpu::SgemmIsa::none;
  INFO("chosen ", cpu::sgemm_isa_name(cpu::sgemm_isa()), ", flags say ", cpu::sgemm_isa_name(expected));
  CHECK(cpu::sgemm_isa() == expected);
  CHECK(cpu::cpu_runs(cpu::SgemmIsa::avx2) == avx2);
  CHECK(cpu::cpu_runs(cpu::SgemmIsa::avx512) == avx512);
}

TEST_CASE("sgemm: the AVX-512 loops' object defines code only in its own namespace") {
  // nm lists the object's defined symbols; code (T, W, i) outside
  // pf::cpu::sgemm_avx512 could be merged with another file's copy of the same
  // inline function and then run on a CPU without AVX-512.
  const std::string command = "nm -C --defined-only '" PF_SGEMM_AVX512_OBJECT "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out, line;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  REQUIRE(pclose(pipe) == 0);
  int code_symbols = 0;
  std::istringstream lines(out);
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string address, type, name;
    fields >> address >> type;
    std::getline(fields >> std::ws, name);
    if (type != "T" && type != "W" && type != "i") continue;
    ++code_symbols;
    INFO(line);
    CHECK(name.rfind("pf::cpu::sgemm_avx512::", 0) == 0);
  }
  CHECK(code_symbols >= 2);  // sgemm and blocking at least: nm did read the object
}
#endif  // PF_HAVE_SGEMM
