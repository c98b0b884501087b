// File data on a writable directory (tmpfs under Carbyne): read, write, pread, pwrite, lseek
// with SEEK_DATA/SEEK_HOLE, O_APPEND, O_TRUNC, holes, large offsets, ftruncate/truncate,
// fallocate, FIONREAD, fsync, an unlinked file still open, and the times that writes,
// truncation, utimensat and chmod change.
// Usage: tmpfs_io DIR - DIR is a writable directory; a scratch directory is made below it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "scratch.h"

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif

enum { k_page = 4096 };

static int all_equal(const char *buf, size_t size, char value) {
  for (size_t i = 0; i < size; i++)
    if (buf[i] != value)
      return 0;
  return 1;
}

static off_t file_size(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static void check_basic_io(void) {
  const char *path = at("basic");
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0640);
  check("create_excl", fd >= 0, "open failed: %s", strerrorname_np(errno));
  if (fd < 0)
    return;
  struct stat st;
  fstat(fd, &st);
  check("create_mode", st.st_mode == (S_IFREG | 0640) && st.st_nlink == 1 && st.st_size == 0,
        "mode %o, nlink %lu, size %ld", (unsigned)st.st_mode, (unsigned long)st.st_nlink, (long)st.st_size);
  check("create_blocks_zero", st.st_blocks == 0, "blocks %ld", (long)st.st_blocks);
  CHECK_FAILS_WITH("create_excl_again", open(path, O_RDWR | O_CREAT | O_EXCL, 0640), EEXIST);

  struct stat by_path;
  stat(path, &by_path);
  check("stat_matches_fstat", by_path.st_ino == st.st_ino && by_path.st_dev == st.st_dev,
        "stat and fstat disagree");

  check("write_count", write(fd, "hello world", 11) == 11, "short write");
  check("position_after_write", lseek(fd, 0, SEEK_CUR) == 11, "position %ld", (long)lseek(fd, 0, SEEK_CUR));
  char buf[256];
  memset(buf, 0, sizeof(buf));
  check("pread_middle", pread(fd, buf, 5, 6) == 5 && !memcmp(buf, "world", 5), "got '%.5s'", buf);
  check("read_at_eof", read(fd, buf, sizeof(buf)) == 0, "read past the end returned data");
  check("pwrite_past_end", pwrite(fd, "x", 1, 100) == 1 && file_size(fd) == 101, "size %ld",
        (long)file_size(fd));
  check("pwrite_keeps_position", lseek(fd, 0, SEEK_CUR) == 11, "position moved");
  memset(buf, 'z', sizeof(buf));
  ssize_t n = pread(fd, buf, sizeof(buf), 0);
  check("hole_reads_zero", n == 101 && all_equal(buf + 11, 89, 0) && buf[100] == 'x', "read %ld", (long)n);
  check("lseek_end", lseek(fd, -1, SEEK_END) == 100, "lseek SEEK_END");
  CHECK_FAILS_WITH("lseek_negative", lseek(fd, -1000, SEEK_SET), EINVAL);
  CHECK_FAILS_WITH("lseek_cur_negative", lseek(fd, -1000, SEEK_CUR), EINVAL);
  CHECK_FAILS_WITH("lseek_bad_whence", lseek(fd, 0, 99), EINVAL);
  check("lseek_past_end", lseek(fd, 1 << 20, SEEK_SET) == 1 << 20 && read(fd, buf, 10) == 0,
        "seek past the end");

  int rd = open(path, O_RDONLY);
  CHECK_FAILS_WITH("write_rdonly", write(rd, "a", 1), EBADF);
  int wr = open(path, O_WRONLY);
  CHECK_FAILS_WITH("read_wronly", read(wr, buf, 1), EBADF);
  close(wr);

  // O_APPEND: every write lands at the end, whatever the offset; pwrite too on Linux.
  int ap = open(path, O_WRONLY | O_APPEND);
  lseek(ap, 0, SEEK_SET);
  check("append_at_end", write(ap, "AB", 2) == 2 && file_size(fd) == 103 && lseek(ap, 0, SEEK_CUR) == 103,
        "size %ld", (long)file_size(fd));
  check("append_pwrite", pwrite(ap, "C", 1, 0) == 1 && file_size(fd) == 104, "size %ld", (long)file_size(fd));
  n = pread(rd, buf, 4, 100);
  check("append_content", n == 4 && !memcmp(buf, "xABC", 4) && pread(rd, buf, 1, 0) == 1 && buf[0] == 'h',
        "content wrong");
  int ioctl_n = -1;
  lseek(rd, 4, SEEK_SET);
  check("fionread", ioctl(rd, FIONREAD, &ioctl_n) == 0 && ioctl_n == 100, "FIONREAD %d", ioctl_n);
  close(ap);

  check("fsync", fsync(fd) == 0, "fsync: %s", strerrorname_np(errno));
  check("fdatasync", fdatasync(fd) == 0, "fdatasync: %s", strerrorname_np(errno));

  int tr = open(path, O_RDWR | O_TRUNC);
  check("open_trunc", tr >= 0 && file_size(fd) == 0, "size %ld", (long)file_size(fd));
  write(tr, "data", 4);
  close(tr);
  // Linux truncates with O_RDONLY | O_TRUNC as well when the caller may write.
  tr = open(path, O_RDONLY | O_TRUNC);
  check("open_rdonly_trunc", tr >= 0 && file_size(fd) == 0, "size %ld", (long)file_size(fd));
  close(tr);
  close(rd);
  close(fd);
}

