// GradReducer's polling contract (nn/grad_reducer.h, Communicator::Pending::test()
// in nn/communicator.h): test() is a query that leaves nothing behind which
// later work reads as an error. On a GPU, NcclPending::test() polls an event,
// and the CUDA runtime keeps the cudaErrorNotReady of a query that finds the
// collective still running as its "last error", which the next kernel launch
// reports as a failure. GradReducer polls every started bucket each time
// another starts, so without the rule (cuda/event_poll.h) data-parallel
// training on GPUs stopped at step 1.
//
// No GPU here: a fake runtime with CUDA's sticky last-error slot, and a fake
// communicator whose collectives are "launches" that fail on a stale error
// and whose Pending polls through the same poll_finished as NcclPending.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "autograd/functional.h"
#include "cuda/event_poll.h"
#include "nn/distributed/communicator.h"
#include "nn/distributed/grad_reducer.h"

using namespace pf;

namespace {

// The CUDA runtime's error reporting, reduced to its last-error slot.
struct FakeRuntime {
  enum Status { success, not_ready, launch_failure };
  Status last_error = success;
  int launches = 0, polls = 0;

  // cudaEventQuery: NotReady while running, kept in the slot as CUDA does.
  Status query(bool finished) {
    ++polls;
    if (finished) return success;
    last_error = not_ready;
    return not_ready;
  }
  // cudaGetLastError: reads and clears the slot.
  Status get_last_error() {
    const Status status = last_error;
    last_error = success;
    return status;
  }
  // A kernel launch and its check (cuda/common.cuh launch()).
  void launch(const char* what) {
    ++launches;
    const Status stale = get_last_error();
    PF_CHECK(stale == success, "fake runtime", what, " sees a stale error ", int(stale), " left by an earlier call");
  }
};

class FakePending final : public nn::Communicator::Pending {
 public:
  explicit FakePending(FakeRuntime& runtime) : runtime_(runtime) {}
  bool test() override {
    return cuda::poll_finished(
        runtime_.query(finished_), FakeRuntime::success, FakeRuntime::not_ready,
        [this] { return runtime_.get_last_error(); },
        [](FakeRuntime::Status status) { PF_FAIL("fake runtime", "query failed with ", int(status)); });
  }
  void wait() override { finished_ = true; }  // the collective ends only when waited for

 private:
  FakeRuntime& runtime_;
  bool finished_ = false;
};

// A group of one whose all-reduce is a launch on the fake runtime.
class FakeGpuCommunicator final : public nn::Communicator {
 public:
  explicit FakeGpuCommunicator(FakeRuntime& runtime) : runtime_(runtime) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  const char* name() const override { return "fake GPU"; }
  std::unique_ptr<Pending> start_all_reduce_sum(const Tensor&) override {
    runtime_.launch("all_reduce");
    return std::make_unique<FakePending>(runtime_);
  }
  void broadcast(const Tensor&, int) override { runtime_.launch("broadcast"); }
  void barrier() override { runtime_.launch("barrier"); }
  [[noreturn]] void abort(int) override { PF_FAIL("fake runtime", "abort"); }

 private:
  FakeRuntime& runtime_;
};

}  // namespace

TEST_CASE("grad reducer: polling a started bucket leaves no stale error for the next collective or launch") {
  std::vector<Tensor> params;
  for (int64_t n : {100, 200, 300}) {
    params.push_back(Tensor::zeros({n}));
    params.back().set_requires_grad(true);
  }
  FakeRuntime runtime;
  FakeGpuCommunicator comm(runtime);
  nn::GradReducer reducer(params, comm, 1);  // one bucket per parameter: three starts, polls between them
  REQUIRE(reducer.buckets() == 3);
  for (int step = 0; step < 2; ++step) {
    CAPTURE(step);
    for (const Tensor& p : params) p.set_grad(Tensor());  // zero_grad: each step's gradients alone
    reducer.arm();
    REQUIRE_NOTHROW(add(add(sum(params[0]), sum(mul(params[1], 2.0))), sum(mul(params[2], 3.0))).backward());
    REQUIRE_NOTHROW(reducer.finish());
    CHECK(runtime.polls > 0);  // the contract was exercised: buckets were polled while running
    CHECK_NOTHROW(runtime.launch("the next step's first kernel"));
  }
  CHECK(runtime.launches == 2 * (3 + 1));
  CHECK(params[1].grad().to_vector<float>() == std::vector<float>(200, 2.0f));
}

TEST_CASE("poll_finished: success is finished, not-ready is cleared, any other status fails") {
  FakeRuntime runtime;
  const auto clear = [&] { return runtime.get_last_error(); };
  const auto fail = [](FakeRuntime::Status status) { PF_FAIL("fake runtime", "status ", int(status)); };
  CHECK(cuda::poll_finished(runtime.query(true), FakeRuntime::success, FakeRuntime::not_ready, clear, fail));
  CHECK_FALSE(cuda::poll_finished(runtime.query(false), FakeRuntime::success, FakeRuntime::not_ready, clear, fail));
  CHECK(runtime.last_error == FakeRuntime::success);
  CHECK_THROWS_AS(
      cuda::poll_finished(FakeRuntime::launch_failure, FakeRuntime::success, FakeRuntime::not_ready, clear, fail),
      Error);
}
