// NCCL group set-up and the collectives on the communicator's own stream.
#include "cuda/nccl_communicator.h"

#include <sys/statvfs.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "cuda/check.h"
#include "cuda/collective_watchdog.h"
#include "cuda/cuda_backend.h"
#include "cuda/event_poll.h"

namespace pf::cuda {

namespace {

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return ncclFloat32;
    case DType::f64: return ncclFloat64;
    case DType::bf16: return ncclBfloat16;
    case DType::f16: return ncclFloat16;
    case DType::i32: return ncclInt32;
    case DType::i64: return ncclInt64;
    case DType::u8: return ncclUint8;
  }
  PF_FAIL("nccl", "no NCCL type for ", dtype);
}

void check_device_tensor(const Tensor& tensor, const char* op) {
  PF_CHECK(tensor.device().is_cuda() && tensor.is_contiguous(), op, "needs a contiguous CUDA tensor, got ",
           describe(tensor), " (HINT: host tensors go through MPI)");
}

bool event_done(cudaEvent_t event) {
  return poll_finished(cudaEventQuery(event), cudaSuccess, cudaErrorNotReady, cudaGetLastError,
                       [](cudaError_t status) { cudaCheck(status); });
}

// A collective `op` queued on the comm stream; `done` is recorded after it.
class NcclPending final : public nn::Communicator::Pending {
 public:
  NcclPending(NcclCommunicator& comm, cudaStream_t comm_stream, const char* op) : comm_(comm), op_(op) {
    cudaCheck(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
    cudaCheck(cudaEventRecord(done_, comm_stream));
  }
  ~NcclPending() override { cudaEventDestroy(done_); }
  bool test() override { return event_done(done_); }
  // The host waits for the result, so later compute-stream work is queued
  // after it; the watchdog ends the wait when another rank is gone.
  void wait() override { comm_.wait_for(done_, op_); }

 private:
  NcclCommunicator& comm_;
  const char* op_;
  cudaEvent_t done_ = nullptr;
};

// The one line of advice for a /dev/shm too small for NCCL, on stderr.
void warn_about_shared_memory() {
  struct statvfs shm {};
  if (statvfs("/dev/shm", &shm) != 0) return;
  const std::string advice = shared_memory_advice(uint64_t(shm.f_bavail) * uint64_t(shm.f_frsize));
  if (!advice.empty()) std::fprintf(stderr, "%s\n", advice.c_str());
}

}  // namespace

ncclUniqueId NcclCommunicator::new_unique_id() {
  ncclUniqueId id;
  ncclCheck(ncclGetUniqueId(&id));
  return id;
}

NcclCommunicator::NcclCommunicator(const ncclUniqueId& id, int rank, int size, int local_rank)
    : device_(cuda_backend().device()),
      rank_(rank),
      size_(size),
      local_rank_(local_rank),
      timeout_s_(collective_timeout_s(std::getenv("PF_NCCL_TIMEOUT_S"))) {
  PF_CHECK(size >= 1 && rank >= 0 && rank < size, "nccl", "rank ", rank, " outside a group of ", size);
  if (size > 1) warn_about_shared_memory();
  cudaCheck(cudaSetDevice(device_));
  const ncclResult_t joined = ncclCommInitRank(&comm_, size, id, rank);
  PF_CHECK(joined == ncclSuccess, "nccl", "rank ", rank, " of ", size, " could not join the group on cuda:", device_,
           ": ", ncclGetErrorString(joined),
           joined == ncclInvalidUsage ? "; " + duplicate_gpu_hint(device_, local_rank) : std::string());
  cudaCheck(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
}

NcclCommunicator::~NcclCommunicator() {
  if (comm_) ncclCommDestroy(comm_);
  cudaStreamDestroy(stream_);
}

void NcclCommunicator::abort_comm() {
  if (comm_) ncclCommAbort(comm_);
  comm_ = nullptr;
}

void NcclCommunicator::wait_for(cudaEvent_t done, const char* op) {
  PF_CHECK(comm_ != nullptr, "nccl", op, " on rank ", rank_, ": the group was aborted by an earlier error");
  using Clock = std::chrono::steady_clock;
  wait_for_collective(
      std::string(op) + " on rank " + std::to_string(rank_) + " of " + std::to_string(size_), timeout_s_,
      [&] { return event_done(done); },
      [&] {
        ncclResult_t state = ncclSuccess;
        ncclCheck(ncclCommGetAsyncError(comm_, &state));
        if (state == ncclSuccess || state == ncclInProgress) return std::string();
        return std::string(ncclGetErrorString(state)) + " (" + ncclGetLastError(comm_) + ")";
      },
      [&] { abort_comm(); },
      [] { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); },
      [] { std::this_thread::sleep_for(std::chrono::microseconds(50)); });
}

cudaStream_t NcclCommunicator::begin_collective() {
  cudaEvent_t ready;
  cudaCheck(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
  cudaCheck(cudaEventRecord(ready, cuda_backend().stream()));
  cudaCheck(cudaStreamWaitEvent(stream_, ready, 0));
  cudaCheck(cudaEventDestroy(ready));  // released once the stream has passed it
  return stream_;
}

std::unique_ptr<nn::Communicator::Pending> NcclCommunicator::start_all_reduce_sum(const Tensor& tensor) {
  check_device_tensor(tensor, "all_reduce_sum");
  void* data = tensor.raw_data();
  const cudaStream_t stream = begin_collective();
  ncclCheck(ncclAllReduce(data, data, size_t(tensor.numel()), nccl_type(tensor.dtype()), ncclSum, comm_, stream));
  return std::make_unique<NcclPending>(*this, stream, "all_reduce_sum");
}

void NcclCommunicator::broadcast(const Tensor& tensor, int root) {
  check_device_tensor(tensor, "broadcast");
  void* data = tensor.raw_data();
  const cudaStream_t stream = begin_collective();
  ncclCheck(ncclBroadcast(data, data, size_t(tensor.numel()), nccl_type(tensor.dtype()), root, comm_, stream));
  NcclPending(*this, stream, "broadcast").wait();
}

void NcclCommunicator::barrier() {
  const Tensor one = Tensor::zeros({1}, DType::f32, Device::cuda(device_));  // this rank's GPU, not cuda:0
  start_all_reduce_sum(one)->wait();
  cudaCheck(cudaStreamSynchronize(cuda_backend().stream()));
}

void NcclCommunicator::abort(int exit_code) {
  std::fflush(stderr);
  abort_comm();
  std::exit(exit_code);
}

}  // namespace pf::cuda
