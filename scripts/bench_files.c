// File and memory costs for scripts/bench-files: prints "NAME NS" lines (ns per operation,
// the median of several rounds).
//   bench_files HOST-DIR HOST-TMPFS-DIR TMPFS-DIR
// HOST-DIR: a host directory on its usual file system (under Carbyne, the same directory
// through a chroot mount); HOST-TMPFS-DIR: a host directory on a tmpfs (likewise);
// TMPFS-DIR: an in-memory file system, which the caller says which one it is.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static void op_open_close(const char *path, long count) {
  for (long i = 0; i < count; i++) {
    int fd = open(path, O_RDONLY);
    must(fd >= 0, "open");
    must(close(fd) == 0, "close");
  }
}

static void op_stat(const char *path, long count) {
  struct stat st;
  for (long i = 0; i < count; i++) must(stat(path, &st) == 0, "stat");
}

static void op_read4k(const char *path, long count) {
  static char buf[4096];
  int fd = open(path, O_RDONLY);
  must(fd >= 0, "open");
  for (long i = 0; i < count; i++) must(pread(fd, buf, sizeof(buf), 0) == sizeof(buf), "pread");
  must(close(fd) == 0, "close");
}

static void op_write_1m(const char *path, long count) {
  static char buf[65536];
  for (long i = 0; i < count; i++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    must(fd >= 0, "open");
    for (int k = 0; k < 16; k++) must(write(fd, buf, sizeof(buf)) == sizeof(buf), "write");
    must(close(fd) == 0, "close");
  }
}

static void op_read_1m(const char *path, long count) {
  static char buf[65536];
  for (long i = 0; i < count; i++) {
    int fd = open(path, O_RDONLY);
    must(fd >= 0, "open");
    long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) total += n;
    must(n == 0, "read");
    must(total == 16 * (long)sizeof(buf), "read: not the 1 MiB written");
    must(close(fd) == 0, "close");
  }
}

static void op_mmap_16m(const char *unused, long count) {
  (void)unused;
  const size_t size = 16 << 20;
  for (long i = 0; i < count; i++) {
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(p != MAP_FAILED, "mmap");
    for (size_t off = 0; off < size; off += 4096) p[off] = 1;
    must(munmap(p, size) == 0, "munmap");
  }
}

static void make_file(const char *path, size_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  must(fd >= 0, path);
  char *buf = calloc(1, size);
  must(buf != NULL, "calloc");
  must(write(fd, buf, size) == (ssize_t)size, "write");
  free(buf);
  must(close(fd) == 0, "close");
}

static void file_in(char *out, size_t size, const char *dir, const char *name) {
  must(snprintf(out, size, "%s/%s", dir, name) < (int)size, "path too long");
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bench_files HOST-DIR HOST-TMPFS-DIR TMPFS-DIR\n");
    return 2;
  }
  char host_file[4096], host_tmpfs_file[4096], tmpfs_file[4096], big_file[4096];
  file_in(host_file, sizeof(host_file), argv[1], "bench-4k");
  file_in(big_file, sizeof(big_file), argv[1], "bench-1m");
  // Names of their own: natively HOST-TMPFS-DIR and TMPFS-DIR may be one directory.
  file_in(host_tmpfs_file, sizeof(host_tmpfs_file), argv[2], "bench-4k-host-tmpfs");
  file_in(tmpfs_file, sizeof(tmpfs_file), argv[3], "bench-4k-tmpfs");
  make_file(host_file, 4096);
  make_file(host_tmpfs_file, 4096);
  make_file(tmpfs_file, 4096);
  report("open_close_host_dir", op_open_close, host_file, 2000);
  report("stat_host_dir", op_stat, host_file, 2000);
  report("read_4k_host_dir", op_read4k, host_file, 5000);
  report("read_4k_host_tmpfs", op_read4k, host_tmpfs_file, 5000);
  report("read_4k_tmpfs", op_read4k, tmpfs_file, 5000);
  report("write_1m_host_dir", op_write_1m, big_file, 20);
  report("read_1m_host_dir", op_read_1m, big_file, 50);
  report("mmap_touch_16m", op_mmap_16m, NULL, 5);
  must(unlink(host_file) == 0 && unlink(big_file) == 0, "unlink");
  must(unlink(host_tmpfs_file) == 0 && unlink(tmpfs_file) == 0, "unlink");
  return 0;
}
