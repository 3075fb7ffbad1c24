// Runs a test body on each f32 GEMM engine the build has (ours, and oneDNN's
// matmul where it was found), then gives the process its own engine back,
// also when the body throws (a failed REQUIRE).
#pragma once
#include <doctest/doctest.h>

#include "core/cpu/cpu_backend.h"

namespace pf::test {

template <typename Fn>
void for_each_f32_engine(Fn&& fn) {
  struct Restore {
    cpu::F32Engine engine = CpuBackend::f32_gemm();
    ~Restore() { CpuBackend::set_f32_gemm(engine); }
  } restore;
  for (cpu::F32Engine engine : {cpu::F32Engine::ours, cpu::F32Engine::onednn}) {
    if (engine == cpu::F32Engine::onednn && !CpuBackend::onednn_built()) continue;
    CpuBackend::set_f32_gemm(engine);
    INFO("f32 engine ", cpu::f32_engine_name(engine));
    fn(engine);
  }
}

}  // namespace pf::test
