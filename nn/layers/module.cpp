#include "nn/layers/module.h"

namespace pf::nn {

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  value.set_requires_grad(true);
  params_.emplace_back(name, value);
  return value;
}

void Module::collect(const std::string& prefix, NamedTensors& out) const {
  for (const auto& [name, p] : params_) out.emplace_back(prefix + name, p);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

Tensor Module::parameter(const std::string& name) const {
  for (auto& [n, p] : named_parameters())
    if (n == name) return p;
  PF_FAIL("parameter", "no parameter named '", name, "'");
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (const Tensor& p : parameters()) p.set_grad(Tensor());
}

void replace_data(const Tensor& p, const Tensor& value) {
  TensorImpl& impl = p.impl();
  impl.storage = value.storage();
  impl.shape = value.shape();
  impl.strides = value.strides();
  impl.offset = value.offset();
  impl.dtype = value.dtype();
  impl.grad = nullptr;
}

void Module::to(Device device) {
  for (const Tensor& p : parameters()) replace_data(p, ops::to(p, device));
}

void Module::to(DType dtype) {
  for (const Tensor& p : parameters()) replace_data(p, ops::to(p, dtype));
}

}  // namespace pf::nn
