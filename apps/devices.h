// Plugs in the CUDA backend when this build has one (pf_cuda linked), so that
// tensors on Device::cuda() work; a no-op in a CPU-only build or on a machine
// without a GPU (then asking for device cuda fails with a clear pf::Error).
// With NCCL, gpu_communicator() joins the ranks of a data-parallel run into
// an NCCL group for the gradients of a model on the GPU.
#pragma once
#include <cstring>
#include <memory>

#include "nn/communicator.h"
#ifdef PF_HAVE_CUDA
#include "cuda/register.h"
#endif
#ifdef PF_HAVE_NCCL
#include "cuda/nccl_communicator.h"
#endif

// gpu: the GPU of this process (a data-parallel rank's local rank).
inline void register_devices(int gpu = 0) {
#ifdef PF_HAVE_CUDA
  pf::cuda::register_backend(gpu);
#endif
  (void)gpu;
}

// An NCCL group of world's ranks (rank 0's unique id broadcast over world),
// or nullptr with a single rank. Throws pf::Error without NCCL.
inline std::unique_ptr<pf::nn::Communicator> gpu_communicator(pf::nn::Communicator& world) {
  if (world.size() == 1) return nullptr;
#ifdef PF_HAVE_NCCL
  ncclUniqueId id{};
  if (world.is_root()) id = pf::cuda::NcclCommunicator::new_unique_id();
  const pf::Tensor bytes = pf::Tensor::zeros({int64_t(sizeof id)}, pf::DType::u8);  // [128] on the host
  std::memcpy(bytes.raw_data(), &id, sizeof id);
  world.broadcast(bytes, 0);
  std::memcpy(&id, bytes.raw_data(), sizeof id);
  return std::make_unique<pf::cuda::NcclCommunicator>(id, world.rank(), world.size(), world.local_rank());
#else
  PF_FAIL("pf-train", "train.device is a GPU and there are ", world.size(),
          " ranks, but this build has no NCCL (HINT: install NCCL (libnccl-dev) and rebuild, or train on the CPU)");
#endif
}
