// Buckets, the grad-ready hook and the wait at the end of backward.
#include "nn/distributed/grad_reducer.h"

#include <chrono>

#include "autograd/node.h"

namespace pf::nn {

GradReducer::GradReducer(std::vector<Tensor> params, Communicator& comm, int64_t bucket_bytes)
    : params_(std::move(params)), comm_(comm), slots_(params_.size()) {
  PF_CHECK(bucket_bytes > 0, "GradReducer", "bucket_bytes = ", bucket_bytes, " (expected > 0)");
  // Reverse order: backward finishes the last layers' gradients first. A
  // bucket holds one dtype on one device and closes once it reaches bucket_bytes.
  int64_t bucket_numel = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const Tensor& p = params_[k];
    index_of_[p.impl_ptr().get()] = k;
    const bool fits = !buckets_.empty() && bucket_numel * int64_t(dtype_size(p.dtype())) < bucket_bytes &&
                      params_[buckets_.back().members.front()].dtype() == p.dtype() &&
                      params_[buckets_.back().members.front()].device() == p.device();
    if (!fits) {
      buckets_.emplace_back();
      bucket_numel = 0;
    }
    slots_[k] = {buckets_.size() - 1, bucket_numel, false};
    buckets_.back().members.push_back(k);
    bucket_numel += p.numel();
  }
  for (size_t b = 0; b < buckets_.size(); ++b) {
    const Tensor& first = params_[buckets_[b].members.front()];
    const Slot& last = slots_[buckets_[b].members.back()];
    const int64_t numel = last.offset + params_[buckets_[b].members.back()].numel();
    buckets_[b].flat = Tensor::zeros({numel}, first.dtype(), first.device());  // [numel]
  }
}

GradReducer::~GradReducer() { set_grad_ready_hook(nullptr); }

Tensor GradReducer::slice(size_t index) const {
  const Slot& slot = slots_[index];
  return ops::reshape(ops::narrow(buckets_[slot.bucket].flat, 0, slot.offset, params_[index].numel()),
                      params_[index].shape());
}

void GradReducer::arm() {
  for (Slot& slot : slots_) slot.filled = false;
  for (Bucket& bucket : buckets_) bucket.filled = 0;
  set_grad_ready_hook([this](const Tensor& leaf) { on_grad_ready(leaf); });
}

void GradReducer::fill(size_t index) {
  Slot& slot = slots_[index];
  const Tensor grad = params_[index].grad();
  if (grad.defined()) {
    ops::copy_(slice(index), grad);
  } else {
    ops::fill_(slice(index), 0.0);
  }
  slot.filled = true;
  Bucket& bucket = buckets_[slot.bucket];
  if (++bucket.filled == bucket.members.size()) start(bucket);
}

void GradReducer::start(Bucket& bucket) {
  bucket.pending = comm_.start_all_reduce_sum(bucket.flat);
  // MPI moves a non-blocking collective on only inside MPI calls: give the
  // started ones a turn each time another one starts.
  for (Bucket& other : buckets_)
    if (other.pending) other.pending->test();
}

void GradReducer::on_grad_ready(const Tensor& param) {
  const auto found = index_of_.find(param.impl_ptr().get());
  if (found != index_of_.end() && !slots_[found->second].filled) fill(found->second);
}

void GradReducer::finish() {
  set_grad_ready_hook(nullptr);
  // Gradients the hook did not report (no gradient reached them), in a fixed
  // order, so that every rank starts the remaining buckets in the same order.
  for (const Bucket& bucket : buckets_)
    for (size_t index : bucket.members)
      if (!slots_[index].filled) fill(index);
  const auto begin = std::chrono::steady_clock::now();
  for (Bucket& bucket : buckets_) {
    bucket.pending->wait();
    bucket.pending.reset();
  }
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  for (size_t k = 0; k < params_.size(); ++k) params_[k].set_grad(slice(k));
}

}  // namespace pf::nn
