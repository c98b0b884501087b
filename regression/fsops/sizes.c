// Sizes, space and write-back: truncate, ftruncate, fallocate, fsync, fdatasync, sync,
// syncfs, sync_file_range, readahead, ioctl(FIONREAD), and their errors.
#include "fsops.h"

#include <linux/falloc.h>
#include <sys/ioctl.h>

static off_t size_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? st.st_size : -1;
}

static int all_zero(const char *path, off_t from, size_t len) {
  char buf[4096];
  int fd = open(path, O_RDONLY);
  if (fd < 0 || len > sizeof(buf))
    return 0;
  ssize_t n = pread(fd, buf, len, from);
  close(fd);
  if (n != (ssize_t)len)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (buf[i])
      return 0;
  return 1;
}

static void check_truncate(void) {
  write_file("t", "0123456789");
  CHECK_OK("truncate-grow", truncate("t", 100));
  check("truncate-grow-size", size_of("t") == 100, "size %ld", (long)size_of("t"));
  check("truncate-grow-zeros", all_zero("t", 10, 90), "not zero-filled");
  CHECK_OK("truncate-shrink", truncate("t", 4));
  check("truncate-shrink-content", file_is("t", "0123"), "wrong content");
  symlink("t", "ts");
  CHECK_OK("truncate-follows-symlink", truncate("ts", 2));
  check("truncate-follows-symlink-result", file_is("t", "01"), "wrong content");
  mkdir("d", 0755);
  CHECK_FAILS_WITH("truncate-dir", truncate("d", 0), EISDIR);
  CHECK_FAILS_WITH("truncate-missing", truncate("missing", 0), ENOENT);
  CHECK_FAILS_WITH("truncate-negative", truncate("t", -1), EINVAL);
  CHECK_FAILS_WITH("truncate-efault", syscall(SYS_truncate, BAD_PTR, 0), EFAULT);
  CHECK_FAILS_WITH("truncate-through-file", truncate("t/x", 0), ENOTDIR);

  int fd = open("t", O_RDWR);
  CHECK_OK("ftruncate-grow", ftruncate(fd, 8192));
  check("ftruncate-grow-size", size_of("t") == 8192, "size %ld", (long)size_of("t"));
  CHECK_OK("ftruncate-zero", ftruncate(fd, 0));
  check("ftruncate-zero-size", size_of("t") == 0, "size %ld", (long)size_of("t"));
  CHECK_FAILS_WITH("ftruncate-negative", ftruncate(fd, -1), EINVAL);
  close(fd);
  fd = open("t", O_RDONLY);
  CHECK_FAILS_WITH("ftruncate-read-only-fd", ftruncate(fd, 0), EINVAL);
  close(fd);
  fd = open("d", O_RDONLY | O_DIRECTORY);
  CHECK_FAILS_WITH("ftruncate-dir", ftruncate(fd, 0), EINVAL);
  close(fd);
  CHECK_FAILS_WITH("ftruncate-bad-fd", ftruncate(9999, 0), EBADF);
  fd = open("t", O_PATH);
  CHECK_FAILS_WITH("ftruncate-o-path", ftruncate(fd, 0), EBADF);
  close(fd);
}