static void check_pages(void) {
  int fd = open(at("pages"), O_RDWR | O_CREAT, 0600);
  enum { k_size = 3 * k_page + 123, k_offset = 5000 };
  static char pattern[k_size], back[k_size];
  for (int i = 0; i < k_size; i++)
    pattern[i] = (char)(i * 7 + 3);
  check("multi_page_write", pwrite(fd, pattern, k_size, k_offset) == k_size, "short write");
  check("multi_page_read", pread(fd, back, k_size, k_offset) == k_size && !memcmp(back, pattern, k_size),
        "data differs");
  // Odd-sized reads crossing page edges.
  lseek(fd, k_offset, SEEK_SET);
  size_t got = 0;
  int same = 1;
  while (got < k_size) {
    ssize_t r = read(fd, back, 777);
    if (r <= 0)
      break;
    same &= !memcmp(back, pattern + got, (size_t)r);
    got += (size_t)r;
  }
  check("odd_reads", got == k_size && same, "read %zu bytes", got);

  // 4 MiB in 64 KiB writes, checked back by sum.
  static char chunk[65536];
  unsigned long sum_in = 0, sum_out = 0;
  int wrote = 1;
  for (int c = 0; c < 64; c++) {
    for (size_t i = 0; i < sizeof(chunk); i++) {
      chunk[i] = (char)(c * 131 + i * 17);
      sum_in += (unsigned char)chunk[i] * (i + 1);
    }
    wrote &= pwrite(fd, chunk, sizeof(chunk), (off_t)c * 65536) == sizeof(chunk);
  }
  for (int c = 0; c < 64; c++) {
    if (pread(fd, chunk, sizeof(chunk), (off_t)c * 65536) != sizeof(chunk))
      wrote = 0;
    for (size_t i = 0; i < sizeof(chunk); i++)
      sum_out += (unsigned char)chunk[i] * (i + 1);
  }
  check("big_file_roundtrip", wrote && sum_in == sum_out && file_size(fd) == 4 << 20, "sum differs");

  // A byte at 1 TiB: the file is sparse, the size exact, the byte readable.
  off_t far = (off_t)1 << 40;
  check("far_write", pwrite(fd, "z", 1, far) == 1 && file_size(fd) == far + 1, "size %ld", (long)file_size(fd));
  char c = 0;
  check("far_read", pread(fd, &c, 1, far) == 1 && c == 'z', "byte %d", c);
  check("far_hole_zero", pread(fd, &c, 1, far - 1) == 1 && c == 0, "byte %d", c);
  struct stat st;
  fstat(fd, &st);
  check("far_sparse_blocks", st.st_blocks < 20000, "blocks %ld", (long)st.st_blocks);
  close(fd);
}

