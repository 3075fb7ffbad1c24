// NcclCommunicator: this process's rank in an NCCL group, one process per GPU
// (built only when NCCL is found: PF_HAVE_NCCL). Rank 0 creates the group's
// unique id with new_unique_id() and hands its bytes to the other ranks by any
// channel (file, socket, launcher environment); every rank then constructs a
// communicator from it. Collectives run on the CUDA backend's stream, so they
// are ordered after the kernels that produced their input.
//
//   pf::cuda::register_backend(local_rank);
//   pf::cuda::NcclCommunicator comm(id, rank, world_size);  // blocks until all ranks join
//   comm.all_reduce_sum(grad);                              // grad = sum over ranks
#pragma once
#include <nccl.h>

#include "core/tensor.h"

namespace pf::cuda {

class NcclCommunicator {
 public:
  static ncclUniqueId new_unique_id();

  // Joins the group `id` as `rank` of `size`; needs the registered CUDA backend.
  NcclCommunicator(const ncclUniqueId& id, int rank, int size);
  ~NcclCommunicator();
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  // tensor = the sum of tensor over all ranks, in place. tensor is contiguous,
  // on the GPU and of the same shape and dtype on every rank.
  void all_reduce_sum(const Tensor& tensor);

 private:
  ncclComm_t comm_ = nullptr;
  int rank_, size_;
};

}  // namespace pf::cuda
