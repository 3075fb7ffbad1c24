// Where a tensor's bytes live: the host (CPU) or one CUDA device.
#pragma once
#include <ostream>
#include <string>

namespace pf {

struct Device {
  enum class Kind { CPU, CUDA };
  Kind kind = Kind::CPU;
  int index = 0;  // CUDA ordinal; always 0 for the CPU

  static Device cpu() { return {Kind::CPU, 0}; }
  static Device cuda(int index = 0) { return {Kind::CUDA, index}; }
  bool is_cpu() const { return kind == Kind::CPU; }
  bool is_cuda() const { return kind == Kind::CUDA; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

inline std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

// "cpu", "cuda" (cuda:0) or "cuda:N", as train.device and pf-infer --device
// spell it; pf::Error otherwise.
Device parse_device(const std::string& name);

}  // namespace pf
