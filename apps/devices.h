// Plugs in the CUDA backend when this build has one (pf_cuda linked), lazily:
// nothing touches a GPU until the first tensor on Device::cuda(n), which opens
// GPU n. A no-op in a CPU-only build (then asking for device cuda fails with a
// clear pf::Error), and a device: cpu run never opens a CUDA context.
// With NCCL, gpu_communicator() joins the ranks of a data-parallel run into
// an NCCL group for the gradients of a model on the GPU.
#pragma once
#include <cstring>
#include <memory>

#include "core/backend.h"
#include "nn/distributed/communicator.h"
#ifdef PF_HAVE_CUDA
#include "cuda/register.h"
#endif
#ifdef PF_HAVE_NCCL
#include "cuda/nccl_communicator.h"
#endif

inline void register_devices() {
#ifdef PF_HAVE_CUDA
  pf::cuda::enable_lazy_backend();
#endif
}

// An NCCL group of world's ranks (rank 0's unique id broadcast over world),
// or nullptr with a single rank. Throws pf::Error without NCCL.
// gpu is this rank's GPU, opened here before NCCL joins it.
inline std::unique_ptr<pf::nn::Communicator> gpu_communicator(pf::nn::Communicator& world, pf::Device gpu) {
  if (world.size() == 1) return nullptr;
#ifdef PF_HAVE_NCCL
  pf::backend_for(gpu);
  ncclUniqueId id{};
  if (world.is_root()) id = pf::cuda::NcclCommunicator::new_unique_id();
  const pf::Tensor bytes = pf::Tensor::zeros({int64_t(sizeof id)}, pf::DType::u8);  // [128] on the host
  std::memcpy(bytes.raw_data(), &id, sizeof id);
  world.broadcast(bytes, 0);
  std::memcpy(&id, bytes.raw_data(), sizeof id);
  return std::make_unique<pf::cuda::NcclCommunicator>(id, world.rank(), world.size(), world.local_rank());
#else
  (void)gpu;
  PF_FAIL("pf-train", "train.device is a GPU and there are ", world.size(),
          " ranks, but this build has no NCCL (HINT: install NCCL (libnccl-dev) and rebuild, or train on the CPU)");
#endif
}
