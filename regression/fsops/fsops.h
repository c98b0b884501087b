// Shared helpers of the fsops regression programs: a scratch directory below the working
// directory (removed before and after), small file helpers, and a bad pointer.
#ifndef CARBYNE_REGRESSION_FSOPS_H
#define CARBYNE_REGRESSION_FSOPS_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../check.h"

// An address no program has mapped: every use must fail with EFAULT, never crash.
#define BAD_PTR ((void *)1)

// Removes `name` below dirfd and everything in it; ignores what is missing.
__attribute__((unused)) static void remove_tree_at(int parent, const char *name) {
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
    return;
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return;
  // Make it writable first: a test may leave a directory without write permission.
  fchmod(fd, 0700);
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    remove_tree_at(dirfd(d), e->d_name);
  }
  closedir(d);
  unlinkat(parent, name, AT_REMOVEDIR);
}

static char g_scratch[256];

// Creates an empty scratch directory ./fsops-NAME[-TAG].scratch and makes it the working
// directory. Exits when that fails: nothing else can be checked then.
// FSOPS_SCRATCH_BASE=DIR puts it below DIR instead (e.g. a tmpfs, by hand).
__attribute__((unused)) static void scratch_enter(const char *name) {
  const char *base = getenv("FSOPS_SCRATCH_BASE");
  if (base && chdir(base) != 0) {
    printf("FAIL scratch: cannot enter %s: %s\n", base, strerrorname_np(errno));
    exit(1);
  }
  // FSOPS_SCRATCH_TAG keeps runs that may overlap (the native-only test and the compared
  // pair) in different directories.
  const char *tag = getenv("FSOPS_SCRATCH_TAG");
  snprintf(g_scratch, sizeof(g_scratch), "fsops-%s%s%s.scratch", name, tag ? "-" : "", tag ? tag : "");
  remove_tree_at(AT_FDCWD, g_scratch);
  if (mkdir(g_scratch, 0755) != 0 || chdir(g_scratch) != 0) {
    printf("FAIL scratch: cannot create and enter %s: %s\n", g_scratch, strerrorname_np(errno));
    exit(1);
  }
  umask(022);
}

__attribute__((unused)) static int scratch_leave(void) {
  if (chdir("..") != 0) {
    printf("FAIL scratch-leave: %s\n", strerrorname_np(errno));
    return 1;
  }
  remove_tree_at(AT_FDCWD, g_scratch);
  check("scratch-removed", access(g_scratch, F_OK) != 0 && errno == ENOENT, "%s still exists",
        g_scratch);
  return check_exit_status();
}

// Writes `text` to a new (or truncated) file; returns 0 on success.
__attribute__((unused)) static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -1;
  size_t n = strlen(text);
  int ok = write(fd, text, n) == (ssize_t)n;
  return close(fd) == 0 && ok ? 0 : -1;
}

// Reads a whole (small) file into buf as a string; returns its size or -1.
__attribute__((unused)) static ssize_t read_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n >= 0)
    buf[n] = '\0';
  return n;
}

// True when `path` holds exactly `text`.
__attribute__((unused)) static int file_is(const char *path, const char *text) {
  char buf[4096];
  return read_file(path, buf, sizeof(buf)) >= 0 && strcmp(buf, text) == 0;
}

__attribute__((unused)) static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

__attribute__((unused)) static const char *errname(int err) { return strerrorname_np(err); }

// Checks that `call` returns 0; prints errno on failure.
#define CHECK_OK(name, call)                                                          \
  do {                                                                                \
    errno = 0;                                                                        \
    long check_ok_ret_ = (long)(call);                                                \
    int check_ok_err_ = errno;                                                        \
    check(name, check_ok_ret_ == 0, "returned %ld, errno %s", check_ok_ret_,          \
          check_ok_ret_ == -1 ? errname(check_ok_err_) : "-");                        \
  } while (0)

#endif  // CARBYNE_REGRESSION_FSOPS_H
