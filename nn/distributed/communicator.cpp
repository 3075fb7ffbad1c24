// The group of one, the launcher's environment, and start_communicator().
#include "nn/distributed/communicator.h"

#include <cstdlib>
#include <string>

#ifdef PF_HAVE_MPI
#include "nn/distributed/mpi_communicator.h"
#endif

namespace pf::nn {

namespace {

// A process started on its own: rank 0 of 1, every collective a no-op.
class SingleProcess final : public Communicator {
 public:
  struct Done final : Pending {
    bool test() override { return true; }
    void wait() override {}
  };
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  const char* name() const override { return "one process"; }
  std::unique_ptr<Pending> start_all_reduce_sum(const Tensor&) override { return std::make_unique<Done>(); }
  void broadcast(const Tensor&, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(int exit_code) override { std::exit(exit_code); }
};

// The first of `names` set in the environment, as an int; -1 when none is.
int env_int(std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (const char* value = std::getenv(name)) return std::atoi(value);
  return -1;
}

}  // namespace

LaunchInfo launch_info() {
  LaunchInfo info;
  const int mpi_size = env_int({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"});
  const int mpi_rank = env_int({"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"});
  const int slurm_size = env_int({"SLURM_STEP_NUM_TASKS"}), slurm_rank = env_int({"SLURM_PROCID"});
  // Slurm sets its variables in a job's batch script too: one task there is
  // not a launch, and srun's ranks are MPI ranks only with more than one.
  info.launched = mpi_size >= 0 || mpi_rank >= 0 || slurm_size > 1;
  info.size = mpi_size > 0 ? mpi_size : slurm_size > 1 ? slurm_size : 1;
  info.rank = mpi_rank >= 0 ? mpi_rank : slurm_size > 1 && slurm_rank >= 0 ? slurm_rank : 0;
  return info;
}

std::unique_ptr<Communicator> single_process() { return std::make_unique<SingleProcess>(); }

std::unique_ptr<Communicator> start_communicator() {
  if (!launch_info().launched) return single_process();
#ifdef PF_HAVE_MPI
  return std::make_unique<MpiCommunicator>();
#else
  PF_FAIL("communicator", "started by a launcher (mpirun or srun) as rank ", launch_info().rank, " of ",
          launch_info().size, ", but this build has no MPI",
          " (HINT: apt-get install libopenmpi-dev openmpi-bin, then reconfigure and rebuild)");
#endif
}

}  // namespace pf::nn
