#include "proformer/training/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace pf::proformer {

RunLock::RunLock(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "train.lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  PF_CHECK(fd_ >= 0, "train", path, ": cannot open the lock file (", std::strerror(errno), ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    PF_CHECK(error != EWOULDBLOCK, "train", dir,
             ": another training run is writing into this output.dir (HINT: wait for it to finish, or give this "
             "run another output.dir)");
    PF_FAIL("train", path, ": cannot lock (", std::strerror(error), ")");
  }
}

RunLock::~RunLock() { ::close(fd_); }  // closing the descriptor releases the lock

}  // namespace pf::proformer
