// growPipe(fd, bytes): asks the kernel for a larger pipe buffer on `fd` (F_SETPIPE_SZ). A
// listener's stdout is a pipe more often than not (`udpkit listen | grep ...`); with the default
// 64 KiB the synchronous writes Node makes to a pipe stop the receiving loop every time the
// reader is a moment late, and the kernel drops what arrives meanwhile. Returns the size the
// pipe has now, or minus the errno (EBADF: not a pipe; EPERM: past /proc/sys/fs/pipe-max-size
// for this user); never throws for those, since a smaller pipe is only slower.
#include "udpkit.h"

#include <fcntl.h>

#include <cerrno>

namespace udpkit {

napi_value GrowPipe(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {};
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return ThrowNapiFailure(env);
  int fd = -1, bytes = 0;
  if (!ArgInt(env, argv[0], 0, 1 << 30, &fd, "fd") || !ArgInt(env, argv[1], 4096, 1 << 30, &bytes, "bytes")) return nullptr;
  int size = fcntl(fd, F_GETPIPE_SZ);
  if (size >= 0 && size < bytes) size = fcntl(fd, F_SETPIPE_SZ, bytes);
  napi_value result;
  if (napi_create_int32(env, size < 0 ? -errno : size, &result) != napi_ok) return ThrowNapiFailure(env);
  return result;
}

}  // namespace udpkit
