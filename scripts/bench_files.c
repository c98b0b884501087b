// File and memory costs for scripts/bench-files: prints "NAME NS" lines (ns per operation,
// the median of several rounds).
//   bench_files TMPFS-DIR CHROOT-DIR
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

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void op_open_close(const char *path, long count) {
  for (long i = 0; i < count; i++) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("open");
    close(fd);
  }
}

static void op_stat(const char *path, long count) {
  struct stat st;
  for (long i = 0; i < count; i++)
    if (stat(path, &st) != 0) die("stat");
}

static void op_read4k(const char *path, long count) {
  static char buf[4096];
  int fd = open(path, O_RDONLY);
  if (fd < 0) die("open");
  for (long i = 0; i < count; i++)
    if (pread(fd, buf, sizeof(buf), 0) != sizeof(buf)) die("pread");
  close(fd);
}

static void op_write_1m(const char *path, long count) {
  static char buf[65536];
  for (long i = 0; i < count; i++) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die("open");
    for (int k = 0; k < 16; k++)
      if (write(fd, buf, sizeof(buf)) != sizeof(buf)) die("write");
    close(fd);
  }
}

static void op_read_1m(const char *path, long count) {
  static char buf[65536];
  for (long i = 0; i < count; i++) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("open");
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    close(fd);
  }
}

static void op_mmap_16m(const char *unused, long count) {
  (void)unused;
  const size_t size = 16 << 20;
  for (long i = 0; i < count; i++) {
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) die("mmap");
    for (size_t off = 0; off < size; off += 4096) p[off] = 1;
    munmap(p, size);
  }
}

static void make_file(const char *path, size_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die(path);
  char *buf = calloc(1, size);
  if (write(fd, buf, size) != (ssize_t)size) die("write");
  free(buf);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench_files TMPFS-DIR CHROOT-DIR\n");
    return 2;
  }
  char tmpfs_file[4096], chroot_file[4096], big_file[4096];
  snprintf(tmpfs_file, sizeof(tmpfs_file), "%s/bench-4k", argv[1]);
  snprintf(chroot_file, sizeof(chroot_file), "%s/bench-4k", argv[2]);
  snprintf(big_file, sizeof(big_file), "%s/bench-1m", argv[2]);
  make_file(tmpfs_file, 4096);
  make_file(chroot_file, 4096);
  report("open_close", op_open_close, chroot_file, 2000);
  report("stat", op_stat, chroot_file, 2000);
  report("read_4k_tmpfs", op_read4k, tmpfs_file, 5000);
  report("read_4k_chroot", op_read4k, chroot_file, 5000);
  report("write_1m_chroot", op_write_1m, big_file, 20);
  report("read_1m_chroot", op_read_1m, big_file, 50);
  report("mmap_touch_16m", op_mmap_16m, NULL, 5);
  unlink(tmpfs_file);
  unlink(chroot_file);
  unlink(big_file);
  return 0;
}
