// How the f32 engine (ours or oneDNN's) is chosen (core/cpu/f32_engine.h):
// PF_CPU_GEMM first; else the machine's file; else a measurement, kept in the
// file for every later process, the first writer winning; ours wherever no
// measurement can be kept.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>

#include "core/cpu/f32_engine.h"
#include "core/error.h"
#include "test_util.h"

using namespace pf;
using namespace pf::test;
namespace fs = std::filesystem;
using cpu::F32Engine;

namespace {

// A measurement that says `faster` wins, and counts its calls.
struct FakeTimer {
  F32Engine faster;
  int calls = 0;
  std::function<cpu::EngineTimes()> timer() {
    return [this] {
      ++calls;
      return faster == F32Engine::onednn ? cpu::EngineTimes{2.0, 1.0} : cpu::EngineTimes{1.0, 2.0};
    };
  }
};

}  // namespace

TEST_CASE("f32 engine: PF_CPU_GEMM names it, and a wrong name or onednn without oneDNN is an error") {
  TempDir dir;
  FakeTimer timer{F32Engine::onednn};
  CHECK(cpu::choose_f32_engine("ours", true, dir.file("cache"), timer.timer()).engine == F32Engine::ours);
  CHECK(cpu::choose_f32_engine("onednn", true, dir.file("cache"), timer.timer()).engine == F32Engine::onednn);
  CHECK(timer.calls == 0);
  CHECK(!fs::exists(dir.file("cache")));
  CHECK(error_of([&] { cpu::choose_f32_engine("mkl", true, dir.file("cache"), timer.timer()); })
            .rfind("PF_CPU_GEMM: expected auto, ours or onednn, got 'mkl'", 0) == 0);
  CHECK(error_of([&] { cpu::choose_f32_engine("onednn", false, "", timer.timer()); }).find("no oneDNN") !=
        std::string::npos);
}

TEST_CASE("f32 engine: measured once, kept in the file, and read from it by later processes") {
  TempDir dir;
  const std::string file = dir.file("proformer/cpu-gemm-test-cpu");  // its directory is created
  FakeTimer first{F32Engine::onednn}, later{F32Engine::ours};
  const cpu::F32EngineChoice measured = cpu::choose_f32_engine(nullptr, true, file, first.timer());
  CHECK(measured.engine == F32Engine::onednn);
  CHECK(first.calls == 1);
  CHECK(measured.how.find("measured here") == 0);
  CHECK(read_text(file).rfind("onednn\n", 0) == 0);
  // A later process (whose own measurement would say ours) takes the file's engine without measuring.
  const cpu::F32EngineChoice kept = cpu::choose_f32_engine("auto", true, file, later.timer());
  CHECK(kept.engine == F32Engine::onednn);
  CHECK(later.calls == 0);
  CHECK(kept.how == "measured before, " + file);
}

TEST_CASE("f32 engine: a process that measured otherwise than the first writer takes the file's engine") {
  TempDir dir;
  const std::string file = dir.file("cpu-gemm");
  // While this process measures (onednn faster), another writes its result (ours) first.
  const cpu::F32EngineChoice choice = cpu::choose_f32_engine(nullptr, true, file, [&] {
    write_text(file, "ours\n");
    return cpu::EngineTimes{2.0, 1.0};
  });
  CHECK(choice.engine == F32Engine::ours);
  CHECK(choice.how.find("another process") != std::string::npos);
  CHECK(read_text(file) == "ours\n");
}

TEST_CASE("f32 engine: ours, unmeasured, where nothing could be kept or oneDNN is absent") {
  TempDir dir;
  FakeTimer timer{F32Engine::onednn};
  CHECK(cpu::choose_f32_engine(nullptr, false, dir.file("cache"), timer.timer()).engine == F32Engine::ours);
  CHECK(cpu::choose_f32_engine(nullptr, true, "", timer.timer()).engine == F32Engine::ours);  // no HOME
  write_text(dir.file("garbled"), "fastest\n");
  const cpu::F32EngineChoice garbled = cpu::choose_f32_engine(nullptr, true, dir.file("garbled"), timer.timer());
  CHECK(garbled.engine == F32Engine::ours);
  CHECK(garbled.how.find("names no engine") != std::string::npos);
  CHECK(timer.calls == 0);
  // A directory that cannot be made (a file stands in its way): measured, but not kept, so ours.
  write_text(dir.file("blocker"), "");
  const cpu::F32EngineChoice unkept = cpu::choose_f32_engine(nullptr, true, dir.file("blocker/cpu-gemm"), timer.timer());
  CHECK(unkept.engine == F32Engine::ours);
  CHECK(unkept.how.find("could not be written") != std::string::npos);
}

TEST_CASE("f32 engine: the cache file is named after the CPU, under XDG_CACHE_HOME or HOME") {
  const std::string file = cpu::f32_engine_cache_file();
  if (file.empty()) return;  // neither is set here
  CHECK(file.find("/proformer/cpu-gemm-") != std::string::npos);
  CHECK(file.find(' ') == std::string::npos);
}
