// Attributes: chmod, fchmod, fchmodat, chown, fchown, lchown, fchownat, utime, utimes,
// futimesat, utimensat (futimens), access, faccessat, faccessat2, and their errors.
#include "fsops.h"

#include <sys/time.h>
#include <time.h>
#include <utime.h>

#include "../unprivileged.h"

static struct stat lst(const char *path) {
  struct stat st;
  memset(&st, 0, sizeof(st));
  lstat(path, &st);
  return st;
}

static unsigned mode_of(const char *path) { return lst(path).st_mode & 07777; }

static void check_chmod(void) {
  write_file("f", "data\n");
  CHECK_OK("chmod", chmod("f", 0600));
  check("chmod-result", mode_of("f") == 0600, "mode %o", mode_of("f"));
  CHECK_OK("chmod-type-bits-ignored", chmod("f", S_IFDIR | 0640));
  check("chmod-type-bits-ignored-result", S_ISREG(lst("f").st_mode) && mode_of("f") == 0640, "mode %o",
        lst("f").st_mode);
  mkdir("d", 0755);
  CHECK_OK("chmod-dir-sticky", chmod("d", 01777));
  check("chmod-dir-sticky-result", mode_of("d") == 01777, "mode %o", mode_of("d"));
  symlink("f", "s");
  unsigned link_mode = mode_of("s");
  CHECK_OK("chmod-follows-symlink", chmod("s", 0604));
  check("chmod-follows-symlink-result", mode_of("f") == 0604 && mode_of("s") == link_mode, "file %o link %o",
        mode_of("f"), mode_of("s"));
  CHECK_FAILS_WITH("chmod-missing", chmod("missing", 0644), ENOENT);
  CHECK_FAILS_WITH("chmod-through-file", chmod("f/x", 0644), ENOTDIR);
  CHECK_FAILS_WITH("chmod-efault", syscall(SYS_chmod, BAD_PTR, 0644), EFAULT);
  int fd = open("f", O_RDONLY);
  CHECK_OK("fchmod", fchmod(fd, 0640));
  check("fchmod-result", mode_of("f") == 0640, "mode %o", mode_of("f"));
  close(fd);
  CHECK_FAILS_WITH("fchmod-bad-fd", fchmod(9999, 0644), EBADF);
  int pathfd = open("f", O_PATH);
  CHECK_FAILS_WITH("fchmod-o-path", fchmod(pathfd, 0644), EBADF);
  close(pathfd);
  int dirfd = open("d", O_RDONLY | O_DIRECTORY);
  CHECK_OK("fchmod-dir", fchmod(dirfd, 0750));
  check("fchmod-dir-result", mode_of("d") == 0750, "mode %o", mode_of("d"));
  write_file("d/inner", "x");
  CHECK_OK("fchmodat", fchmodat(dirfd, "inner", 0611, 0));
  check("fchmodat-result", mode_of("d/inner") == 0611, "mode %o", mode_of("d/inner"));
  CHECK_FAILS_WITH("fchmodat-bad-dirfd", syscall(SYS_fchmodat, 9999, "inner", 0644), EBADF);
  // glibc answers this itself (O_PATH, fstatat): a symlink's mode cannot change.
  CHECK_FAILS_WITH("fchmodat-nofollow-symlink", fchmodat(AT_FDCWD, "s", 0644, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
  close(dirfd);
}

static void check_chown(void) {
  uid_t uid = geteuid();
  gid_t gid = getegid();
  write_file("o", "x");
  symlink("o", "os");
  CHECK_OK("chown-unchanged", chown("o", (uid_t)-1, (gid_t)-1));
  CHECK_OK("chown-to-self", chown("o", uid, gid));
  check("chown-to-self-result", lst("o").st_uid == uid && lst("o").st_gid == gid, "owner changed");
  if (uid == 0) {
    CHECK_OK("chown-other", chown("o", 1234, 5678));
    check("chown-other-result", lst("o").st_uid == 1234 && lst("o").st_gid == 5678, "owner %u:%u",
          lst("o").st_uid, lst("o").st_gid);
    CHECK_OK("chown-group-only", chown("o", (uid_t)-1, 4321));
    check("chown-group-only-result", lst("o").st_uid == 1234 && lst("o").st_gid == 4321, "owner %u:%u",
          lst("o").st_uid, lst("o").st_gid);
    CHECK_OK("lchown", lchown("os", 2222, 3333));
    check("lchown-changes-the-link", lst("os").st_uid == 2222 && lst("o").st_uid == 1234, "link %u file %u",
          lst("os").st_uid, lst("o").st_uid);
    CHECK_OK("chown-follows-symlink", chown("os", 0, 0));
    check("chown-follows-symlink-result", lst("o").st_uid == 0 && lst("os").st_uid == 2222, "link %u file %u",
          lst("os").st_uid, lst("o").st_uid);
    int fd = open("o", O_RDONLY);
    CHECK_OK("fchown", fchown(fd, 77, 88));
    check("fchown-result", lst("o").st_uid == 77 && lst("o").st_gid == 88, "owner %u:%u", lst("o").st_uid,
          lst("o").st_gid);
    close(fd);
    int pathfd = open("o", O_PATH);
    CHECK_OK("fchownat-empty-path", fchownat(pathfd, "", 99, 111, AT_EMPTY_PATH));
    check("fchownat-empty-path-result", lst("o").st_uid == 99 && lst("o").st_gid == 111, "owner %u:%u",
          lst("o").st_uid, lst("o").st_gid);
    close(pathfd);
    CHECK_OK("fchownat-nofollow", fchownat(AT_FDCWD, "os", 5, 6, AT_SYMLINK_NOFOLLOW));
    check("fchownat-nofollow-result", lst("os").st_uid == 5 && lst("o").st_uid == 99, "link %u file %u",
          lst("os").st_uid, lst("o").st_uid);
    chown("o", uid, gid);
  } else {
    printf("skip chown-other: only root gives files away, and this run did not start as root\n");
  }
  // Not privileged (root switches to another user for these): the owner keeps the owner and
  // may set the group to one of its own, nothing else; others change nothing.
  write_file("uo", "x");
  write_file("uo-other", "x");
  int uo_fd = open("uo", O_RDONLY);
  if (unprivileged_give("uo") != 0)
    check("unprivileged-chown-setup", 0, "%s", errname(errno));
  if (unprivileged_enter()) {
    uid_t me = geteuid();
    gid_t my_group = getegid();
    CHECK_OK("unprivileged-chown-same-owner", chown("uo", me, (gid_t)-1));
    CHECK_OK("unprivileged-chown-own-group", chown("uo", (uid_t)-1, my_group));
    CHECK_FAILS_WITH("unprivileged-chown-other", chown("uo", me + 1, (gid_t)-1), EPERM);
    CHECK_FAILS_WITH("unprivileged-chown-other-group", chown("uo", (uid_t)-1, 4242424), EPERM);  // no group of ours
    CHECK_FAILS_WITH("unprivileged-fchown-other", fchown(uo_fd, me + 1, (gid_t)-1), EPERM);
    CHECK_OK("unprivileged-chown-unchanged", chown("uo", (uid_t)-1, (gid_t)-1));
    check("unprivileged-chown-result", lst("uo").st_uid == me && lst("uo").st_gid == my_group, "owner %u:%u",
          lst("uo").st_uid, lst("uo").st_gid);
    if (unprivileged_switches()) {
      // Root's file: not ours to change, not even to root's own ids.
      CHECK_FAILS_WITH("unprivileged-chown-not-owner", chown("uo-other", 0, 0), EPERM);
      CHECK_FAILS_WITH("unprivileged-chmod-not-owner", chmod("uo-other", 0600), EPERM);
      CHECK_OK("unprivileged-chmod-own", chmod("uo", 0600));
    }
    unprivileged_leave();
  }
  close(uo_fd);
  CHECK_FAILS_WITH("chown-missing", chown("missing", uid, gid), ENOENT);
  CHECK_FAILS_WITH("fchown-bad-fd", fchown(9999, uid, gid), EBADF);
  int pathfd = open("o", O_PATH);
  CHECK_FAILS_WITH("fchown-o-path", fchown(pathfd, uid, gid), EBADF);
  close(pathfd);
  CHECK_FAILS_WITH("fchownat-bad-flags", fchownat(AT_FDCWD, "o", uid, gid, 0x2), EINVAL);
  CHECK_FAILS_WITH("fchownat-empty-without-flag", fchownat(AT_FDCWD, "", uid, gid, 0), ENOENT);
  CHECK_FAILS_WITH("chown-efault", syscall(SYS_chown, BAD_PTR, uid, gid), EFAULT);
}

static int times_are(const char *path, time_t asec, long ansec, time_t msec, long mnsec) {
  struct stat st = lst(path);
  return st.st_atim.tv_sec == asec && st.st_atim.tv_nsec == ansec && st.st_mtim.tv_sec == msec &&
         st.st_mtim.tv_nsec == mnsec;
}

static int mtime_is_now(const char *path) {
  time_t now = time(NULL);
  struct stat st = lst(path);
  return st.st_mtim.tv_sec >= now - 60 && st.st_mtim.tv_sec <= now + 60;
}

static void check_times(void) {
  write_file("t", "x");
  symlink("t", "ts");
  struct timespec ts[2] = {{1000000000, 123456789}, {1234567890, 500000000}};
  CHECK_OK("utimensat", utimensat(AT_FDCWD, "t", ts, 0));
  check("utimensat-result", times_are("t", 1000000000, 123456789, 1234567890, 500000000), "times differ");
  struct timespec omit_a[2] = {{0, UTIME_OMIT}, {1500000000, 0}};
  CHECK_OK("utimensat-omit-atime", utimensat(AT_FDCWD, "t", omit_a, 0));
  check("utimensat-omit-atime-result", times_are("t", 1000000000, 123456789, 1500000000, 0), "times differ");
  struct timespec now_m[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  CHECK_OK("utimensat-now-mtime", utimensat(AT_FDCWD, "t", now_m, 0));
  check("utimensat-now-mtime-result", mtime_is_now("t") && lst("t").st_atim.tv_sec == 1000000000, "times differ");
  struct timespec old[2] = {{0, 0}, {86400 * 365, 0}};
  CHECK_OK("utimensat-nofollow", utimensat(AT_FDCWD, "ts", old, AT_SYMLINK_NOFOLLOW));
  check("utimensat-nofollow-sets-the-link", lst("ts").st_mtim.tv_sec == 86400 * 365 && mtime_is_now("t"),
        "wrong object");
  CHECK_OK("utimensat-follows-symlink", utimensat(AT_FDCWD, "ts", ts, 0));
  check("utimensat-follows-symlink-result", times_are("t", 1000000000, 123456789, 1234567890, 500000000),
        "times differ");
  struct timespec both_omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
  CHECK_OK("utimensat-both-omit-ignores-path", utimensat(AT_FDCWD, "missing", both_omit, 0));
  struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
  CHECK_FAILS_WITH("utimensat-bad-nsec", utimensat(AT_FDCWD, "t", bad, 0), EINVAL);
  CHECK_FAILS_WITH("utimensat-missing", utimensat(AT_FDCWD, "missing", ts, 0), ENOENT);
  CHECK_FAILS_WITH("utimensat-bad-flags", utimensat(AT_FDCWD, "t", ts, 0x2), EINVAL);
  CHECK_FAILS_WITH("utimensat-efault-times", syscall(SYS_utimensat, AT_FDCWD, "t", BAD_PTR, 0), EFAULT);
  CHECK_FAILS_WITH("utimensat-efault-path", syscall(SYS_utimensat, AT_FDCWD, BAD_PTR, ts, 0), EFAULT);
  CHECK_FAILS_WITH("utimensat-null-path-cwd", syscall(SYS_utimensat, AT_FDCWD, NULL, ts, 0), EFAULT);
  int fd = open("t", O_RDONLY);
  struct timespec fts[2] = {{222, 0}, {333, 0}};
  CHECK_OK("futimens", futimens(fd, fts));
  check("futimens-result", times_are("t", 222, 0, 333, 0), "times differ");
  CHECK_FAILS_WITH("futimens-null-path-flags", syscall(SYS_utimensat, fd, NULL, fts, AT_SYMLINK_NOFOLLOW), EINVAL);
  close(fd);
  CHECK_FAILS_WITH("futimens-bad-fd", futimens(9999, fts), EBADF);
  int pathfd = open("t", O_PATH);
  CHECK_FAILS_WITH("futimens-o-path", futimens(pathfd, fts), EBADF);
  struct timespec pts[2] = {{444, 0}, {555, 0}};
  CHECK_OK("utimensat-empty-path", utimensat(pathfd, "", pts, AT_EMPTY_PATH));
  check("utimensat-empty-path-result", times_are("t", 444, 0, 555, 0), "times differ");
  close(pathfd);

  struct utimbuf ub = {111, 222};
  CHECK_OK("utime", utime("t", &ub));
  check("utime-result", times_are("t", 111, 0, 222, 0), "times differ");
  CHECK_OK("utime-null-is-now", utime("t", NULL));
  check("utime-null-result", mtime_is_now("t"), "not now");
  struct timeval tv[2] = {{1000, 250000}, {2000, 750000}};
  CHECK_OK("utimes", utimes("t", tv));
  check("utimes-result", times_are("t", 1000, 250000000, 2000, 750000000), "times differ");
  struct timeval badtv[2] = {{1000, 1000000}, {2000, 0}};
  CHECK_FAILS_WITH("utimes-bad-usec", utimes("t", badtv), EINVAL);
  mkdir("td", 0755);
  write_file("td/x", "x");
  int dirfd = open("td", O_RDONLY | O_DIRECTORY);
  CHECK_OK("futimesat", syscall(SYS_futimesat, dirfd, "x", tv));
  check("futimesat-result", times_are("td/x", 1000, 250000000, 2000, 750000000), "times differ");
  CHECK_FAILS_WITH("futimesat-bad-dirfd", syscall(SYS_futimesat, 9999, "x", tv), EBADF);
  close(dirfd);
  CHECK_FAILS_WITH("utime-efault", syscall(SYS_utime, "t", BAD_PTR), EFAULT);
}

static void check_access(void) {
  int root = geteuid() == 0;
  write_file("a-none", "x");
  chmod("a-none", 0000);
  write_file("a-rw", "x");
  chmod("a-rw", 0644);
  write_file("a-x", "x");
  chmod("a-x", 0100);
  mkdir("a-dir", 0000);
  CHECK_OK("access-exists", access("a-rw", F_OK));
  CHECK_FAILS_WITH("access-missing", access("missing", F_OK), ENOENT);
  CHECK_OK("access-rw", access("a-rw", R_OK | W_OK));
  CHECK_FAILS_WITH("access-x-without-x-bits", access("a-rw", X_OK), EACCES);
  if (root) {
    CHECK_OK("access-none-read", access("a-none", R_OK));
    CHECK_OK("access-none-write", access("a-none", W_OK));
    CHECK_OK("access-x-one-bit", access("a-x", X_OK | R_OK));
    CHECK_OK("access-dir-x-no-bits", access("a-dir", X_OK));
  } else {
    printf("skip access-as-root: this run did not start as root\n");
  }
  // The same files for a user without privilege (root switches to one for these).
  if (unprivileged_enter()) {
    CHECK_FAILS_WITH("access-none-read-unprivileged", access("a-none", R_OK), EACCES);
    CHECK_FAILS_WITH("access-none-write-unprivileged", access("a-none", W_OK), EACCES);
    CHECK_FAILS_WITH("access-x-one-bit-unprivileged", access("a-x", X_OK | R_OK), EACCES);
    CHECK_FAILS_WITH("access-dir-x-no-bits-unprivileged", access("a-dir", X_OK), EACCES);
    CHECK_FAILS_WITH("open-none-unprivileged", open("a-none", O_RDONLY), EACCES);
    CHECK_FAILS_WITH("opendir-no-bits-unprivileged", open("a-dir", O_RDONLY | O_DIRECTORY), EACCES);
    CHECK_FAILS_WITH("walk-dir-no-bits-unprivileged", access("a-dir/x", F_OK), EACCES);
    CHECK_OK("access-rw-read-unprivileged", access("a-rw", R_OK));
    unprivileged_leave();
  }
  CHECK_FAILS_WITH("access-bad-mode", access("a-rw", 8), EINVAL);
  CHECK_FAILS_WITH("access-efault", syscall(SYS_access, BAD_PTR, F_OK), EFAULT);
  symlink("missing", "a-dangling");
  CHECK_FAILS_WITH("faccessat2-follows", syscall(SYS_faccessat2, AT_FDCWD, "a-dangling", F_OK, 0), ENOENT);
  CHECK_OK("faccessat2-nofollow", syscall(SYS_faccessat2, AT_FDCWD, "a-dangling", F_OK, AT_SYMLINK_NOFOLLOW));
  CHECK_FAILS_WITH("faccessat2-bad-flags", syscall(SYS_faccessat2, AT_FDCWD, "a-rw", F_OK, 0x2), EINVAL);
  int fd = open("a-rw", O_PATH);
  CHECK_OK("faccessat2-empty-path", syscall(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH));
  CHECK_FAILS_WITH("faccessat2-empty-path-x", syscall(SYS_faccessat2, fd, "", X_OK, AT_EMPTY_PATH), EACCES);
  close(fd);
  int dirfd = open(".", O_RDONLY | O_DIRECTORY);
  CHECK_OK("faccessat", syscall(SYS_faccessat, dirfd, "a-rw", R_OK));
  CHECK_FAILS_WITH("faccessat-bad-dirfd", syscall(SYS_faccessat, 9999, "a-rw", R_OK), EBADF);
  close(dirfd);
  CHECK_OK("access-eaccess", faccessat(AT_FDCWD, "a-rw", R_OK, AT_EACCESS));
  chmod("a-dir", 0755);
}

int main(void) {
  scratch_enter("attributes");
  check_chmod();
  check_chown();
  check_times();
  check_access();
  return scratch_leave();
}
