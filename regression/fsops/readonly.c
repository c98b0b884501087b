// A read-only mount: every change is EROFS (in Linux's order against EEXIST, EXDEV...),
// reading still works, statfs reports ST_RDONLY.
//
//   readonly [--require-readonly] DIR
//
// DIR (made by make-tree: f, d/x, l -> f) is mounted read-only under Carbyne by the
// test's --mount. A native run has no such mount and DIR is writable there: the checks
// are then skipped (the reason goes to stderr) and reported as passed, so that both runs
// print the same lines; nothing in DIR is touched. --require-readonly (the Carbyne-only
// test) fails instead of skipping.
#include "fsops.h"

#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <utime.h>

static int g_skip;

#define RO_FAILS(name, call, want)   \
  do {                               \
    if (g_skip)                      \
      check(name, 1, "-");           \
    else                             \
      CHECK_FAILS_WITH(name, call, want); \
  } while (0)

#define RO_OK(name, call)   \
  do {                      \
    if (g_skip)             \
      check(name, 1, "-");  \
    else                    \
      CHECK_OK(name, call); \
  } while (0)

static char g_path[64][512];
static int g_paths;

// DIR/rel, kept until exit.
static const char *in_dir(const char *dir, const char *rel) {
  char *p = g_path[g_paths++ % 64];
  snprintf(p, sizeof(g_path[0]), "%s/%s", dir, rel);
  return p;
}

int main(int argc, char **argv) {
  int require = argc > 1 && !strcmp(argv[1], "--require-readonly");
  if (argc != 2 + require) {
    fprintf(stderr, "usage: readonly [--require-readonly] DIR\n");
    return 2;
  }
  const char *dir = argv[1 + require];
  struct statvfs v;
  if (statvfs(dir, &v) != 0) {
    printf("FAIL statvfs: %s\n", errname(errno));
    return 1;
  }
  int readonly = (v.f_flag & ST_RDONLY) != 0;
  // Not trusting statvfs alone: a directory that takes a new name is not read-only.
  // A name of this run's own: two native runs of the test may probe at once.
  char probe_name[32];
  snprintf(probe_name, sizeof(probe_name), "probe-%d", (int)getpid());
  const char *probe = in_dir(dir, probe_name);
  int made = mkdir(probe, 0755) == 0;
  int probe_err = errno;
  if (made)
    rmdir(probe);
  check("readonly-agrees-with-statfs", readonly ? !made && probe_err == EROFS : made,
        "statvfs says %s, mkdir gave %s", readonly ? "read-only" : "writable", made ? "success" : errname(probe_err));
  if (!readonly) {
    if (require) {
      printf("FAIL readonly-required: %s is not mounted read-only\n", dir);
      return 1;
    }
    fprintf(stderr, "readonly: skipping the EROFS checks: %s is writable here (a native run has no read-only mount)\n",
            dir);
    g_skip = 1;
  }
  const char *f = in_dir(dir, "f"), *d = in_dir(dir, "d"), *l = in_dir(dir, "l");
  const char *missing = in_dir(dir, "missing"), *fresh = in_dir(dir, "fresh");

  RO_FAILS("erofs-mkdir", mkdir(fresh, 0755), EROFS);
  RO_FAILS("erofs-mkdir-exists-is-eexist", mkdir(d, 0755), EEXIST);
  RO_FAILS("erofs-mkdir-missing-parent-is-enoent", mkdir(in_dir(dir, "missing/x"), 0755), ENOENT);
  RO_FAILS("erofs-rmdir", rmdir(d), EROFS);
  RO_FAILS("erofs-rmdir-missing", rmdir(missing), EROFS);
  RO_FAILS("erofs-unlink", unlink(f), EROFS);
  RO_FAILS("erofs-unlink-missing", unlink(missing), EROFS);
  RO_FAILS("erofs-rename", rename(f, fresh), EROFS);
  RO_FAILS("erofs-rename-out-is-exdev", rename(f, "fsops-readonly-moved"), EXDEV);
  RO_FAILS("erofs-link", link(f, fresh), EROFS);
  RO_FAILS("erofs-link-exists-is-eexist", link(f, l), EEXIST);
  RO_FAILS("erofs-symlink", symlink("f", fresh), EROFS);
  RO_FAILS("erofs-mknod", mknod(fresh, S_IFREG | 0644, 0), EROFS);
  RO_FAILS("erofs-open-write", open(f, O_WRONLY), EROFS);
  RO_FAILS("erofs-open-rdwr", open(f, O_RDWR), EROFS);
  RO_FAILS("erofs-open-truncate", open(f, O_RDONLY | O_TRUNC), EROFS);
  RO_FAILS("erofs-open-create", open(fresh, O_WRONLY | O_CREAT, 0644), EROFS);
  RO_FAILS("erofs-open-dir-write", open(d, O_WRONLY), EISDIR);
  RO_FAILS("erofs-creat", creat(fresh, 0644), EROFS);
  RO_FAILS("erofs-chmod", chmod(f, 0600), EROFS);
  RO_FAILS("erofs-chown", chown(f, (uid_t)-1, (gid_t)-1), EROFS);
  RO_FAILS("erofs-lchown", lchown(l, (uid_t)-1, (gid_t)-1), EROFS);
  RO_FAILS("erofs-utime", utime(f, NULL), EROFS);
  RO_FAILS("erofs-utimensat", utimensat(AT_FDCWD, f, NULL, 0), EROFS);
  RO_FAILS("erofs-truncate", truncate(f, 0), EROFS);
  RO_FAILS("erofs-access-write", access(f, W_OK), EROFS);
  RO_FAILS("erofs-access-write-dir", access(d, W_OK), EROFS);
  RO_OK("erofs-access-read", access(f, R_OK));
  RO_FAILS("erofs-missing-is-enoent-for-chmod", chmod(missing, 0600), ENOENT);
  int fd = g_skip ? -1 : open(f, O_RDONLY);
  RO_OK("erofs-open-read", fd >= 0 ? 0 : -1);
  char buf[8] = {0};
  if (g_skip)
    check("erofs-read", 1, "-");
  else
    check("erofs-read", read(fd, buf, sizeof(buf) - 1) == 5 && !strcmp(buf, "file\n"), "'%s'", buf);
  RO_FAILS("erofs-fchmod", fchmod(fd, 0600), EROFS);
  RO_FAILS("erofs-fchown", fchown(fd, (uid_t)-1, (gid_t)-1), EROFS);
  RO_FAILS("erofs-futimens", futimens(fd, NULL), EROFS);
  RO_FAILS("erofs-ftruncate-read-only-fd", ftruncate(fd, 0), EINVAL);
  RO_FAILS("erofs-fallocate-read-only-fd", fallocate(fd, 0, 0, 10), EBADF);
  RO_OK("erofs-fsync", fsync(fd));
  struct statfs s;
  if (g_skip)
    check("erofs-fstatfs-rdonly", 1, "-");
  else
    check("erofs-fstatfs-rdonly", fstatfs(fd, &s) == 0 && (s.f_flags & ST_RDONLY), "flags %lx",
          (unsigned long)s.f_flags);
  if (fd >= 0)
    close(fd);
  return check_exit_status();
}