static void check_sparse(void) {
  int fd = open(at("sparse"), O_RDWR | O_CREAT, 0600);
  check("ftruncate_grow", ftruncate(fd, 1 << 20) == 0 && file_size(fd) == 1 << 20, "size %ld", (long)file_size(fd));
  struct stat st;
  fstat(fd, &st);
  check("ftruncate_sparse", st.st_blocks == 0, "blocks %ld", (long)st.st_blocks);
  char buf[100];
  memset(buf, 1, sizeof(buf));
  check("ftruncate_zeros", pread(fd, buf, sizeof(buf), 500000) == sizeof(buf) && all_equal(buf, sizeof(buf), 0),
        "not zeros");

  static char page[k_page];
  memset(page, 'd', sizeof(page));
  pwrite(fd, page, k_page, 0);
  pwrite(fd, page, k_page, 1 << 20);
  off_t size = (1 << 20) + k_page;
  check("seek_data_start", lseek(fd, 0, SEEK_DATA) == 0, "SEEK_DATA 0");
  check("seek_hole_after_first", lseek(fd, 0, SEEK_HOLE) == k_page, "SEEK_HOLE %ld", (long)lseek(fd, 0, SEEK_HOLE));
  check("seek_data_second", lseek(fd, k_page, SEEK_DATA) == 1 << 20, "SEEK_DATA %ld",
        (long)lseek(fd, k_page, SEEK_DATA));
  check("seek_hole_at_end", lseek(fd, 1 << 20, SEEK_HOLE) == size, "SEEK_HOLE %ld", (long)lseek(fd, 1 << 20, SEEK_HOLE));
  check("seek_hole_in_hole", lseek(fd, 10000, SEEK_HOLE) == 10000, "SEEK_HOLE %ld", (long)lseek(fd, 10000, SEEK_HOLE));
  check("seek_data_in_data", lseek(fd, 100, SEEK_DATA) == 100, "SEEK_DATA 100");
  CHECK_FAILS_WITH("seek_data_at_size", lseek(fd, size, SEEK_DATA), ENXIO);
  CHECK_FAILS_WITH("seek_hole_at_size", lseek(fd, size, SEEK_HOLE), ENXIO);
  CHECK_FAILS_WITH("seek_data_negative", lseek(fd, -1, SEEK_DATA), ENXIO);
  fstat(fd, &st);
  check("sparse_blocks", st.st_blocks >= 16 && st.st_blocks < 256, "blocks %ld", (long)st.st_blocks);

  // Shrinking then growing again shows zeros, not the old bytes.
  int s = open(at("shrink"), O_RDWR | O_CREAT, 0600);
  write(s, "abcdefgh", 8);
  ftruncate(s, 4);
  ftruncate(s, 8);
  memset(buf, 1, 8);
  check("shrink_grow_zeros", pread(s, buf, 8, 0) == 8 && !memcmp(buf, "abcd\0\0\0\0", 8), "stale data");
  check("truncate_path", truncate(at("shrink"), 2) == 0 && file_size(s) == 2, "size %ld", (long)file_size(s));
  CHECK_FAILS_WITH("truncate_dir", truncate(g_scratch, 0), EISDIR);
  CHECK_FAILS_WITH("truncate_missing", truncate(at("no-such-file"), 0), ENOENT);
  CHECK_FAILS_WITH("ftruncate_negative", ftruncate(s, -1), EINVAL);
  int rd = open(at("shrink"), O_RDONLY);
  CHECK_FAILS_WITH("ftruncate_rdonly", ftruncate(rd, 0), EINVAL);
  close(rd);
  close(s);
  close(fd);
}

