// Waiting for an NCCL collective with a deadline, and the advice for the two
// ways a multi-GPU run fails before its first step.
//
// A collective runs on the GPUs of every rank; when one rank dies (killed,
// out of memory, a failed node), the others' collective kernels wait for it
// forever, and so would a host that waits for them. So NcclPending::wait()
// (cuda/nccl_communicator.cpp) waits on the host through wait_for_collective:
// it polls the collective's event and NCCL's asynchronous error
// (ncclCommGetAsyncError), and on an error, or when the collective is not done
// within the timeout (PF_NCCL_TIMEOUT_S, default 300 s), aborts the
// communicator (ncclCommAbort: the stuck kernels end) and throws one pf::Error
// line that names the collective and the rank.
//
// Header only and free of CUDA and NCCL: the runtime's calls come in as
// callables, so the CPU tests (tests/cuda_host/test_collective_watchdog.cpp)
// run this same loop against a fake event, error slot and clock.
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace pf::cuda {

constexpr double kDefaultCollectiveTimeoutS = 300;

// The collective timeout in seconds from PF_NCCL_TIMEOUT_S's value (null or
// empty: the default); pf::Error unless it is a positive number.
inline double collective_timeout_s(const char* env_value) {
  if (env_value == nullptr || *env_value == 0) return kDefaultCollectiveTimeoutS;
  char* end = nullptr;
  errno = 0;
  const double seconds = std::strtod(env_value, &end);
  PF_CHECK(errno == 0 && *end == 0 && seconds > 0, "nccl", "PF_NCCL_TIMEOUT_S='", env_value,
           "' is not a positive number of seconds");
  return seconds;
}

// Returns once is_done(). Between polls: when async_error() returns a message
// (empty while NCCL is healthy) or now() has passed the start by timeout_s,
// calls abort() and throws pf::Error naming `what` ("all_reduce_sum on rank
// 1 of 2"); else pause().
template <typename IsDone, typename AsyncError, typename Abort, typename Now, typename Pause>
void wait_for_collective(const std::string& what, double timeout_s, IsDone is_done, AsyncError async_error,
                         Abort abort, Now now, Pause pause) {
  const double start = now();
  while (!is_done()) {
    const std::string error = async_error();
    if (!error.empty()) {
      abort();
      PF_FAIL("nccl", what, " failed: ", error,
              "; the group is aborted (HINT: another rank's error, above or in its log, says why)");
    }
    if (now() - start > timeout_s) {
      abort();
      PF_FAIL("nccl", what, " did not finish in ", timeout_s,
              " s: another rank died or stopped; the group is aborted (HINT: that rank's log says why; "
              "PF_NCCL_TIMEOUT_S sets the limit)");
    }
    pause();
  }
}

// One line for a /dev/shm with `free_bytes` left, or "" when that is enough.
// NCCL passes data between the ranks of one machine through /dev/shm; with
// Docker's default of 64 MB it fails at its first collectives with "unhandled
// system error" or a bus error.
constexpr uint64_t kSharedMemoryNeeded = uint64_t(1) << 30;
inline std::string shared_memory_advice(uint64_t free_bytes) {
  if (free_bytes >= kSharedMemoryNeeded) return "";
  return "nccl: /dev/shm has " + std::to_string(free_bytes >> 20) +
         " MB free, and NCCL needs about 1 GB between the ranks of one machine (HINT: docker run --shm-size=1g, "
         "or --ipc=host; or NCCL_SHM_DISABLE=1, slower)";
}

// The hint for a failed ncclCommInitRank: NCCL refuses a group where two ranks
// are on the same GPU, which happens when every rank is given the same cuda:N.
inline std::string duplicate_gpu_hint(int device, int local_rank) {
  return "every rank on cuda:" + std::to_string(device) +
         "? NCCL needs one GPU per rank (HINT: train.device: cuda gives each rank cuda:<local rank>, here cuda:" +
         std::to_string(local_rank) + "; with CUDA_VISIBLE_DEVICES give each rank its own)";
}

}  // namespace pf::cuda
