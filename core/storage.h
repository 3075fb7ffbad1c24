// Storage: one reference-counted allocation on a device. Tensors are views
// (shape, strides, offset) onto a Storage; several tensors may share one.
#pragma once
#include <cstddef>
#include <memory>

#include "core/device.h"

namespace pf {

class Storage {
 public:
  // Allocates `nbytes` on `device` through that device's backend. The memory is
  // uninitialised.
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
};

}  // namespace pf