static void check_fallocate(void) {
  int fd = open("a", O_RDWR | O_CREAT | O_TRUNC, 0644);
  CHECK_OK("fallocate", fallocate(fd, 0, 0, 8192));
  check("fallocate-extends", size_of("a") == 8192, "size %ld", (long)size_of("a"));
  CHECK_OK("fallocate-keep-size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 8192, 8192));
  check("fallocate-keep-size-result", size_of("a") == 8192, "size %ld", (long)size_of("a"));
  char ones[8192];
  memset(ones, 1, sizeof(ones));
  pwrite(fd, ones, sizeof(ones), 0);
  CHECK_OK("fallocate-punch-hole", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
  check("fallocate-punch-hole-zeros", all_zero("a", 0, 4096) && size_of("a") == 8192, "not a hole");
  char b = 0;
  check("fallocate-punch-hole-keeps-rest", pread(fd, &b, 1, 4096) == 1 && b == 1, "data lost");
  CHECK_FAILS_WITH("fallocate-punch-without-keep-size", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);
  CHECK_FAILS_WITH("fallocate-zero-length", fallocate(fd, 0, 0, 0), EINVAL);
  CHECK_FAILS_WITH("fallocate-negative-offset", fallocate(fd, 0, -1, 10), EINVAL);
  CHECK_FAILS_WITH("fallocate-unknown-mode", fallocate(fd, 0x100, 0, 10), EOPNOTSUPP);
  CHECK_FAILS_WITH("fallocate-two-operations", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE, 0, 4096),
                   EOPNOTSUPP);
  close(fd);
  fd = open("a", O_RDONLY);
  CHECK_FAILS_WITH("fallocate-read-only-fd", fallocate(fd, 0, 0, 10), EBADF);
  close(fd);
  CHECK_FAILS_WITH("fallocate-bad-fd", fallocate(9999, 0, 0, 10), EBADF);
}

static void check_sync(void) {
  int fd = open("s", O_RDWR | O_CREAT, 0644);
  write(fd, "sync\n", 5);
  CHECK_OK("fsync", fsync(fd));
  CHECK_OK("fdatasync", fdatasync(fd));
  CHECK_OK("syncfs", syncfs(fd));
  CHECK_OK("sync-file-range", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
  CHECK_FAILS_WITH("sync-file-range-bad-flags", sync_file_range(fd, 0, 0, 0x8), EINVAL);
  CHECK_FAILS_WITH("sync-file-range-negative", sync_file_range(fd, -1, 0, 0), EINVAL);
  CHECK_OK("readahead", readahead(fd, 0, 4096));
  close(fd);
  fd = open("s", O_RDONLY);
  CHECK_OK("fsync-read-only-fd", fsync(fd));
  close(fd);
  fd = open("s", O_WRONLY);
  CHECK_FAILS_WITH("readahead-write-only-fd", readahead(fd, 0, 4096), EBADF);
  close(fd);
  fd = open(".", O_RDONLY | O_DIRECTORY);
  CHECK_OK("fsync-dir", fsync(fd));
  CHECK_OK("fdatasync-dir", fdatasync(fd));
  CHECK_FAILS_WITH("readahead-dir", readahead(fd, 0, 4096), EINVAL);
  close(fd);
  CHECK_OK("sync", syscall(SYS_sync));  // sync(2) always succeeds
  CHECK_FAILS_WITH("fsync-bad-fd", fsync(9999), EBADF);
  CHECK_FAILS_WITH("fdatasync-bad-fd", fdatasync(9999), EBADF);
  CHECK_FAILS_WITH("syncfs-bad-fd", syncfs(9999), EBADF);
  CHECK_FAILS_WITH("sync-file-range-bad-fd", sync_file_range(9999, 0, 0, 0), EBADF);
  fd = open("s", O_PATH);
  CHECK_FAILS_WITH("fsync-o-path", fsync(fd), EBADF);
  close(fd);
}

static void check_fionread(void) {
  write_file("r", "0123456789");
  int fd = open("r", O_RDONLY);
  int n = -1;
  CHECK_OK("fionread", ioctl(fd, FIONREAD, &n));
  check("fionread-whole-file", n == 10, "%d", n);
  char buf[3];
  read(fd, buf, 3);
  CHECK_OK("fionread-after-read", ioctl(fd, FIONREAD, &n));
  check("fionread-after-read-result", n == 7, "%d", n);
  lseek(fd, 0, SEEK_END);
  ioctl(fd, FIONREAD, &n);
  check("fionread-at-end", n == 0, "%d", n);
  lseek(fd, 25, SEEK_SET);
  ioctl(fd, FIONREAD, &n);
  check("fionread-past-end-is-negative", n == -15, "%d", n);  // Linux: size - position, as an int
  CHECK_FAILS_WITH("fionread-efault", ioctl(fd, FIONREAD, BAD_PTR), EFAULT);
  close(fd);
  fd = open(".", O_RDONLY | O_DIRECTORY);
  CHECK_FAILS_WITH("fionread-dir", ioctl(fd, FIONREAD, &n), ENOTTY);
  close(fd);
  CHECK_FAILS_WITH("fionread-bad-fd", ioctl(9999, FIONREAD, &n), EBADF);
}

int main(void) {
  scratch_enter("sizes");
  check_truncate();
  check_fallocate();
  check_sync();
  check_fionread();
  return scratch_leave();
}
