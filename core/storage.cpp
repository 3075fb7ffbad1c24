#include "core/storage.h"

#include <atomic>

#include "core/backend.h"

namespace pf {

namespace {
struct Counter {
  std::atomic<size_t> live{0}, peak{0};
};
Counter g_counters[2];  // indexed by Device::Kind
Counter& counter(Device::Kind kind) { return g_counters[kind == Device::Kind::CPU ? 0 : 1]; }
}  // namespace

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = backend_for(device).allocate(nbytes);
  Counter& c = counter(device.kind);
  const size_t live = c.live += nbytes;
  size_t peak = c.peak.load();
  while (live > peak && !c.peak.compare_exchange_weak(peak, live)) {
  }
}

Storage::~Storage() {
  backend_for(device_).deallocate(data_);
  counter(device_.kind).live -= nbytes_;
}

StorageStats storage_stats(Device::Kind kind) {
  const Counter& c = counter(kind);
  return {c.live.load(), c.peak.load()};
}

void reset_storage_peak(Device::Kind kind) { counter(kind).peak = counter(kind).live.load(); }

}  // namespace pf
