#include "core/tensor.h"

#include <atomic>
#include <iomanip>
#include <sstream>

#include "core/backend.h"
#include "core/ops.h"

namespace pf {

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

// ---- creation ----

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) PF_CHECK(s >= 0, "empty", "negative size in shape ", shape_str(shape));
  auto storage = std::make_shared<Storage>(size_t(shape_numel(shape)) * dtype_size(dtype), device);
  return view_of(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

Tensor Tensor::view_of(std::shared_ptr<Storage> storage, const Shape& shape, const Shape& strides, int64_t offset,
                       DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  backend_for(device).fill(t, value);
  return t;
}
Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  std::vector<double> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[size_t(i)] = double(i);
  return ops::to(from_vector(values, {n}, device), dtype);
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  PF_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector", values.size(), " values for shape ",
           shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>::value, device);
  backend_for(device).copy_from_host(values.data(), t.raw_data(), values.size() * sizeof(T));
  return t;
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int32_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int64_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<uint8_t>&, const Shape&, Device);

// ---- metadata ----

TensorImpl& Tensor::impl() const {
  PF_CHECK(impl_ != nullptr, "tensor", "use of an undefined tensor");
  return *impl_;
}

int64_t Tensor::wrap_dim(int64_t d) const {
  int64_t n = dim();
  PF_CHECK(d >= -n && d < n, "dim", "dimension ", d, " out of range for a ", n, "-d tensor ", shape_str(shape()));
  return d < 0 ? d + n : d;
}

int64_t Tensor::size(int64_t d) const { return shape()[size_t(wrap_dim(d))]; }
int64_t Tensor::stride(int64_t d) const { return strides()[size_t(wrap_dim(d))]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape().size(); i-- > 0;) {
    if (shape()[i] == 1) continue;  // the stride of a size-1 dim never matters
    if (strides()[i] != expected) return false;
    expected *= shape()[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data()) + offset() * int64_t(dtype_size(dtype()));
}

// ---- host access ----

namespace {
std::atomic<int64_t> g_host_reads{0};
}  // namespace

int64_t host_reads() { return g_host_reads.load(); }

template <typename T>
std::vector<T> Tensor::to_vector() const {
  ++g_host_reads;
  Tensor host = ops::contiguous(ops::to(ops::to(*this, Device::cpu()), dtype_of<T>::value));
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<int64_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;

double Tensor::item() const {
  PF_CHECK(numel() == 1, "item", "expected one element, got shape ", shape_str(shape()));
  return to_vector<double>()[0];
}

// ---- autograd fields ----

Tensor& Tensor::set_requires_grad(bool on) {
  PF_CHECK(!on || is_floating(dtype()), "requires_grad", "only floating tensors can require grad, got ", dtype());
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::detach() const {
  return view_of(storage(), shape(), strides(), offset(), dtype());
}

// ---- printing ----

std::string describe(const Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream os;
  os << t.dtype() << shape_str(t.shape()) << " on " << t.device();
  return os.str();
}

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  os << "Tensor(" << describe(*this) << (requires_grad() ? ", requires_grad" : "") << ")\n";
  std::vector<double> values = to_vector<double>();
  const int64_t row = dim() == 0 ? 1 : size(-1);
  const size_t max_rows = 6, max_cols = 8;
  size_t rows = values.size() / size_t(std::max<int64_t>(row, 1));
  os << std::setprecision(5);
  for (size_t r = 0; r < rows; ++r) {
    if (r == max_rows / 2 && rows > max_rows) {
      os << "  ...\n";
      r = rows - max_rows / 2;
    }
    os << "  [";
    for (size_t c = 0; c < size_t(row); ++c) {
      if (c == max_cols / 2 && size_t(row) > max_cols) {
        os << " ...";
        c = size_t(row) - max_cols / 2;
      }
      os << (c ? " " : "") << values[r * size_t(row) + c];
    }
    os << "]\n";
  }
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace pf
