// Which engine runs the CPU's f32 products: our sgemm (core/cpu/sgemm/, the
// readable kernel) or oneDNN's matmul (core/cpu/gemm_half.cpp), one engine for
// every product of a process.
//
// PF_CPU_GEMM=ours or onednn names it. Unset (or "auto"), it is measured on
// this CPU: both engines time a few products of the model's kinds, and the
// faster one is kept in a file (~/.cache/proformer/) that every later process
// on the machine reads instead of measuring again. So every process on the
// machine uses the same engine, and runs give the same bits: a resumed run and
// the one it continues, data-parallel ranks and one process, 1 thread and 2.
// The first process to write the file wins; one that measured otherwise takes
// the file's engine. Where no file can be written, ours (the same everywhere).
// Without oneDNN in the build, ours.
//
// One engine per process, not one per shape: every output element then sums
// in the same order whatever the batch, so a promoter's prediction does not
// depend on its batch-mates (tests/proformer/test_predictor.cpp).
#pragma once
#include <functional>
#include <string>

namespace pf::cpu {

enum class F32Engine { ours, onednn };

struct F32EngineChoice {
  F32Engine engine;
  std::string how;  // for the "CPU GEMM:" line: "PF_CPU_GEMM", "measured, ...", "from FILE", ...
};

// Seconds both engines take for the same products; onednn_seconds is +inf
// where oneDNN cannot run one of them.
struct EngineTimes {
  double ours_seconds, onednn_seconds;
};

// The choice for a process: env_value is PF_CPU_GEMM (null when unset),
// cache_file the machine's file (empty: none), time_both measures (called only
// when the choice is measured). Throws pf::Error for an unknown PF_CPU_GEMM,
// or onednn without oneDNN in the build.
F32EngineChoice choose_f32_engine(const char* env_value, bool onednn_built, const std::string& cache_file,
                                  const std::function<EngineTimes()>& time_both);

// $XDG_CACHE_HOME/proformer/cpu-gemm-<CPU model>, else ~/.cache/...; empty
// when neither is set.
std::string f32_engine_cache_file();

const char* f32_engine_name(F32Engine engine);  // "ours", "onednn"

}  // namespace pf::cpu
