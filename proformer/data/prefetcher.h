// Builds batches on a background thread while the model trains on the current
// one. The stream is exactly the BatchIterator's: prefetching changes when a
// batch is built, never what it contains.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "proformer/data/batches.h"

namespace pf::proformer {

class Prefetcher {
 public:
  // Starts a worker thread that runs `batches` ahead of the consumer, keeping
  // at most `depth` (>= 1) finished batches in a queue.
  explicit Prefetcher(BatchIterator batches, size_t depth = 2);
  // Stops and joins the worker (see stop()).
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // The next batch, in the iterator's order; blocks until it is ready. If
  // building a batch threw on the worker, the batches before it are returned
  // first and then that exception is rethrown here (and on every later call).
  Batch next();
  // Position of the batch the next call to next() returns (for checkpoints).
  BatchPosition position() const { return position_; }
  // Stops the worker and discards queued batches; next() then throws.
  // Safe to call more than once; the destructor calls it.
  void stop();

 private:
  void run();  // the worker's loop

  BatchIterator batches_;     // the worker calls next(); the consumer only the const after()
  const size_t depth_;
  BatchPosition position_;    // consumer side

  std::mutex mutex_;          // guards the members below
  std::condition_variable not_full_;   // signalled when the consumer takes a batch or stop()
  std::condition_variable not_empty_;  // signalled when the worker adds a batch, fails, or stop()
  std::deque<Batch> queue_;
  std::exception_ptr error_;  // set by the worker when building a batch threw
  bool stopping_ = false;

  std::thread worker_;        // declared last: starts after every member above exists
};

}  // namespace pf::proformer
