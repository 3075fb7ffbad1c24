// Polling a CUDA event (cudaEventQuery) or stream (cudaStreamQuery) for
// Communicator::Pending::test(). cudaErrorNotReady means "still running" and
// is no error, but the runtime also keeps it as its last error, where the next
// launch's cudaGetLastError() (cuda/common.cuh, launch()) would report it as a
// failure ("device not ready"). So a poll that sees it reads the last error
// back, as PyTorch's CUDAEvent::query() does.
//
// Header only and free of CUDA: the runtime's calls come in as arguments, so
// the CPU tests run this same rule against a fake runtime with CUDA's sticky
// last-error slot (tests/nn/distributed/test_grad_reducer_polling.cpp).
//
//   return poll_finished(cudaEventQuery(done_), cudaSuccess, cudaErrorNotReady, cudaGetLastError, fail);
#pragma once

namespace pf::cuda {

// True when `status` is `success`; false when it is `not_ready`, after
// clearing the last-error slot with get_last_error(); else fail(status),
// which throws.
template <typename Status, typename GetLastError, typename Fail>
bool poll_finished(Status status, Status success, Status not_ready, GetLastError get_last_error, Fail fail) {
  if (status == success) return true;
  if (status == not_ready) {
    (void)get_last_error();
    return false;
  }
  fail(status);
  return false;
}

}  // namespace pf::cuda
