// MPI set-up, the collectives as MPI-3 non-blocking calls, and the deadline.
#include "nn/distributed/mpi_communicator.h"

#include <chrono>
#include <cstdio>
#include <thread>

namespace pf::nn {

namespace {

// Checks an MPI call's return code (MPI_ERRORS_RETURN is set on the world).
#define mpiCheck(call)                                                                                \
  do {                                                                                                \
    const int pf_status_ = (call);                                                                    \
    if (pf_status_ != MPI_SUCCESS) {                                                                  \
      char pf_text_[MPI_MAX_ERROR_STRING];                                                            \
      int pf_length_ = 0;                                                                             \
      MPI_Error_string(pf_status_, pf_text_, &pf_length_);                                            \
      ::pf::detail::throw_error(__FILE__, __LINE__, "mpi", #call, " failed: ", std::string(pf_text_)); \
    }                                                                                                 \
  } while (0)

void check_host_tensor(const Tensor& tensor, const char* op) {
  PF_CHECK(tensor.device().is_cpu() && tensor.is_contiguous(), op, "needs a contiguous CPU tensor, got ",
           describe(tensor), " (HINT: device tensors go through NCCL)");
}

MPI_Datatype mpi_sum_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i32: return MPI_INT32_T;
    case DType::i64: return MPI_INT64_T;
    case DType::u8: return MPI_UINT8_T;
    default: PF_FAIL("all_reduce_sum", "MPI cannot sum ", dtype, " tensors (HINT: all-reduce them in f32)");
  }
}

// One non-blocking MPI collective.
class MpiPending final : public Communicator::Pending {
 public:
  MpiPending(MpiCommunicator& comm, const char* what) : comm_(comm), what_(what) {}
  MPI_Request request = MPI_REQUEST_NULL;

  bool test() override {
    int done = 0;
    mpiCheck(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    return done != 0;
  }
  void wait() override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(comm_.kTimeoutSeconds);
    while (!test()) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "rank %d: %s waited more than %.0f s for the other ranks (one died or hangs): aborting\n",
                     comm_.rank(), what_, comm_.kTimeoutSeconds);
        comm_.abort(1);
      }
      std::this_thread::yield();  // ranks may share cores (mpirun --oversubscribe)
    }
  }

 private:
  MpiCommunicator& comm_;
  const char* what_;
};

}  // namespace

MpiCommunicator::MpiCommunicator() {
  int initialized = 0;
  mpiCheck(MPI_Initialized(&initialized));
  PF_CHECK(!initialized, "mpi", "MPI is initialised already (HINT: make one MpiCommunicator per process)");
  mpiCheck(MPI_Init(nullptr, nullptr));
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  mpiCheck(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  mpiCheck(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  MPI_Comm node;  // the ranks that share this machine's memory
  mpiCheck(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node));
  mpiCheck(MPI_Comm_rank(node, &local_rank_));
  MPI_Comm_free(&node);
}

MpiCommunicator::~MpiCommunicator() { MPI_Finalize(); }

std::unique_ptr<Communicator::Pending> MpiCommunicator::start_all_reduce_sum(const Tensor& tensor) {
  check_host_tensor(tensor, "all_reduce_sum");
  auto pending = std::make_unique<MpiPending>(*this, "all_reduce_sum");
  mpiCheck(MPI_Iallreduce(MPI_IN_PLACE, tensor.raw_data(), int(tensor.numel()), mpi_sum_type(tensor.dtype()), MPI_SUM,
                          MPI_COMM_WORLD, &pending->request));
  return pending;
}

void MpiCommunicator::broadcast(const Tensor& tensor, int root) {
  check_host_tensor(tensor, "broadcast");
  MpiPending pending(*this, "broadcast");
  const int64_t bytes = tensor.numel() * int64_t(dtype_size(tensor.dtype()));
  mpiCheck(MPI_Ibcast(tensor.raw_data(), int(bytes), MPI_BYTE, root, MPI_COMM_WORLD, &pending.request));
  pending.wait();
}

void MpiCommunicator::barrier() {
  MpiPending pending(*this, "barrier");
  mpiCheck(MPI_Ibarrier(MPI_COMM_WORLD, &pending.request));
  pending.wait();
}

void MpiCommunicator::abort(int exit_code) {
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::exit(exit_code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

}  // namespace pf::nn
