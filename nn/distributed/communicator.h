// Communicator: this process's place in a group of processes that train one
// model together (data parallel, docs/model.md "Scale out"), and the collectives
// they run on tensors. Implementations:
//
//   SingleProcess      (communicator.cpp)     a group of one: collectives are no-ops
//   MpiCommunicator    (mpi_communicator.*)   host tensors, over OpenMPI
//   NcclCommunicator   (cuda/nccl_communicator.*)  device tensors, over NCCL
//
// A process started by a launcher (mpirun, or srun under Slurm) is one rank
// of several; a process started on its own is a group of one and never calls
// MPI_Init, so pf-train needs no MPI at run time:
//
//   std::unique_ptr<Communicator> world = start_communicator();  // MPI_Init under mpirun
//   world->all_reduce_sum(grad);                                  // grad = sum over ranks, in place
//
// Every rank must call the same collectives in the same order, with tensors of
// the same shape and dtype. This header only declares (cuda/ implements it
// without linking pf_nn).
#pragma once
#include <memory>

#include "core/ops.h"
#include "core/tensor.h"

namespace pf::nn {

class Communicator {
 public:
  // A collective that has started and may still be running.
  class Pending {
   public:
    virtual ~Pending() = default;
    // Lets the transport make progress; true once the result is in place.
    // A query, called any number of times while the collective runs: "not
    // yet" is no error and leaves nothing behind that later work reads as
    // one (on a GPU: the cudaErrorNotReady of the event query is cleared,
    // cuda/event_poll.h). GradReducer relies on it.
    virtual bool test() = 0;
    // Returns when the result is in place (on a GPU: waited for on the host,
    // cuda/collective_watchdog.h). Aborts the group when it takes too long.
    virtual void wait() = 0;
  };

  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The rank among the ranks on this machine: the GPU a rank uses by default.
  virtual int local_rank() const = 0;
  // What the group runs on, for the start-up line: "MPI", "NCCL", ...
  virtual const char* name() const = 0;

  // Starts tensor = sum of tensor over all ranks, in place; the tensor must
  // stay alive and untouched until the Pending's wait() returns.
  virtual std::unique_ptr<Pending> start_all_reduce_sum(const Tensor& tensor) = 0;
  // tensor = rank root's tensor, in place.
  virtual void broadcast(const Tensor& tensor, int root) = 0;
  // Returns when every rank has called it.
  virtual void barrier() = 0;
  // Ends every rank of the group with exit_code (after this rank printed why).
  [[noreturn]] virtual void abort(int exit_code) = 0;

  bool is_root() const { return rank() == 0; }
  void all_reduce_sum(const Tensor& tensor) { start_all_reduce_sum(tensor)->wait(); }
  // tensor = the mean of tensor over all ranks, in place.
  void all_reduce_average(const Tensor& tensor) {
    all_reduce_sum(tensor);
    ops::copy_(tensor, ops::mul(tensor, 1.0 / size()));
  }
};

// The launcher's ranks of this process, from its environment: Open MPI's
// mpirun (OMPI_COMM_WORLD_*), PMIx or PMI (PMIX_RANK, PMI_RANK / PMI_SIZE: srun
// --mpi=pmix | pmi2, MPICH's mpiexec) or Slurm's srun (SLURM_PROCID /
// SLURM_STEP_NUM_TASKS). A process started on its own is rank 0 of 1.
struct LaunchInfo {
  int rank = 0, size = 1;
  bool launched = false;  // started by one of these launchers
};
LaunchInfo launch_info();

// A group of one (what start_communicator() returns without a launcher).
std::unique_ptr<Communicator> single_process();

// The group this process belongs to: MPI (MPI_Init) when a launcher started
// it, else a group of one. Throws pf::Error when a launcher started it and
// this build has no MPI.
std::unique_ptr<Communicator> start_communicator();

}  // namespace pf::nn
