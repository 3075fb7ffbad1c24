#include "nn/optim/flat_parameters.h"

#include "core/backend.h"

namespace pf::nn {

namespace {

int64_t round_up(int64_t n, int64_t multiple) { return (n + multiple - 1) / multiple * multiple; }

bool views_at(const Tensor& t, const Tensor& flat, int64_t offset) {
  return t.storage() == flat.storage() && t.offset() == offset;
}

}  // namespace

FlatParameters::FlatParameters(NamedTensors params) : params_(std::move(params)), offsets_{0} {
  NoGradGuard no_grad;
  const Tensor first = params_.empty() ? Tensor::empty({0}) : params_[0].second;
  for (const auto& [name, p] : params_) {
    PF_CHECK(p.is_leaf() && is_floating(p.dtype()) && p.dtype() == first.dtype() && p.device() == first.device(),
             "FlatParameters", "'", name, "' is ", describe(p), ", the first parameter ", describe(first),
             ": every parameter must be a floating leaf of the same dtype on the same device");
    offsets_.push_back(round_up(offsets_.back() + p.numel(), kAlignment));  // the next one's start
  }
  values_ = Tensor::zeros({offsets_.back()}, first.dtype(), first.device());     // the padding stays zero
  gradients_ = Tensor::zeros({offsets_.back()}, first.dtype(), first.device());  // in both
  device_offsets_ = ops::to(Tensor::from_vector(offsets_, {int64_t(offsets_.size())}), first.device());
  for (size_t p = 0; p < params_.size(); ++p) {
    const Tensor& param = params_[p].second;
    const Tensor place = view(values_, p);
    const Tensor grad = param.grad();
    ops::copy_(place, param);
    replace_data(param, place);
    param.set_grad(grad);  // a gradient made before is gathered at the next step
  }
}

Tensor FlatParameters::view(const Tensor& flat, size_t p) const {
  const Shape& shape = params_[p].second.shape();
  return Tensor::view_of(flat.storage(), shape, contiguous_strides(shape), flat.offset() + offsets_[p], flat.dtype());
}

const Tensor& FlatParameters::gather_gradients() {
  NoGradGuard no_grad;
  all_have_gradients_ = true;
  for (size_t p = 0; p < params_.size(); ++p) {
    const auto& [name, param] = params_[p];
    PF_CHECK(views_at(param, values_, offsets_[p]), "FlatParameters", "parameter '", name,
             "' no longer views the optimiser's flat buffer (HINT: load new values with ops::copy_ instead of ",
             "replacing the tensor, and move the model to its device before building the optimiser)");
    const Tensor grad = param.grad();
    const Tensor place = view(gradients_, p);
    if (!grad.defined()) {
      all_have_gradients_ = false;
      ops::fill_(place, 0.0);
      continue;
    }
    if (views_at(grad, gradients_, offsets_[p])) continue;  // gathered already this step
    PF_CHECK(grad.shape() == param.shape() && grad.dtype() == param.dtype(), "FlatParameters", "the gradient of '",
             name, "' is ", describe(grad), ", the parameter ", describe(param));
    ops::copy_(place, grad);
    param.set_grad(place);
  }
  return gradients_;
}

void FlatParameters::check_flat(const Tensor& flat, const char* what) const {
  PF_CHECK(flat.dim() == 1 && flat.numel() == values_.numel() && flat.strides()[0] == 1 &&
               flat.dtype() == values_.dtype() && flat.device() == values_.device(),
           "FlatParameters", what, " needs a contiguous ", values_.dtype(), " [", values_.numel(), "] tensor on ",
           values_.device(), ", got ", describe(flat));
}

Tensor FlatParameters::sum_squares(const Tensor& flat) const {
  check_flat(flat, "sum_squares");
  Tensor out = Tensor::empty({int64_t(size())}, DType::f64, values_.device());  // [P]
  if (size() > 0) backend_for(values_.device()).segment_sum_squares(flat, device_offsets_, out);
  return out;
}

void FlatParameters::scale(const Tensor& flat, const Tensor& factor) const {
  check_flat(flat, "scale");
  PF_CHECK(factor.shape() == Shape{int64_t(size())} && factor.dtype() == DType::f64 &&
               factor.device() == values_.device() && factor.strides()[0] == 1,
           "FlatParameters", "scale needs a contiguous f64 [", size(), "] factor on ", values_.device(), ", got ",
           describe(factor));
  if (size() > 0) backend_for(values_.device()).scale_segments(flat, device_offsets_, factor);
}

}  // namespace pf::nn
