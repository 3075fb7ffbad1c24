#include "core/storage.h"

#include "core/backend.h"

namespace pf {

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = backend_for(device).allocate(nbytes);
}

Storage::~Storage() { backend_for(device_).deallocate(data_); }

}  // namespace pf
