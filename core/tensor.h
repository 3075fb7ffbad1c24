// Tensor: a view (shape, strides, offset, dtype) onto a shared Storage, plus
// the autograd fields that autograd/ fills in. Copying a Tensor copies the
// handle, not the data (like torch.Tensor).
//
// This header holds the data model only. Arithmetic lives in two layers:
//   core/ops.h          pf::ops::*  raw ops: check, allocate, dispatch to a backend
//   autograd/functional.h  pf::*    differentiable ops built on pf::ops, recorded
//                                   for backward()
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/storage.h"

namespace pf {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& shape);  // "[2, 3]"
int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);  // row-major strides in elements

struct Node;  // autograd/node.h

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;       // in elements
  int64_t offset = 0;  // in elements, from storage->data()
  DType dtype = DType::f32;

  // Autograd. grad_fn is set on tensors produced by a recorded op; leaves that
  // require grad accumulate into grad.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;
};

// How many times to_vector() or item() has read tensor values into host
// memory, in this process. From a GPU each read waits for all queued work:
// tests count them to keep them out of per-step paths.
int64_t host_reads();

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (no storage)
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation ----
  // Uninitialised contiguous tensor.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::cpu());
  // [n] holding 0, 1, ..., n-1.
  static Tensor arange(int64_t n, DType dtype = DType::f32, Device device = Device::cpu());
  // Copies `values` (row-major, numel(shape) of them) into a new tensor.
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());
  // A 0-d tensor.
  static Tensor scalar(double value, DType dtype = DType::f32, Device device = Device::cpu());
  // A view onto an existing storage.
  static Tensor view_of(std::shared_ptr<Storage> storage, const Shape& shape, const Shape& strides, int64_t offset,
                        DType dtype);

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t offset() const { return impl().offset; }
  int64_t dim() const { return int64_t(impl().shape.size()); }
  // Size of dimension d; negative d counts from the end.
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t numel() const { return shape_numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  // Pointer to the first element (offset applied). Checks that T matches dtype.
  template <typename T>
  T* data() const;
  void* raw_data() const;
  // Normalises a possibly negative dimension index; throws if out of range.
  int64_t wrap_dim(int64_t d) const;

  // ---- host access (copies device data through the host when needed) ----
  template <typename T>
  std::vector<T> to_vector() const;  // row-major, converted to T
  double item() const;               // value of a one-element tensor

  // ---- autograd (see autograd/) ----
  bool requires_grad() const { return impl().requires_grad; }
  // Marks a leaf as trainable. Returns *this for chaining.
  Tensor& set_requires_grad(bool on);
  // Accumulated gradient of a leaf; undefined before the first backward().
  Tensor grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }
  void set_grad(const Tensor& g) const { impl().grad = g.impl_; }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  // Shares the data, drops the autograd history.
  Tensor detach() const;
  // Reverse-mode differentiation from this scalar (defined in autograd/engine.cpp).
  void backward(bool retain_graph = false) const;

  // ---- identity ----
  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // Multi-line printout with shape, dtype, device and (abbreviated) values.
  std::string str() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);
// "f32[2, 3] on cpu", used in error messages.
std::string describe(const Tensor& t);

// ---- template definitions ----
template <typename T>
T* Tensor::data() const {
  PF_CHECK(dtype_of<T>::value == dtype(), "data", "tensor is ", dtype(), ", asked for ", dtype_of<T>::value);
  return static_cast<T*>(raw_data());
}

}  // namespace pf
