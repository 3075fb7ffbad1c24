// MpiCommunicator: the ranks that mpirun (or srun) started, over MPI_COMM_WORLD,
// for tensors in host memory (built only when CMake finds MPI: PF_HAVE_MPI).
// The constructor calls MPI_Init, the destructor MPI_Finalize: make one per
// process (start_communicator() in communicator.h does).
//
// Every collective is a non-blocking MPI call (MPI_Iallreduce, MPI_Ibcast,
// MPI_Ibarrier) waited for by polling with a deadline: a rank that stays away
// longer than kTimeoutSeconds (another rank died or hangs) aborts the whole job
// with a message rather than waiting for ever.
#pragma once
#include <mpi.h>

#include "nn/distributed/communicator.h"

namespace pf::nn {

class MpiCommunicator final : public Communicator {
 public:
  static constexpr double kTimeoutSeconds = 600;

  MpiCommunicator();  // MPI_Init
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  const char* name() const override { return "MPI"; }

  // f32, f64, i32, i64 or u8 tensors on the CPU, contiguous.
  std::unique_ptr<Pending> start_all_reduce_sum(const Tensor& tensor) override;
  void broadcast(const Tensor& tensor, int root) override;  // any dtype
  void barrier() override;
  [[noreturn]] void abort(int exit_code) override;

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0;
};

}  // namespace pf::nn
