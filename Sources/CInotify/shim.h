#ifndef PROMPTCHECK_CINOTIFY_SHIM_H
#define PROMPTCHECK_CINOTIFY_SHIM_H
// Linux's file-change notifications, for `promptcheck watch` (a polling fallback stands in
// where they are missing).
#include <sys/inotify.h>
#include <poll.h>
#include <unistd.h>
#endif
