// Module: a named tree of parameters and sub-modules, like torch.nn.Module.
// Parameter names join the path with dots: "blocks.0.attn.q.weight".
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/functional.h"

namespace pf::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;

  // Every parameter of this module and its sub-modules, in registration order.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t parameter_count() const;
  // Finds a parameter by full name; throws pf::Error naming it when absent.
  Tensor parameter(const std::string& name) const;

  // Train mode enables dropout (and masking in the data pipeline's caller).
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Drops every parameter's .grad.
  void zero_grad();
  // Moves (and/or casts) every parameter in place: handles held elsewhere,
  // e.g. by an optimiser, see the moved data.
  void to(Device device);
  void to(DType dtype);

 protected:
  // Adds a parameter (requires_grad is set) and returns its handle.
  Tensor register_parameter(const std::string& name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    children_.emplace_back(name, module);
    return module;
  }

 private:
  void collect(const std::string& prefix, NamedTensors& out) const;

  NamedTensors params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Points parameter p's own TensorImpl at value's data (shape, strides, dtype
// and device included) and drops its .grad, keeping every handle valid: how
// Module::to moves parameters and FlatParameters gathers them.
void replace_data(const Tensor& p, const Tensor& value);

}  // namespace pf::nn
