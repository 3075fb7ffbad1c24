// NcclCommunicator: this process's rank in an NCCL group, one process per GPU,
// for tensors on the GPU (built only when NCCL is found: PF_HAVE_NCCL). It is
// an nn::Communicator (nn/distributed/communicator.h, a header-only interface: pf_cuda
// does not link pf_nn). Rank 0 creates the group's unique id with
// new_unique_id() and hands its bytes to the other ranks over MPI (pf-train
// broadcasts them with the MPI communicator); every rank then constructs a
// communicator from it.
//
// Collectives run on a stream of their own: a collective waits (on the GPU)
// for the kernels queued on the backend's compute stream before it starts, so
// all-reduces overlap the rest of backward. Pending::wait() waits for the
// result on the host, under a watchdog (cuda/collective_watchdog.h): when
// another rank dies, this one throws pf::Error after PF_NCCL_TIMEOUT_S
// (default 300 s) or at NCCL's first asynchronous error, instead of hanging.
//
//   pf::cuda::register_backend(local_rank);
//   pf::cuda::NcclCommunicator comm(id, rank, world_size);  // blocks until all ranks join
//   comm.all_reduce_sum(grad);                              // grad = sum over ranks
#pragma once
#include <cuda_runtime.h>
#include <nccl.h>

#include "nn/distributed/communicator.h"

namespace pf::cuda {

class NcclCommunicator final : public nn::Communicator {
 public:
  static ncclUniqueId new_unique_id();

  // Joins the group `id` as `rank` of `size`; needs the registered CUDA backend.
  NcclCommunicator(const ncclUniqueId& id, int rank, int size, int local_rank = 0);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  const char* name() const override { return "NCCL"; }

  // Contiguous CUDA tensors of the same shape and dtype on every rank.
  std::unique_ptr<Pending> start_all_reduce_sum(const Tensor& tensor) override;
  void broadcast(const Tensor& tensor, int root) override;
  void barrier() override;  // a one-element all-reduce, waited for on the host
  // ncclCommAbort: collectives in flight on other ranks fail instead of hanging.
  [[noreturn]] void abort(int exit_code) override;

  // Blocks the host until `done` (recorded after collective `op`) has
  // happened; aborts the group and throws pf::Error on an NCCL error or after
  // the timeout.
  void wait_for(cudaEvent_t done, const char* op);

 private:
  cudaStream_t begin_collective();  // the comm stream, after the compute stream's work so far
  void abort_comm();                // ncclCommAbort once; the destructor then destroys nothing

  int device_;  // the backend's GPU when the group was joined: this rank's
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int rank_, size_, local_rank_;
  double timeout_s_;  // PF_NCCL_TIMEOUT_S
};

}  // namespace pf::cuda
