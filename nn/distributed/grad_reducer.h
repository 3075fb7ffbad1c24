// GradReducer: sums the gradients of a model's parameters over the ranks of a
// Communicator during backward (data parallel), the way PyTorch's DDP does.
// The parameters are grouped into buckets of about bucket_bytes, in reverse
// order (backward reaches the last layers first); while armed, backward()'s
// grad-ready hook (autograd/node.h) copies each final gradient into its
// bucket, and a bucket starts its all-reduce as soon as its last gradient is
// in, so communication overlaps the rest of backward. finish() starts what is
// left, waits for all buckets and points every .grad at its slice of the
// summed bucket.
//
//   GradReducer reducer(model.parameters(), comm, 25 << 20);
//   reducer.arm();  loss.backward();  reducer.finish();  // .grad = sum over ranks
//
// Every rank must run the same graph: the hook then fires in the same order
// on every rank, so the collectives start in the same order.
#pragma once
#include <memory>
#include <unordered_map>
#include <vector>

#include "nn/distributed/communicator.h"

namespace pf::nn {

class GradReducer {
 public:
  GradReducer(std::vector<Tensor> params, Communicator& comm, int64_t bucket_bytes);
  ~GradReducer();  // disarms
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  // The next backward() reports final gradients to this reducer.
  void arm();
  // Disarms, starts the buckets not started yet (a parameter without a
  // gradient contributes zeros), waits for all of them and sets each
  // parameter's .grad to its slice of the summed bucket.
  void finish();

  int64_t buckets() const { return int64_t(buckets_.size()); }
  // Seconds spent in finish() waiting for all-reduces, since construction.
  double wait_seconds() const { return wait_seconds_; }

 private:
  struct Bucket {
    Tensor flat;                  // [sum of its parameters' numel], the gradients back to back
    std::vector<size_t> members;  // indices into params_
    size_t filled = 0;            // members whose gradient is in flat
    std::unique_ptr<Communicator::Pending> pending;  // set once started
  };
  struct Slot {
    size_t bucket;
    int64_t offset;     // into the bucket's flat tensor
    bool filled;        // this backward's gradient is in the bucket
  };
  void on_grad_ready(const Tensor& param);
  void fill(size_t index);  // copies params_[index]'s gradient (or zeros) into its bucket
  void start(Bucket& bucket);
  Tensor slice(size_t index) const;  // params_[index]'s part of its bucket, in its shape

  std::vector<Tensor> params_;
  Communicator& comm_;
  std::vector<Bucket> buckets_;
  std::vector<Slot> slots_;                                 // one per parameter
  std::unordered_map<const TensorImpl*, size_t> index_of_;  // parameter -> index into params_
  double wait_seconds_ = 0;
};

}  // namespace pf::nn
