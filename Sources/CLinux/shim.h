#ifndef PROMPTCHECK_CLINUX_SHIM_H
#define PROMPTCHECK_CLINUX_SHIM_H
// What the Swift C library module does not export:
// - the allocator's settings (malloc.h, for `mallopt`);
// - opening a file beneath the project's folder in one call: Linux's openat2 with RESOLVE_BENEATH
//   (5.6 and later) refuses, in the kernel, a path that leaves the folder through `..` or a link.
//   The C library has no wrapper for the call; where it is missing (an older kernel, a seccomp
//   filter) it fails, and the caller opens the file the usual way and checks where it leads.
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif

static inline int promptcheck_open_beneath(int directory, const char *path, int flags) {
#if defined(SYS_openat2) && defined(RESOLVE_BENEATH)
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (unsigned long long)(unsigned int)flags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return (int)syscall(SYS_openat2, directory, path, &how, sizeof how);
#else
  (void)directory;
  (void)path;
  (void)flags;
  errno = ENOSYS;
  return -1;
#endif
}
#endif
