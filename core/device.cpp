#include "core/device.h"

#include <algorithm>

#include "core/error.h"

namespace pf {

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::cpu();
  if (name == "cuda") return Device::cuda(0);
  const std::string digits = name.size() > 5 && name.compare(0, 5, "cuda:") == 0 ? name.substr(5) : "";
  PF_CHECK(!digits.empty() && digits.size() <= 4 && std::all_of(digits.begin(), digits.end(), ::isdigit), "device",
           "must be cpu, cuda or cuda:N, got '", name, "'");
  return Device::cuda(std::stoi(digits));
}

}  // namespace pf
