#include "proformer/data/prefetcher.h"

#include "core/error.h"

namespace pf::proformer {

Prefetcher::Prefetcher(BatchIterator batches, size_t depth)
    : batches_(std::move(batches)), depth_(depth), position_(batches_.position()) {
  PF_CHECK(depth_ >= 1, "Prefetcher", "depth = ", depth_, " (expected >= 1)");
  worker_ = std::thread(&Prefetcher::run, this);
}

Prefetcher::~Prefetcher() { stop(); }

void Prefetcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  not_full_.notify_all();
  not_empty_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Prefetcher::run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      not_full_.wait(lock, [this] { return stopping_ || queue_.size() < depth_; });
      if (stopping_) return;
    }
    // Build outside the lock so the consumer can take queued batches meanwhile.
    Batch batch;
    try {
      batch = batches_.next();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      not_empty_.notify_one();
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(batch));
    not_empty_.notify_one();
  }
}

Batch Prefetcher::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  not_empty_.wait(lock, [this] { return stopping_ || !queue_.empty() || error_; });
  PF_CHECK(!stopping_, "Prefetcher::next", "called after stop() (expected a running prefetcher)");
  if (queue_.empty()) std::rethrow_exception(error_);
  Batch batch = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  not_full_.notify_one();
  // after() only reads the iterator's fixed epoch length, never what the worker changes.
  position_ = batches_.after(batch.position);
  return batch;
}

}  // namespace pf::proformer
