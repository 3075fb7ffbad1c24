// The watchdog of NcclPending::wait() (cuda/collective_watchdog.h) on the
// CPU: a fake collective whose event finishes, fails or never finishes, a
// fake NCCL error slot and a fake clock that advances one second per pause.
// On a GPU the same loop polls cudaEventQuery and ncclCommGetAsyncError and
// aborts with ncclCommAbort (cuda/nccl_communicator.cpp).
#include <doctest/doctest.h>

#include <string>

#include "cuda/collective_watchdog.h"
#include "test_util.h"

using namespace pf;
using pf::test::contains;
using pf::test::error_of;

namespace {

// A collective on a peer: done at poll `done_after` + 1 (never when < 0),
// failed with `error` from poll `fails_at` on (never when < 0).
struct FakeCollective {
  int done_after = -1, fails_at = -1;
  std::string error = "unhandled system error";
  int polls = 0, aborts = 0;
  double clock = 1000;  // seconds; only pauses move it

  void wait(double timeout_s) {
    cuda::wait_for_collective(
        "all_reduce_sum on rank 1 of 2", timeout_s, [&] { return ++polls, done_after >= 0 && polls > done_after; },
        [&] { return fails_at >= 0 && polls >= fails_at ? error : std::string(); }, [&] { ++aborts; },
        [&] { return clock; }, [&] { clock += 1; });
  }
};

}  // namespace

TEST_CASE("collective watchdog: a collective that finishes returns, nothing aborted, however long it took") {
  FakeCollective collective{.done_after = 3};
  collective.wait(300);
  CHECK(collective.aborts == 0);
  CHECK(collective.polls == 4);
  FakeCollective slow{.done_after = 299};  // 299 s of pauses: inside the limit
  slow.wait(300);
  CHECK(slow.aborts == 0);
}

TEST_CASE("collective watchdog: NCCL's asynchronous error aborts the group at once, in one line naming the rank") {
  FakeCollective collective{.fails_at = 5};
  const std::string error = error_of([&] { collective.wait(300); });
  CHECK(collective.aborts == 1);
  CHECK(collective.clock < 1010);  // not the timeout: the error
  CHECK(contains(error, "all_reduce_sum on rank 1 of 2 failed: unhandled system error; the group is aborted"));
  CHECK(error.find('\n') == std::string::npos);
}

TEST_CASE("collective watchdog: a peer that never comes is given the timeout, then the group is aborted") {
  FakeCollective collective;  // neither done nor failed: a dead rank's peers see only this
  const std::string error = error_of([&] { collective.wait(300); });
  CHECK(collective.aborts == 1);
  CHECK(collective.clock == doctest::Approx(1301));  // waited the 300 s, and no longer
  CHECK(contains(error, "all_reduce_sum on rank 1 of 2 did not finish in 300 s: another rank died or stopped"));
  CHECK(contains(error, "PF_NCCL_TIMEOUT_S"));
}

TEST_CASE("collective watchdog: PF_NCCL_TIMEOUT_S is a positive number of seconds, 300 when unset") {
  CHECK(cuda::collective_timeout_s(nullptr) == 300);
  CHECK(cuda::collective_timeout_s("") == 300);
  CHECK(cuda::collective_timeout_s("12.5") == 12.5);
  for (const char* bad : {"0", "-3", "5s", "soon", "1e999"}) {
    CAPTURE(bad);
    CHECK(contains(error_of([&] { cuda::collective_timeout_s(bad); }), "is not a positive number of seconds"));
  }
}

TEST_CASE("nccl advice: Docker's 64 MB /dev/shm and every rank on one GPU each get one line saying what to do") {
  const std::string shm = cuda::shared_memory_advice(uint64_t(64) << 20);
  CHECK(contains(shm, "/dev/shm has 64 MB free"));
  CHECK(contains(shm, "--shm-size=1g"));
  CHECK(shm.find('\n') == std::string::npos);
  CHECK(cuda::shared_memory_advice(uint64_t(8) << 30).empty());

  const std::string gpu = cuda::duplicate_gpu_hint(0, 1);
  CHECK(contains(gpu, "every rank on cuda:0?"));
  CHECK(contains(gpu, "train.device: cuda gives each rank cuda:<local rank>, here cuda:1"));
}
