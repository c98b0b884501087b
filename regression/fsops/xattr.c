// Extended attributes: the twelve calls by path, without following, and by descriptor, on a
// regular file, a directory, a symlink and a FIFO, in the directory given (a chroot mount:
// the host's attributes; a tmpfs: the LibOS's own). The flags, the name and size limits,
// ERANGE for short buffers, ENODATA, what user.* allows on which kind of file, trusted.*
// (as root), an unknown namespace, O_PATH descriptors, bad pointers. Passes natively first.
//
//   fsops-xattr DIR
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../check.h"

// An address no process maps (through a volatile, so that the compiler does not see it).
static void *volatile g_bad_ptr = (void *)8;
#define BAD_PTR g_bad_ptr

static char g_dir[4096];

static const char *at(const char *name) {
  static char buf[2][4200];
  static int which;
  which ^= 1;
  snprintf(buf[which], sizeof(buf[which]), "%s/%s", g_dir, name);
  return buf[which];
}

// The user.* names in a listxattr answer, in sorted order, joined by commas (the host's
// file systems list in their own orders; only user.* is the application's).
static void user_names(const char *list, ssize_t len, char *out, size_t size) {
  const char *names[64];
  int n = 0;
  for (ssize_t i = 0; i < len && n < 64; i += strlen(list + i) + 1)
    if (strncmp(list + i, "user.", 5) == 0)
      names[n++] = list + i;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (strcmp(names[j], names[i]) < 0) {
        const char *t = names[i];
        names[i] = names[j];
        names[j] = t;
      }
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    strncat(out, names[i], size - strlen(out) - 2);
    if (i + 1 < n)
      strcat(out, ",");
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fsops-xattr DIR\n");
    return 2;
  }
  const char *tag = getenv("FSOPS_SCRATCH_TAG");
  snprintf(g_dir, sizeof(g_dir), "%s/xattr-%s", argv[1], tag ? tag : "carbyne");
  // A fresh scratch directory (the previous run's entries removed one by one).
  static const char *old[] = {"file", "link", "fifo", "dir"};
  for (int i = 0; i < 4; i++) {
    unlink(at(old[i]));
    rmdir(at(old[i]));
  }
  rmdir(g_dir);
  check("mkdir", mkdir(g_dir, 0755) == 0, "%s", strerrorname_np(errno));
  int fd = open(at("file"), O_CREAT | O_RDWR, 0644);
  check("setup", fd >= 0 && mkdir(at("dir"), 0755) == 0 && symlink("file", at("link")) == 0 &&
                     mkfifo(at("fifo"), 0644) == 0,
        "%s", strerrorname_np(errno));

  // Set and get by path.
  check("set", setxattr(at("file"), "user.a", "hello", 5, 0) == 0, "%s", strerrorname_np(errno));
  char buf[2048];
  check("get-length", getxattr(at("file"), "user.a", NULL, 0) == 5, "%s", strerrorname_np(errno));
  ssize_t n = getxattr(at("file"), "user.a", buf, sizeof(buf));
  check("get", n == 5 && memcmp(buf, "hello", 5) == 0, "%zd %s", n, strerrorname_np(errno));
  CHECK_FAILS_WITH("get-short-buffer", getxattr(at("file"), "user.a", buf, 2), ERANGE);
  CHECK_FAILS_WITH("get-missing", getxattr(at("file"), "user.none", buf, sizeof(buf)), ENODATA);
  CHECK_FAILS_WITH("get-no-file", getxattr(at("none"), "user.a", buf, sizeof(buf)), ENOENT);

  // Flags.
  CHECK_FAILS_WITH("create-exists", setxattr(at("file"), "user.a", "x", 1, XATTR_CREATE), EEXIST);
  CHECK_FAILS_WITH("replace-missing", setxattr(at("file"), "user.b", "x", 1, XATTR_REPLACE), ENODATA);
  CHECK_FAILS_WITH("bad-flags", setxattr(at("file"), "user.b", "x", 1, 4), EINVAL);
  check("replace", setxattr(at("file"), "user.a", "replaced", 8, XATTR_REPLACE) == 0 &&
                       getxattr(at("file"), "user.a", buf, sizeof(buf)) == 8,
        "%s", strerrorname_np(errno));
  check("create", setxattr(at("file"), "user.b", "", 0, XATTR_CREATE) == 0 &&
                      getxattr(at("file"), "user.b", buf, sizeof(buf)) == 0,
        "%s", strerrorname_np(errno));
  memset(buf, 'v', 1000);
  check("set-1000-bytes", setxattr(at("file"), "user.big", buf, 1000, 0) == 0 &&
                              getxattr(at("file"), "user.big", NULL, 0) == 1000,
        "%s", strerrorname_np(errno));

  // Names and sizes.
  CHECK_FAILS_WITH("empty-name", setxattr(at("file"), "", "x", 1, 0), ERANGE);
  char long_name[300];
  memset(long_name, 'n', sizeof(long_name));
  memcpy(long_name, "user.", 5);
  long_name[256] = '\0';
  CHECK_FAILS_WITH("name-256", setxattr(at("file"), long_name, "x", 1, 0), ERANGE);
  CHECK_FAILS_WITH("name-256-get", getxattr(at("file"), long_name, buf, sizeof(buf)), ERANGE);
  static char huge[65537];
  CHECK_FAILS_WITH("value-too-big", setxattr(at("file"), "user.huge", huge, sizeof(huge), 0), E2BIG);
  CHECK_FAILS_WITH("unknown-namespace", setxattr(at("file"), "other.a", "x", 1, 0), EOPNOTSUPP);
  CHECK_FAILS_WITH("unknown-namespace-get", getxattr(at("file"), "other.a", buf, sizeof(buf)), EOPNOTSUPP);
  CHECK_FAILS_WITH("no-namespace", setxattr(at("file"), "plain", "x", 1, 0), EOPNOTSUPP);

  // List.
  char names[512];
  n = listxattr(at("file"), names, sizeof(names));
  user_names(names, n, buf, sizeof(buf));
  check("list", n > 0 && strcmp(buf, "user.a,user.b,user.big") == 0, "%zd: %s", n, buf);
  ssize_t need = listxattr(at("file"), NULL, 0);
  check("list-length", need == n, "%zd, listed %zd", need, n);
  CHECK_FAILS_WITH("list-short-buffer", listxattr(at("file"), names, 3), ERANGE);

  // Remove.
  check("remove", removexattr(at("file"), "user.b") == 0, "%s", strerrorname_np(errno));
  CHECK_FAILS_WITH("remove-missing", removexattr(at("file"), "user.b"), ENODATA);
  CHECK_FAILS_WITH("get-removed", getxattr(at("file"), "user.b", buf, sizeof(buf)), ENODATA);

  // Directories take user.*; symlinks and FIFOs do not (EPERM to set, ENODATA to get).
  check("dir", setxattr(at("dir"), "user.d", "dv", 2, 0) == 0 && getxattr(at("dir"), "user.d", buf, sizeof(buf)) == 2,
        "%s", strerrorname_np(errno));
  CHECK_FAILS_WITH("symlink-set", lsetxattr(at("link"), "user.l", "x", 1, 0), EPERM);
  CHECK_FAILS_WITH("symlink-get", lgetxattr(at("link"), "user.l", buf, sizeof(buf)), ENODATA);
  CHECK_FAILS_WITH("symlink-remove", lremovexattr(at("link"), "user.l"), EPERM);
  n = llistxattr(at("link"), names, sizeof(names));
  user_names(names, n, buf, sizeof(buf));
  check("symlink-list", n >= 0 && buf[0] == '\0', "%zd: %s", n, buf);
  check("follow-link", setxattr(at("link"), "user.via", "1", 1, 0) == 0 &&
                           getxattr(at("file"), "user.via", buf, sizeof(buf)) == 1,
        "%s", strerrorname_np(errno));
  check("follow-link-get", lgetxattr(at("file"), "user.via", buf, sizeof(buf)) == 1, "%s", strerrorname_np(errno));
  CHECK_FAILS_WITH("fifo-set", setxattr(at("fifo"), "user.f", "x", 1, 0), EPERM);
  CHECK_FAILS_WITH("fifo-get", getxattr(at("fifo"), "user.f", buf, sizeof(buf)), ENODATA);

  // By descriptor.
  check("fset", fsetxattr(fd, "user.fd", "by fd", 5, 0) == 0, "%s", strerrorname_np(errno));
  n = fgetxattr(fd, "user.fd", buf, sizeof(buf));
  check("fget", n == 5 && memcmp(buf, "by fd", 5) == 0, "%zd %s", n, strerrorname_np(errno));
  n = flistxattr(fd, names, sizeof(names));
  user_names(names, n, buf, sizeof(buf));
  check("flist", strcmp(buf, "user.a,user.big,user.fd,user.via") == 0, "%zd: %s", n, buf);
  check("fremove", fremovexattr(fd, "user.fd") == 0 && fgetxattr(fd, "user.fd", buf, sizeof(buf)) == -1 &&
                       errno == ENODATA,
        "%s", strerrorname_np(errno));
  int ro = open(at("file"), O_RDONLY);
  check("fset-read-only-descriptor", fsetxattr(ro, "user.ro", "1", 1, 0) == 0, "%s", strerrorname_np(errno));
  close(ro);
  int path_fd = open(at("file"), O_PATH);
  CHECK_FAILS_WITH("fget-o-path", fgetxattr(path_fd, "user.a", buf, sizeof(buf)), EBADF);
  CHECK_FAILS_WITH("fset-o-path", fsetxattr(path_fd, "user.a", "x", 1, 0), EBADF);
  close(path_fd);
  CHECK_FAILS_WITH("fget-bad-fd", fgetxattr(-1, "user.a", buf, sizeof(buf)), EBADF);
  int dir_fd = open(at("dir"), O_RDONLY | O_DIRECTORY);
  check("fget-dir", fgetxattr(dir_fd, "user.d", buf, sizeof(buf)) == 2, "%s", strerrorname_np(errno));
  close(dir_fd);

  // trusted.* (root only: this check runs as root in CI).
  if (geteuid() == 0) {
    check("trusted-set", setxattr(at("file"), "trusted.t", "tv", 2, 0) == 0, "%s", strerrorname_np(errno));
    check("trusted-get", getxattr(at("file"), "trusted.t", buf, sizeof(buf)) == 2, "%s", strerrorname_np(errno));
    n = listxattr(at("file"), names, sizeof(names));
    int listed = 0;
    for (ssize_t i = 0; i < n; i += strlen(names + i) + 1)
      listed |= strcmp(names + i, "trusted.t") == 0;
    check("trusted-listed", listed, "%zd", n);
    check("trusted-remove", removexattr(at("file"), "trusted.t") == 0, "%s", strerrorname_np(errno));
  } else {
    CHECK_FAILS_WITH("trusted-set", setxattr(at("file"), "trusted.t", "tv", 2, 0), EPERM);
    CHECK_FAILS_WITH("trusted-get", getxattr(at("file"), "trusted.t", buf, sizeof(buf)), ENODATA);
  }

  // Bad pointers.
  CHECK_FAILS_WITH("bad-path", getxattr(BAD_PTR, "user.a", buf, sizeof(buf)), EFAULT);
  CHECK_FAILS_WITH("bad-name", getxattr(at("file"), BAD_PTR, buf, sizeof(buf)), EFAULT);
  CHECK_FAILS_WITH("bad-value-set", setxattr(at("file"), "user.a", BAD_PTR, 4, 0), EFAULT);
  CHECK_FAILS_WITH("bad-value-get", getxattr(at("file"), "user.a", BAD_PTR, 100), EFAULT);
  CHECK_FAILS_WITH("bad-list", listxattr(at("file"), BAD_PTR, 100), EFAULT);

  close(fd);
  unlink(at("file"));
  unlink(at("link"));
  unlink(at("fifo"));
  rmdir(at("dir"));
  rmdir(g_dir);
  return check_exit_status();
}
