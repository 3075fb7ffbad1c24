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

// Bytes held by live Storages on one kind of device (all CUDA devices count
// together) and the most held at once since the last reset: the activation
// high-water mark of a training step, whatever allocator sits underneath.
struct StorageStats {
  size_t live_bytes = 0;
  size_t peak_bytes = 0;
};
StorageStats storage_stats(Device::Kind kind);
// Restarts the peak from the bytes live now.
void reset_storage_peak(Device::Kind kind);

}  // namespace pf
