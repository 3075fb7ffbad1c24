#include "autograd/autocast.h"

#include <cstring>
#include <unordered_map>

#include "autograd/functional.h"

namespace pf::autocast {

namespace {

struct Rule {
  const char* op;
  OpClass cls;
};
// The precision policy (see autocast.h for why each op sits where it does).
constexpr Rule kPolicy[] = {
    {"linear", OpClass::Low},         {"matmul", OpClass::Low},          {"conv1d", OpClass::Low},
    {"layer_norm", OpClass::F32},     {"cross_entropy", OpClass::F32},   {"mse_loss", OpClass::F32},
    {"sum", OpClass::F32},            {"mean", OpClass::F32},            {"log_softmax", OpClass::F32},
    {"sub", OpClass::Promote},        {"mul", OpClass::Promote},         {"div", OpClass::Promote},
    {"concat", OpClass::Promote},     {"add", OpClass::Residual},        {"add_scaled", OpClass::Residual},
};

}  // namespace

struct AutocastState {
  DType dtype;
  // The low copy of each parameter cast under this guard, by the parameter's
  // TensorImpl; the parameter itself is kept so its address cannot be reused.
  std::unordered_map<const TensorImpl*, std::pair<Tensor, Tensor>> cache;
  int64_t casts = 0;
};

namespace {
thread_local AutocastState* g_state = nullptr;

// Parameters are the leaves that require grad; only they are cached (an
// activation is cast where it is used, once).
bool is_parameter(const Tensor& t) { return t.is_leaf() && t.requires_grad(); }

Tensor cast_to(const Tensor& t, DType target) {
  if (!t.defined() || !is_floating(t.dtype()) || t.dtype() == target) return t;
  if (!is_parameter(t)) return cast(t, target);
  auto [it, inserted] = g_state->cache.try_emplace(t.impl_ptr().get());
  if (inserted || it->second.second.dtype() != target) {
    it->second = {t, cast(t, target)};
    ++g_state->casts;
  }
  return it->second.second;
}

// The widest floating dtype among the inputs (f64 > f32 > the half types).
DType widest(const std::vector<Tensor>& xs) {
  DType best = DType::bf16;
  auto rank = [](DType t) { return t == DType::f64 ? 3 : t == DType::f32 ? 2 : t == DType::f16 ? 1 : 0; };
  bool any = false;
  for (const Tensor& x : xs)
    if (x.defined() && is_floating(x.dtype()) && (!any || rank(x.dtype()) > rank(best))) {
      best = x.dtype();
      any = true;
    }
  return best;
}

}  // namespace

OpClass policy(const char* op) {
  for (const Rule& rule : kPolicy)
    if (std::strcmp(rule.op, op) == 0) return rule.cls;
  PF_FAIL("autocast", "op '", op, "' has no entry in the precision policy (HINT: add it to kPolicy in ",
          "autograd/autocast.cpp)");
}

DType dtype() { return g_state ? g_state->dtype : DType::f32; }
bool enabled() { return g_state != nullptr; }

std::vector<Tensor> cast_inputs(const char* op, const std::vector<Tensor>& xs) {
  if (!g_state) return xs;
  const OpClass cls = policy(op);
  const DType target = cls == OpClass::Low ? g_state->dtype : cls == OpClass::F32 ? DType::f32 : widest(xs);  // Promote, Residual
  std::vector<Tensor> out;
  out.reserve(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    const bool keep = x.defined() && ((cls == OpClass::F32 && !is_half(x.dtype())) ||  // f64 stays f64
                                      (cls == OpClass::Residual && i == 1 && target == DType::f32 &&
                                       is_half(x.dtype())));  // the branch is read as it is
    out.push_back(keep ? x : cast_to(x, target));
  }
  return out;
}

AutocastGuard::AutocastGuard(DType dtype) : previous_(g_state) {
  PF_CHECK(dtype == DType::f32 || is_half(dtype), "autocast", "the low dtype must be bf16 or f16 (f32: off), got ",
           dtype);
  g_state = dtype == DType::f32 ? nullptr : new AutocastState{dtype, {}, 0};
}

AutocastGuard::~AutocastGuard() {
  delete g_state;
  g_state = previous_;
}

int64_t parameter_casts() { return g_state ? g_state->casts : 0; }

}  // namespace pf::autocast
