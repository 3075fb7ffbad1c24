#include "core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace pf {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_path_(path_ + ".tmp") {
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  PF_CHECK(file_ != nullptr, "write", tmp_path_, ": cannot create (", std::strerror(errno), ")");
}

AtomicFile::~AtomicFile() {
  if (file_) {  // not committed: leave no partial file behind
    std::fclose(file_);
    std::remove(tmp_path_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t nbytes) {
  PF_CHECK(file_ != nullptr, "write", path_, ": already committed");
  PF_CHECK(nbytes == 0 || std::fwrite(data, 1, nbytes, file_) == nbytes, "write", tmp_path_, ": write failed (",
           std::strerror(errno), ")");
}

void AtomicFile::commit() {
  PF_CHECK(file_ != nullptr, "write", path_, ": already committed");
  bool ok = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  ok = ok && std::rename(tmp_path_.c_str(), path_.c_str()) == 0;
  if (ok) return;
  const int error = errno;
  std::remove(tmp_path_.c_str());
  PF_FAIL("write", path_, ": could not write (", std::strerror(error), ")");
}

}  // namespace pf
