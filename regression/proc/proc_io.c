// Reading pseudo files and directories: small reads, pread, lseek, getdents64 with
// buffers too small for all entries, rewinding, and the d_type of each kind of entry.
// Usage: proc_io ARGS... (the arguments make /proc/self/cmdline long enough to read in
// pieces).
#define _GNU_SOURCE  // getdents64(), strerrorname_np() in check.h
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"

enum { k_max = 1 << 16 };

static char g_whole[k_max], g_pieces[k_max], g_again[k_max];

static void check_file_reads(void) {
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  check("open-cmdline", fd >= 0, "open: %s", strerrorname_np(errno));
  if (fd < 0) return;
  ssize_t whole = read(fd, g_whole, sizeof(g_whole));
  check("read-whole", whole > 40, "read %zd bytes", whole);
  check("read-eof", read(fd, g_again, 1) == 0, "no EOF after the content");
  check("lseek-cur-at-end", lseek(fd, 0, SEEK_CUR) == whole, "offset is not the size after reading all");

  check("lseek-rewind", lseek(fd, 0, SEEK_SET) == 0, "lseek(0, SEEK_SET) failed");
  ssize_t total = 0, n;
  while ((n = read(fd, g_pieces + total, 7)) > 0) total += n;
  check("read-in-pieces", n == 0 && total == whole && memcmp(g_pieces, g_whole, (size_t)whole) == 0,
        "7-byte reads give other bytes than one read");

  check("pread-middle", pread(fd, g_again, 10, 5) == 10 && memcmp(g_again, g_whole + 5, 10) == 0,
        "pread at 5 differs");
  check("pread-keeps-offset", lseek(fd, 0, SEEK_CUR) == whole, "pread moved the offset");
  check("pread-past-end", pread(fd, g_again, 10, whole + 100) == 0, "pread past the end is not 0");
  check("lseek-set-middle", lseek(fd, 3, SEEK_SET) == 3 && read(fd, g_again, 4) == 4 &&
                                memcmp(g_again, g_whole + 3, 4) == 0,
        "read after lseek(3) differs");
  check("lseek-cur", lseek(fd, -2, SEEK_CUR) == 5, "lseek(-2, SEEK_CUR) is not 5");
  CHECK_FAILS_WITH("lseek-negative", lseek(fd, -100, SEEK_SET), EINVAL);
  close(fd);

  // A fresh open of a fixed file gives the same text.
  fd = open("/proc/sys/kernel/ostype", O_RDONLY);
  char buf[16] = {0};
  check("small-file", fd >= 0 && read(fd, buf, sizeof(buf)) == 6 && strcmp(buf, "Linux\n") == 0,
        "ostype is not Linux\\n");
  if (fd >= 0) close(fd);
}

enum { k_max_names = 1024 };

struct names {
  char name[k_max_names][32];
  unsigned char type[k_max_names];
  int count;
  int dots;
};

// Reads a directory with getdents64 and a buffer of `size` bytes; -1 on error.
static int list_dir(int fd, size_t size, struct names *out) {
  char buf[4096];
  out->count = out->dots = 0;
  for (;;) {
    ssize_t n = getdents64(fd, buf, size);
    if (n < 0) return -1;
    if (n == 0) return 0;
    for (ssize_t at = 0; at < n;) {
      struct dirent64 *d = (struct dirent64 *)(buf + at);
      if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
        out->dots++;
      else if (out->count < k_max_names) {
        snprintf(out->name[out->count], sizeof(out->name[0]), "%.31s", d->d_name);
        out->type[out->count++] = d->d_type;
      }
      at += d->d_reclen;
    }
  }
}

static int find(const struct names *n, const char *name) {
  for (int i = 0; i < n->count; i++)
    if (strcmp(n->name[i], name) == 0) return i;
  return -1;
}

static int same_names(const struct names *a, const struct names *b) {
  if (a->count != b->count || a->dots != b->dots) return 0;
  for (int i = 0; i < a->count; i++)
    if (find(b, a->name[i]) < 0) return 0;
  return 1;
}

static void check_dirs(void) {
  static struct names big, small, again;
  int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  check("open-fd-dir", fd >= 0, "open: %s", strerrorname_np(errno));
  if (fd < 0) return;
  check("getdents-big", list_dir(fd, 4096, &big) == 0 && big.dots == 2, "one big getdents64 pass failed");
  check("getdents-fd-entries", find(&big, "0") >= 0 && find(&big, "1") >= 0 && find(&big, "2") >= 0,
        "0, 1 or 2 missing");
  check("lseek-dir-rewind", lseek(fd, 0, SEEK_SET) == 0, "rewind failed: %s", strerrorname_np(errno));
  check("getdents-small", list_dir(fd, 32, &small) == 0 && same_names(&big, &small),
        "32-byte getdents64 calls list other entries than one call");
  check("getdents-at-end", getdents64(fd, small.name, 32) == 0, "getdents64 at the end is not 0");
  lseek(fd, 0, SEEK_SET);
  check("getdents-after-rewind", list_dir(fd, 4096, &again) == 0 && same_names(&big, &again),
        "the entries after a rewind differ");
  lseek(fd, 0, SEEK_SET);
  CHECK_FAILS_WITH("getdents-tiny-buffer", getdents64(fd, small.name, 8), EINVAL);
  close(fd);

  fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  check("getdents-proc", fd >= 0 && list_dir(fd, 100, &big) == 0, "listing /proc failed");
  char pid[16];
  snprintf(pid, sizeof(pid), "%d", getpid());
  int i;
  check("proc-lists-pid", (i = find(&big, pid)) >= 0 && big.type[i] == DT_DIR, "our pid is not a directory entry");
  check("proc-lists-self", (i = find(&big, "self")) >= 0 && big.type[i] == DT_LNK, "self is not a symlink entry");
  check("proc-lists-cpuinfo", (i = find(&big, "cpuinfo")) >= 0 && big.type[i] == DT_REG,
        "cpuinfo is not a regular entry");
  if (fd >= 0) close(fd);

  fd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  check("getdents-dev", fd >= 0 && list_dir(fd, 4096, &big) == 0, "listing /dev failed");
  check("dev-lists-null", (i = find(&big, "null")) >= 0 && big.type[i] == DT_CHR, "null is not a char device entry");
  check("dev-lists-stdout", (i = find(&big, "stdout")) >= 0 && big.type[i] == DT_LNK, "stdout is not a symlink entry");
  if (fd >= 0) close(fd);

  // Entries give the same inode numbers as stat.
  fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char buf[4096];
  ssize_t n = fd >= 0 ? getdents64(fd, buf, sizeof(buf)) : -1;
  int matched = 0, seen = 0;
  for (ssize_t at = 0; n > 0 && at < n;) {
    struct dirent64 *d = (struct dirent64 *)(buf + at);
    struct stat st;
    if (strcmp(d->d_name, "status") == 0 || strcmp(d->d_name, "maps") == 0) {
      seen++;
      matched += fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == d->d_ino;
    }
    at += d->d_reclen;
  }
  check("dirent-inode-is-stat-inode", seen == 2 && matched == 2, "d_ino differs from st_ino");
  if (fd >= 0) close(fd);
}

int main(void) {
  check_file_reads();
  check_dirs();
  return check_exit_status();
}
