// Opening and descriptors: creat, openat2 (open_how, RESOLVE_*), close_range, preadv,
// pwritev, preadv2, pwritev2, memfd_create, and their errors.
#include "fsops.h"

#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/uio.h>

static long openat2_raw(int dirfd, const char *path, const struct open_how *how, size_t size) {
  return syscall(SYS_openat2, dirfd, path, how, size);
}

static long openat2_simple(int dirfd, const char *path, unsigned long long flags, unsigned long long resolve) {
  struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
  return openat2_raw(dirfd, path, &how, sizeof(how));
}

// Reads the first line of an open file (closes it); "" on failure.
static const char *first_line(long fd) {
  static char buf[64];
  buf[0] = '\0';
  if (fd < 0)
    return buf;
  ssize_t n = pread((int)fd, buf, sizeof(buf) - 1, 0);
  close((int)fd);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

static void check_creat(void) {
  int fd = creat("c", 0640);
  check("creat", fd >= 0, "errno %s", errname(errno));
  check("creat-write-only", write(fd, "abc", 3) == 3 && read(fd, (char[4]){0}, 1) == -1 && errno == EBADF,
        "not write-only");
  close(fd);
  struct stat st;
  check("creat-mode", stat("c", &st) == 0 && (st.st_mode & 0777) == 0640, "mode %o", st.st_mode & 0777);
  fd = creat("c", 0600);
  check("creat-truncates", fd >= 0 && stat("c", &st) == 0 && st.st_size == 0, "size %ld", (long)st.st_size);
  close(fd);
  CHECK_FAILS_WITH("creat-missing-dir", creat("missing/c", 0644), ENOENT);
  CHECK_FAILS_WITH("creat-dir", creat(".", 0644), EISDIR);
  CHECK_FAILS_WITH("creat-efault", syscall(SYS_creat, BAD_PTR, 0644), EFAULT);
  CHECK_FAILS_WITH("open-creat-trailing-slash", open("newfile/", O_CREAT | O_WRONLY, 0644), EISDIR);
}

static void check_openat2(void) {
  mkdir("root", 0755);
  mkdir("root/sub", 0755);
  write_file("root/file", "inside\n");
  write_file("outside", "outside\n");
  symlink("/file", "root/abs-link");
  symlink("sub/../file", "root/rel-link");
  symlink("../outside", "root/escape-link");
  int root = open("root", O_RDONLY | O_DIRECTORY);

  long fd = openat2_simple(root, "file", O_RDONLY, 0);
  check("openat2", !strcmp(first_line(fd), "inside\n"), "errno %s", errname(errno));
  struct open_how how = {.flags = O_RDONLY};
  CHECK_FAILS_WITH("openat2-size-too-small", openat2_raw(root, "file", &how, 16), EINVAL);
  CHECK_FAILS_WITH("openat2-size-too-big", openat2_raw(root, "file", &how, 8192), E2BIG);
  struct {
    struct open_how how;
    unsigned long long extra;
  } bigger = {{.flags = O_RDONLY}, 0};
  fd = openat2_raw(root, "file", &bigger.how, sizeof(bigger));
  check("openat2-larger-struct-zero-tail", !strcmp(first_line(fd), "inside\n"), "errno %s", errname(errno));
  bigger.extra = 1;
  CHECK_FAILS_WITH("openat2-larger-struct-nonzero-tail", openat2_raw(root, "file", &bigger.how, sizeof(bigger)), E2BIG);
  CHECK_FAILS_WITH("openat2-efault-how", openat2_raw(root, "file", BAD_PTR, sizeof(how)), EFAULT);
  CHECK_FAILS_WITH("openat2-efault-path", openat2_raw(root, BAD_PTR, &how, sizeof(how)), EFAULT);
  CHECK_FAILS_WITH("openat2-unknown-flag", openat2_simple(root, "file", 1ull << 40, 0), EINVAL);
  CHECK_FAILS_WITH("openat2-unknown-resolve", openat2_simple(root, "file", O_RDONLY, 0x4000), EINVAL);
  CHECK_FAILS_WITH("openat2-beneath-and-in-root", openat2_simple(root, "file", O_RDONLY, RESOLVE_BENEATH | RESOLVE_IN_ROOT),
                   EINVAL);
  struct open_how mode_without_creat = {.flags = O_RDONLY, .mode = 0644};
  CHECK_FAILS_WITH("openat2-mode-without-creat", openat2_raw(root, "file", &mode_without_creat, sizeof(how)), EINVAL);
  struct open_how bad_mode = {.flags = O_CREAT | O_WRONLY, .mode = 010000};
  CHECK_FAILS_WITH("openat2-bad-mode", openat2_raw(root, "new", &bad_mode, sizeof(how)), EINVAL);
  CHECK_FAILS_WITH("openat2-path-with-rdwr", openat2_simple(root, "file", O_PATH | O_RDWR, 0), EINVAL);
  struct open_how creat_how = {.flags = O_CREAT | O_WRONLY | O_EXCL, .mode = 0600};
  fd = openat2_raw(root, "created", &creat_how, sizeof(creat_how));
  struct stat st;
  check("openat2-create", fd >= 0 && fstat((int)fd, &st) == 0 && (st.st_mode & 0777) == 0600, "errno %s",
        errname(errno));
  close((int)fd);
  CHECK_FAILS_WITH("openat2-cached-create", openat2_simple(root, "x", O_CREAT | O_WRONLY, RESOLVE_CACHED), EAGAIN);

  // RESOLVE_NO_SYMLINKS: no symlink anywhere, but a final one may be opened with O_PATH.
  CHECK_FAILS_WITH("openat2-no-symlinks", openat2_simple(root, "rel-link", O_RDONLY, RESOLVE_NO_SYMLINKS), ELOOP);
  fd = openat2_simple(root, "rel-link", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
  check("openat2-no-symlinks-opath-nofollow", fd >= 0 && fstatat((int)fd, "", &st, AT_EMPTY_PATH) == 0 &&
                                                  S_ISLNK(st.st_mode),
        "errno %s", errname(errno));
  close((int)fd);
  fd = openat2_simple(root, "sub/../file", O_RDONLY, RESOLVE_NO_SYMLINKS);
  check("openat2-no-symlinks-plain-path", !strcmp(first_line(fd), "inside\n"), "errno %s", errname(errno));

  // RESOLVE_BENEATH: never leave the directory.
  fd = openat2_simple(root, "rel-link", O_RDONLY, RESOLVE_BENEATH);
  check("openat2-beneath-inside", !strcmp(first_line(fd), "inside\n"), "errno %s", errname(errno));
  fd = openat2_simple(root, "sub/..", O_RDONLY | O_DIRECTORY, RESOLVE_BENEATH);
  check("openat2-beneath-dotdot-inside", fd >= 0, "errno %s", errname(errno));
  close((int)fd);
  CHECK_FAILS_WITH("openat2-beneath-dotdot", openat2_simple(root, "../outside", O_RDONLY, RESOLVE_BENEATH), EXDEV);
  CHECK_FAILS_WITH("openat2-beneath-absolute", openat2_simple(root, "/etc", O_RDONLY, RESOLVE_BENEATH), EXDEV);
  CHECK_FAILS_WITH("openat2-beneath-absolute-link", openat2_simple(root, "abs-link", O_RDONLY, RESOLVE_BENEATH), EXDEV);
  CHECK_FAILS_WITH("openat2-beneath-escaping-link", openat2_simple(root, "escape-link", O_RDONLY, RESOLVE_BENEATH),
                   EXDEV);

  // RESOLVE_IN_ROOT: the directory is "/" for the path and its symlinks.
  fd = openat2_simple(root, "/file", O_RDONLY, RESOLVE_IN_ROOT);
  check("openat2-in-root-absolute", !strcmp(first_line(fd), "inside\n"), "errno %s", errname(errno));
  fd = openat2_simple(root, "../../../file", O_RDONLY, RESOLVE_IN_ROOT);
  check("openat2-in-root-dotdot", !strcmp(first_line(fd), "inside\n"), "errno %s", errname(errno));
  fd = openat2_simple(root, "abs-link", O_RDONLY, RESOLVE_IN_ROOT);
  check("openat2-in-root-absolute-link", !strcmp(first_line(fd), "inside\n"), "errno %s", errname(errno));
  CHECK_FAILS_WITH("openat2-in-root-escaping-link", openat2_simple(root, "escape-link", O_RDONLY, RESOLVE_IN_ROOT),
                   ENOENT);

  // RESOLVE_NO_XDEV: /proc is another mount than /.
  fd = openat2_simple(root, "file", O_RDONLY, RESOLVE_NO_XDEV);
  check("openat2-no-xdev-same-mount", !strcmp(first_line(fd), "inside\n"), "errno %s", errname(errno));
  CHECK_FAILS_WITH("openat2-no-xdev-crossing", openat2_simple(AT_FDCWD, "/proc/self", O_PATH, RESOLVE_NO_XDEV), EXDEV);
  close(root);
}

static int is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

static void check_close_range(void) {
  int base = open(".", O_RDONLY | O_DIRECTORY);
  for (int fd = 100; fd <= 105; fd++)
    dup2(base, fd);
  CHECK_OK("close-range", syscall(SYS_close_range, 100, 102, 0));
  check("close-range-closed", !is_open(100) && !is_open(101) && !is_open(102) && is_open(103), "wrong set");
  CHECK_OK("close-range-cloexec", syscall(SYS_close_range, 103, 104, CLOSE_RANGE_CLOEXEC));
  check("close-range-cloexec-result", fcntl(103, F_GETFD) == FD_CLOEXEC && fcntl(104, F_GETFD) == FD_CLOEXEC &&
                                          fcntl(105, F_GETFD) == 0,
        "wrong flags");
  CHECK_OK("close-range-to-max", syscall(SYS_close_range, 103, ~0u, 0));
  check("close-range-to-max-result", !is_open(103) && !is_open(105) && is_open(base), "wrong set");
  CHECK_FAILS_WITH("close-range-reversed", syscall(SYS_close_range, 10, 5, 0), EINVAL);
  CHECK_FAILS_WITH("close-range-bad-flags", syscall(SYS_close_range, 100, 105, 0x1), EINVAL);
  close(base);
}

static void check_vectors(void) {
  int fd = open("v", O_RDWR | O_CREAT | O_TRUNC, 0644);
  write(fd, "..........", 10);
  struct iovec w[2] = {{"abc", 3}, {"defg", 4}};
  check("pwritev", pwritev(fd, w, 2, 2) == 7, "short write");
  char a[3], b[5] = {0};
  struct iovec r[2] = {{a, 2}, {b, 4}};
  check("preadv", preadv(fd, r, 2, 1) == 6 && !memcmp(a, ".a", 2) && !memcmp(b, "bcde", 4), "wrong data");
  check("preadv-keeps-position", lseek(fd, 0, SEEK_CUR) == 10, "position moved");
  CHECK_FAILS_WITH("preadv-negative-offset", preadv(fd, r, 2, -1), EINVAL);
  CHECK_FAILS_WITH("preadv-efault-iov", syscall(SYS_preadv, fd, BAD_PTR, 2, 0, 0), EFAULT);
  CHECK_FAILS_WITH("preadv-bad-count", syscall(SYS_preadv, fd, r, -1, 0, 0), EINVAL);
  CHECK_FAILS_WITH("preadv-bad-fd", preadv(9999, r, 2, 0), EBADF);
  lseek(fd, 0, SEEK_SET);
  check("preadv2-current-position", preadv2(fd, r, 2, -1, 0) == 6 && lseek(fd, 0, SEEK_CUR) == 6, "wrong position");
  check("pwritev2-dsync", pwritev2(fd, w, 1, 0, RWF_DSYNC) == 3, "short write");
  check("pwritev2-sync-current-position", pwritev2(fd, w, 1, -1, RWF_SYNC) == 3 && lseek(fd, 0, SEEK_CUR) == 9,
        "wrong position");
  check("pwritev2-append", pwritev2(fd, w + 1, 1, 0, RWF_APPEND) == 4, "short write");
  struct stat st;
  check("pwritev2-append-result", fstat(fd, &st) == 0 && st.st_size == 14, "size %ld", (long)st.st_size);
  CHECK_FAILS_WITH("preadv2-unknown-flag", preadv2(fd, r, 2, 0, 0x1000), EOPNOTSUPP);
  CHECK_FAILS_WITH("pwritev2-unknown-flag", pwritev2(fd, w, 2, 0, 0x1000), EOPNOTSUPP);
  CHECK_FAILS_WITH("preadv2-bad-offset", preadv2(fd, r, 2, -2, 0), EINVAL);
  close(fd);
  fd = open("v", O_WRONLY);
  CHECK_FAILS_WITH("preadv-write-only-fd", preadv(fd, r, 2, 0), EBADF);
  close(fd);
}

static void check_memfd(void) {
  int fd = memfd_create("fsops test", MFD_CLOEXEC);
  check("memfd-create", fd >= 0, "errno %s", errname(errno));
  check("memfd-cloexec", fcntl(fd, F_GETFD) == FD_CLOEXEC, "no FD_CLOEXEC");
  check("memfd-read-write", write(fd, "memory\n", 7) == 7 && !strcmp(first_line(dup(fd)), "memory\n"), "wrong data");
  struct stat st;
  check("memfd-stat", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 7 && (st.st_mode & 0777) == 0777,
        "mode %o size %ld", st.st_mode, (long)st.st_size);
  check("memfd-access-mode", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "not O_RDWR");
  char link[64] = {0}, path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  check("memfd-name", readlink(path, link, sizeof(link) - 1) > 0 && !strcmp(link, "/memfd:fsops test (deleted)"),
        "'%s'", link);
  CHECK_OK("memfd-ftruncate", ftruncate(fd, 4096));
  check("memfd-ftruncate-size", fstat(fd, &st) == 0 && st.st_size == 4096, "size %ld", (long)st.st_size);
  close(fd);
  fd = memfd_create("", 0);
  check("memfd-empty-name", fd >= 0 && fcntl(fd, F_GETFD) == 0, "errno %s", errname(errno));
  close(fd);
  char longname[260];
  memset(longname, 'm', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  CHECK_FAILS_WITH("memfd-name-too-long", memfd_create(longname, 0), EINVAL);
  CHECK_FAILS_WITH("memfd-bad-flags", memfd_create("x", 0x100), EINVAL);
  CHECK_FAILS_WITH("memfd-efault", syscall(SYS_memfd_create, BAD_PTR, 0), EFAULT);
}

// O_CREAT | O_EXCL on a symlink, dangling or not, is EEXIST and makes nothing; an empty
// path given to readlinkat names the symlink open at dirfd (O_PATH | O_NOFOLLOW).
static void check_symlink_edges(void) {
  check("dangling-symlink", symlink("made-by-open", "dangling") == 0, "errno %s", errname(errno));
  errno = 0;
  int fd = open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0644);
  int err = errno;
  check("excl-dangling-symlink", fd == -1 && err == EEXIST, "fd %d, errno %s", fd, errname(err));
  check("excl-dangling-makes-nothing", access("made-by-open", F_OK) == -1, "the target was made");
  int lfd = open("dangling", O_PATH | O_NOFOLLOW);
  char buf[64] = {0};
  ssize_t n = readlinkat(lfd, "", buf, sizeof(buf));
  check("readlinkat-empty-path", n == 12 && !memcmp(buf, "made-by-open", 12), "%zd, errno %s", n, errname(errno));
  close(lfd);
  int dfd = open(".", O_RDONLY | O_DIRECTORY);
  n = readlinkat(dfd, "", buf, sizeof(buf));
  check("readlinkat-empty-path-dir", n == -1 && errno == ENOENT, "%zd, errno %s", n, errname(errno));
  close(dfd);
  n = readlinkat(AT_FDCWD, "", buf, sizeof(buf));
  check("readlinkat-empty-path-cwd", n == -1 && errno == ENOENT, "%zd, errno %s", n, errname(errno));
  unlink("dangling");
}

int main(void) {
  scratch_enter("opening");
  check_creat();
  check_symlink_edges();
  check_openat2();
  check_close_range();
  check_vectors();
  check_memfd();
  return scratch_leave();
}