static void check_fallocate(void) {
  int fd = open(at("falloc"), O_RDWR | O_CREAT, 0600);
  struct stat st;
  check("fallocate_extends", fallocate(fd, 0, 0, 2 * k_page) == 0 && file_size(fd) == 2 * k_page,
        "fallocate: %s", strerrorname_np(errno));
  fstat(fd, &st);
  check("fallocate_blocks", st.st_blocks >= 16, "blocks %ld", (long)st.st_blocks);
  char buf[2 * k_page];
  memset(buf, 1, sizeof(buf));
  check("fallocate_zeros", pread(fd, buf, sizeof(buf), 0) == sizeof(buf) && all_equal(buf, sizeof(buf), 0),
        "not zeros");
  check("fallocate_keep_size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 2 * k_page, 2 * k_page) == 0 &&
                                   file_size(fd) == 2 * k_page, "size %ld", (long)file_size(fd));
  fstat(fd, &st);
  check("fallocate_keep_size_blocks", st.st_blocks >= 32, "blocks %ld", (long)st.st_blocks);

  memset(buf, 'p', sizeof(buf));
  pwrite(fd, buf, sizeof(buf), 0);
  check("punch_hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 5000) == 0,
        "punch: %s", strerrorname_np(errno));
  memset(buf, 1, sizeof(buf));
  pread(fd, buf, sizeof(buf), 0);
  check("punch_hole_content", all_equal(buf, 100, 'p') && all_equal(buf + 100, 5000, 0) &&
                                  all_equal(buf + 5100, sizeof(buf) - 5100, 'p') && file_size(fd) == 2 * k_page,
        "content or size wrong");
  CHECK_FAILS_WITH("punch_needs_keep_size", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
  CHECK_FAILS_WITH("fallocate_zero_length", fallocate(fd, 0, 0, 0), EINVAL);
  CHECK_FAILS_WITH("fallocate_negative", fallocate(fd, 0, -1, 10), EINVAL);
  int rd = open(at("falloc"), O_RDONLY);
  CHECK_FAILS_WITH("fallocate_rdonly", fallocate(rd, 0, 0, 10), EBADF);
  close(rd);
  close(fd);
}

// A buffer running into an inaccessible page: the bytes before it move, then EFAULT.
static void check_faults(void) {
  int fd = open(at("fault"), O_RDWR | O_CREAT, 0600);
  char *m = mmap(NULL, 2 * k_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    return;
  memset(m, 'q', 2 * k_page);
  mprotect(m + k_page, k_page, PROT_NONE);
  long n = pwrite(fd, m + 50, 3 * k_page, 100);
  check("partial_write_to_fault", n == k_page - 50 && file_size(fd) == 100 + k_page - 50, "wrote %ld, size %ld", n,
        (long)file_size(fd));
  CHECK_FAILS_WITH("write_fault", pwrite(fd, m + k_page, 10, 0), EFAULT);
  CHECK_FAILS_WITH("write_fault_position", (lseek(fd, 7, SEEK_SET), write(fd, m + k_page, 10)), EFAULT);
  check("write_fault_keeps_position", lseek(fd, 0, SEEK_CUR) == 7, "position moved");
  ftruncate(fd, 5 * k_page);
  n = pread(fd, m + 10, 3 * k_page, 0);
  check("partial_read_to_fault", n == k_page - 10, "read %ld", n);
  CHECK_FAILS_WITH("read_fault", pread(fd, m + k_page, 10, 0), EFAULT);
  CHECK_FAILS_WITH("read_hole_fault", pread(fd, m + k_page, 10, 3 * k_page), EFAULT);
  // The file is as the partial write left it: zeros past its old end, not stray bytes.
  char buf[16];
  check("fault_tail_zero", pread(fd, buf, 16, 100 + k_page - 50) == 16 && all_equal(buf, 16, 0), "stray bytes");
  munmap(m, 2 * k_page);
  close(fd);
}

static void check_unlinked_open(void) {
  const char *path = at("unlinked");
  int fd = open(path, O_RDWR | O_CREAT, 0600);
  write(fd, "keep", 4);
  int other = open(path, O_RDONLY);
  check("unlink_open", unlink(path) == 0, "unlink: %s", strerrorname_np(errno));
  struct stat st;
  fstat(fd, &st);
  check("unlinked_nlink_zero", st.st_nlink == 0, "nlink %lu", (unsigned long)st.st_nlink);
  CHECK_FAILS_WITH("unlinked_gone", access(path, F_OK), ENOENT);
  char buf[16] = {0};
  check("unlinked_readable", pread(fd, buf, 4, 0) == 4 && !memcmp(buf, "keep", 4), "read '%s'", buf);
  check("unlinked_writable", write(fd, "more", 4) == 4 && file_size(fd) == 8, "size %ld", (long)file_size(fd));
  close(fd);
  check("unlinked_other_fd", pread(other, buf, 8, 0) == 8 && !memcmp(buf, "keepmore", 8), "read '%.8s'", buf);
  close(other);
  // The name is free again.
  fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  check("unlinked_name_reusable", fd >= 0 && file_size(fd) == 0, "open: %s", strerrorname_np(errno));
  close(fd);
}

static void check_times(void) {
  int fd = open(at("times"), O_RDWR | O_CREAT, 0644);
  struct timespec old[2] = {{1000, 0}, {1000, 500}};
  struct stat st;
  check("futimens_set", futimens(fd, old) == 0, "futimens: %s", strerrorname_np(errno));
  fstat(fd, &st);
  check("futimens_values", st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 1000 && st.st_mtim.tv_nsec == 500,
        "atime %ld mtime %ld.%ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
  struct timespec before;
  clock_gettime(CLOCK_REALTIME, &before);
  write(fd, "t", 1);
  fstat(fd, &st);
  check("write_sets_mtime", st.st_mtim.tv_sec >= before.tv_sec - 1 && st.st_ctim.tv_sec >= before.tv_sec - 1,
        "mtime not updated");

  struct timespec omit[2] = {{5000, 0}, {0, UTIME_OMIT}};
  struct stat prev = st;
  futimens(fd, omit);
  fstat(fd, &st);
  check("utime_omit", st.st_atim.tv_sec == 5000 && st.st_mtim.tv_sec == prev.st_mtim.tv_sec &&
                          st.st_mtim.tv_nsec == prev.st_mtim.tv_nsec, "omit changed mtime");
  struct timespec now2[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  clock_gettime(CLOCK_REALTIME, &before);
  utimensat(AT_FDCWD, at("times"), now2, 0);
  fstat(fd, &st);
  check("utime_now", st.st_atim.tv_sec >= before.tv_sec - 1 && st.st_mtim.tv_sec >= before.tv_sec - 1,
        "times not now");

  futimens(fd, old);
  ftruncate(fd, 100);
  fstat(fd, &st);
  check("ftruncate_sets_mtime", st.st_mtim.tv_sec >= before.tv_sec - 1, "mtime not updated");

  struct timespec c0 = st.st_ctim;
  wait_past(c0);
  check("fchmod", fchmod(fd, 0600) == 0, "fchmod: %s", strerrorname_np(errno));
  fstat(fd, &st);
  check("fchmod_mode_ctime", st.st_mode == (S_IFREG | 0600) && ts_after(st.st_ctim, c0), "mode %o",
        (unsigned)st.st_mode);
  c0 = st.st_ctim;
  wait_past(c0);
  check("fchown_same", fchown(fd, getuid(), getgid()) == 0, "fchown: %s", strerrorname_np(errno));
  fstat(fd, &st);
  check("fchown_owner_ctime", st.st_uid == getuid() && st.st_gid == getgid() && ts_after(st.st_ctim, c0),
        "owner or ctime wrong");
  check("fchown_unchanged", fchown(fd, (uid_t)-1, (gid_t)-1) == 0, "fchown -1: %s", strerrorname_np(errno));

  // A directory's mtime follows its entries.
  futimens(fd, old);
  utimensat(AT_FDCWD, g_scratch, old, 0);
  clock_gettime(CLOCK_REALTIME, &before);
  close(open(at("newer"), O_CREAT | O_WRONLY, 0600));
  stat(g_scratch, &st);
  check("create_sets_dir_mtime", st.st_mtim.tv_sec >= before.tv_sec - 1, "dir mtime not updated");
  utimensat(AT_FDCWD, g_scratch, old, 0);
  unlink(at("newer"));
  stat(g_scratch, &st);
  check("unlink_sets_dir_mtime", st.st_mtim.tv_sec >= before.tv_sec - 1, "dir mtime not updated");
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  make_scratch(argv[1]);
  check_basic_io();
  check_pages();
  check_sparse();
  check_fallocate();
  check_faults();
  check_unlinked_open();
  check_times();
  remove_scratch();
  return check_exit_status();
}
