// The Communicator of a process started on its own, the launcher's
// environment, and GradReducer's buckets (nn/distributed/communicator.h, grad_reducer.h).
// Several ranks: tests/proformer/test_data_parallel.cpp runs mpirun.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <optional>
#include <string>

#include "autograd/functional.h"
#include "nn/distributed/communicator.h"
#include "nn/distributed/grad_reducer.h"

using namespace pf;

namespace {

// Sets an environment variable for its lifetime (restoring the old value).
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(const char* name_, const char* value) : name(name_) {
    if (const char* v = getenv(name_)) old = v;
    setenv(name_, value, 1);
  }
  ~ScopedEnv() { old ? setenv(name.c_str(), old->c_str(), 1) : unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("communicator: the launcher's ranks come from mpirun's, PMI's or srun's environment") {
  CHECK(!nn::launch_info().launched);  // CTest starts tests on their own
  {
    ScopedEnv size("OMPI_COMM_WORLD_SIZE", "4"), rank("OMPI_COMM_WORLD_RANK", "3");
    const nn::LaunchInfo info = nn::launch_info();
    CHECK(info.launched);
    CHECK(info.size == 4);
    CHECK(info.rank == 3);
  }
  {
    ScopedEnv size("SLURM_STEP_NUM_TASKS", "1"), rank("SLURM_PROCID", "0");
    CHECK(!nn::launch_info().launched);  // a batch script's single task is no launch
  }
  ScopedEnv size("SLURM_STEP_NUM_TASKS", "8"), rank("SLURM_PROCID", "5");
  CHECK(nn::launch_info().launched);
  CHECK(nn::launch_info().rank == 5);
}

TEST_CASE("communicator: a process on its own is rank 0 of 1 and its collectives keep the values") {
  const std::unique_ptr<nn::Communicator> world = nn::start_communicator();
  CHECK(world->rank() == 0);
  CHECK(world->size() == 1);
  CHECK(world->is_root());
  Tensor x = Tensor::from_vector<float>({1.5f, -2}, {2});
  world->all_reduce_sum(x);
  world->all_reduce_average(x);
  world->broadcast(x, 0);
  world->barrier();
  CHECK(x.to_vector<float>() == std::vector<float>{1.5f, -2});
}

TEST_CASE("grad reducer: buckets of about bucket_bytes, every .grad ends as its bucket's slice with its values") {
  std::vector<Tensor> params;
  for (int64_t n : {100, 200, 300}) {  // 400, 800, 1200 bytes
    params.push_back(Tensor::zeros({n}));
    params.back().set_requires_grad(true);
  }
  const std::unique_ptr<nn::Communicator> world = nn::single_process();
  CHECK(nn::GradReducer(params, *world, 1).buckets() == 3);      // one parameter each
  CHECK(nn::GradReducer(params, *world, 1000).buckets() == 2);   // {300}, then {200, 100}
  CHECK(nn::GradReducer(params, *world, 1 << 20).buckets() == 1);

  nn::GradReducer reducer(params, *world, 1000);
  reducer.arm();
  // Parameters 0 and 2 get gradients; 1 gets none (its slice must read 0).
  add(sum(mul(params[0], 2.0)), sum(mul(params[2], 3.0))).backward();
  reducer.finish();
  CHECK(params[0].grad().to_vector<float>() == std::vector<float>(100, 2.0f));
  CHECK(params[1].grad().to_vector<float>() == std::vector<float>(200, 0.0f));
  CHECK(params[2].grad().to_vector<float>() == std::vector<float>(300, 3.0f));
}
