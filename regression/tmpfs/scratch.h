// A scratch directory for the tmpfs regression programs: made below the directory given on
// the command line (natively a real directory, under Carbyne its tmpfs /tmp) and removed
// at the end, so that both runs start from an empty directory.
#ifndef CARBYNE_REGRESSION_TMPFS_SCRATCH_H
#define CARBYNE_REGRESSION_TMPFS_SCRATCH_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// The scratch directory's path, and the path of NAME inside it (a rotating set of buffers,
// so that a few can be used in one call).
static char g_scratch[1024];

__attribute__((unused)) static const char *at(const char *name) {
  static char bufs[8][4096];
  static int next;
  char *b = bufs[next++ % 8];
  snprintf(b, sizeof(bufs[0]), "%s/%s", g_scratch, name);
  return b;
}

// Makes DIR/tmpfs-test-XXXXXX; exits with a message when it cannot.
__attribute__((unused)) static void make_scratch(const char *dir) {
  snprintf(g_scratch, sizeof(g_scratch), "%s/tmpfs-test-XXXXXX", dir);
  if (!mkdtemp(g_scratch)) {
    printf("FAIL setup: mkdtemp in %s: %s\n", dir, strerrorname_np(errno));
    exit(1);
  }
  umask(022);
}

// Removes a tree (rm -rf), fd-relative so that no path gets long; 0 on success.
static int remove_tree_at(int parent, const char *name) {
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0)
    return unlinkat(parent, name, 0);
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return -1;
  }
  // Start over after each pass with removals: POSIX leaves readdir after unlink loose.
  for (;;) {
    int removed = 0;
    struct dirent *e;
    rewinddir(d);
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
        continue;
      if (remove_tree_at(fd, e->d_name) == 0)
        removed++;
    }
    if (!removed)
      break;
  }
  closedir(d);
  return unlinkat(parent, name, AT_REMOVEDIR);
}

__attribute__((unused)) static void remove_scratch(void) { (void)remove_tree_at(AT_FDCWD, g_scratch); }

// Waits until the realtime clock is well past `t`, so that a time set after it differs
// (native file systems stamp with a coarse clock that may lag by a tick).
__attribute__((unused)) static void wait_past(struct timespec t) {
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long d = (now.tv_sec - t.tv_sec) * 1000000000LL + (now.tv_nsec - t.tv_nsec);
    if (d > 30000000LL)
      return;
    struct timespec nap = {0, 5000000};
    nanosleep(&nap, NULL);
  }
}

__attribute__((unused)) static int ts_after(struct timespec a, struct timespec b) {
  return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

#endif  // CARBYNE_REGRESSION_TMPFS_SCRATCH_H
