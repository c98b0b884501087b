// Namespace operations: mkdir, mkdirat, rmdir, unlink, unlinkat, rename, renameat,
// renameat2, link, linkat, symlink, symlinkat, mknod, mknodat, and their errors.
#include "fsops.h"

#include <linux/fs.h>

#include "../unprivileged.h"

static long renameat2_raw(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                          unsigned flags) {
  return syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

static ino_t ino_of(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 ? st.st_ino : 0;
}

static nlink_t nlink_of(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 ? st.st_nlink : 0;
}

static void check_mkdir(void) {
  CHECK_OK("mkdir", mkdir("d", 0750));
  struct stat st;
  check("mkdir-is-dir-with-mode", stat("d", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750,
        "mode %o", st.st_mode);
  CHECK_OK("mkdir-umask", mkdir("d-umask", 0777));
  check("mkdir-umask-applied", stat("d-umask", &st) == 0 && (st.st_mode & 0777) == 0755, "mode %o",
        st.st_mode & 0777);
  umask(0);
  CHECK_OK("mkdir-umask-zero", mkdir("d-0777", 0777));
  check("mkdir-umask-zero-result", stat("d-0777", &st) == 0 && (st.st_mode & 0777) == 0777, "mode %o",
        st.st_mode & 0777);
  CHECK_OK("mknod-umask-zero", mknod("f-0666", S_IFREG | 0666, 0));
  check("mknod-umask-zero-result", stat("f-0666", &st) == 0 && (st.st_mode & 0777) == 0666, "mode %o",
        st.st_mode & 0777);
  umask(022);
  CHECK_OK("mkdir-trailing-slash", mkdir("d-slash/", 0755));
  CHECK_FAILS_WITH("mkdir-exists", mkdir("d", 0755), EEXIST);
  CHECK_FAILS_WITH("mkdir-exists-slash", mkdir("d/", 0755), EEXIST);
  CHECK_FAILS_WITH("mkdir-dot", mkdir("d/.", 0755), EEXIST);
  CHECK_FAILS_WITH("mkdir-dotdot", mkdir("d/..", 0755), EEXIST);
  CHECK_FAILS_WITH("mkdir-missing-parent", mkdir("missing/x", 0755), ENOENT);
  write_file("file", "data\n");
  CHECK_FAILS_WITH("mkdir-parent-is-file", mkdir("file/x", 0755), ENOTDIR);
  symlink("nowhere", "dangling");
  CHECK_FAILS_WITH("mkdir-over-dangling-symlink", mkdir("dangling", 0755), EEXIST);
  check("mkdir-dangling-target-not-made", !exists("nowhere"), "the symlink was followed");
  char longname[300];
  memset(longname, 'n', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  CHECK_FAILS_WITH("mkdir-name-too-long", mkdir(longname, 0755), ENAMETOOLONG);
  CHECK_FAILS_WITH("mkdir-efault", syscall(SYS_mkdir, BAD_PTR, 0755), EFAULT);
  int dirfd = open("d", O_RDONLY | O_DIRECTORY);
  CHECK_OK("mkdirat", mkdirat(dirfd, "sub", 0755));
  check("mkdirat-relative-to-dirfd", exists("d/sub"), "d/sub missing");
  int filefd = open("file", O_RDONLY);
  CHECK_FAILS_WITH("mkdirat-dirfd-not-dir", mkdirat(filefd, "x", 0755), ENOTDIR);
  CHECK_FAILS_WITH("mkdirat-bad-dirfd", mkdirat(9999, "x", 0755), EBADF);
  CHECK_FAILS_WITH("mkdirat-absolute-ignores-dirfd", mkdirat(9999, "/proc", 0755), EEXIST);
  close(filefd);
  close(dirfd);
}

static void check_rmdir(void) {
  mkdir("full", 0755);
  write_file("full/f", "x");
  CHECK_FAILS_WITH("rmdir-not-empty", rmdir("full"), ENOTEMPTY);
  CHECK_FAILS_WITH("rmdir-file", rmdir("file"), ENOTDIR);
  CHECK_FAILS_WITH("rmdir-missing", rmdir("missing"), ENOENT);
  CHECK_FAILS_WITH("rmdir-dot", rmdir("full/."), EINVAL);
  CHECK_FAILS_WITH("rmdir-dotdot", rmdir("full/.."), ENOTEMPTY);
  mkdir("empty", 0755);
  symlink("empty", "link-to-dir");
  CHECK_FAILS_WITH("rmdir-symlink-to-dir", rmdir("link-to-dir"), ENOTDIR);
  CHECK_FAILS_WITH("rmdir-symlink-to-dir-slash", rmdir("link-to-dir/"), ENOTDIR);
  check("rmdir-symlink-target-kept", exists("empty"), "the symlink's target was removed");
  CHECK_OK("rmdir", rmdir("empty"));
  check("rmdir-gone", !exists("empty"), "still there");
  mkdir("empty2", 0755);
  CHECK_OK("rmdir-trailing-slash", rmdir("empty2/"));
  CHECK_FAILS_WITH("rmdir-efault", syscall(SYS_rmdir, BAD_PTR), EFAULT);
  unlink("link-to-dir");
}

static void check_unlink(void) {
  write_file("u", "x");
  CHECK_OK("unlink", unlink("u"));
  check("unlink-gone", !exists("u"), "still there");
  CHECK_FAILS_WITH("unlink-missing", unlink("u"), ENOENT);
  CHECK_FAILS_WITH("unlink-dir", unlink("d"), EISDIR);
  CHECK_FAILS_WITH("unlink-dot", unlink("d/."), EISDIR);
  CHECK_FAILS_WITH("unlink-file-slash", unlink("file/"), ENOTDIR);
  CHECK_FAILS_WITH("unlink-missing-dir", unlink("missing/u"), ENOENT);
  CHECK_FAILS_WITH("unlink-through-file", unlink("file/u"), ENOTDIR);
  symlink("file", "to-file");
  CHECK_OK("unlink-symlink", unlink("to-file"));
  check("unlink-symlink-keeps-target", exists("file") && !exists("to-file"), "wrong object removed");
  // An open file outlives its name.
  write_file("open-then-unlink", "still here\n");
  int fd = open("open-then-unlink", O_RDONLY);
  CHECK_OK("unlink-open-file", unlink("open-then-unlink"));
  char buf[32] = {0};
  struct stat st;
  check("unlink-open-file-readable", pread(fd, buf, sizeof(buf) - 1, 0) == 11 && !strcmp(buf, "still here\n"),
        "read '%s'", buf);
  check("unlink-open-file-nlink-0", fstat(fd, &st) == 0 && st.st_nlink == 0, "nlink %lu",
        (unsigned long)st.st_nlink);
  close(fd);
  mkdir("ud", 0755);
  int dirfd = open(".", O_RDONLY | O_DIRECTORY);
  CHECK_FAILS_WITH("unlinkat-dir-without-removedir", unlinkat(dirfd, "ud", 0), EISDIR);
  CHECK_FAILS_WITH("unlinkat-file-with-removedir", unlinkat(dirfd, "file", AT_REMOVEDIR), ENOTDIR);
  CHECK_FAILS_WITH("unlinkat-bad-flags", unlinkat(dirfd, "ud", 0x1), EINVAL);
  CHECK_OK("unlinkat-removedir", unlinkat(dirfd, "ud", AT_REMOVEDIR));
  write_file("uf", "x");
  CHECK_OK("unlinkat-file", unlinkat(dirfd, "uf", 0));
  CHECK_FAILS_WITH("unlinkat-bad-dirfd", unlinkat(9999, "uf", 0), EBADF);
  CHECK_FAILS_WITH("unlink-efault", syscall(SYS_unlink, BAD_PTR), EFAULT);
  close(dirfd);
}

static void check_rename(void) {
  write_file("r1", "one\n");
  ino_t ino = ino_of("r1");
  CHECK_OK("rename", rename("r1", "r2"));
  check("rename-moves-the-file", !exists("r1") && ino_of("r2") == ino && file_is("r2", "one\n"), "wrong result");
  write_file("r3", "three\n");
  CHECK_OK("rename-replaces", rename("r2", "r3"));
  check("rename-replaced-content", file_is("r3", "one\n") && !exists("r2"), "wrong result");
  CHECK_FAILS_WITH("rename-missing", rename("r2", "r4"), ENOENT);
  CHECK_OK("rename-same-name", rename("r3", "r3"));
  link("r3", "r3-link");
  CHECK_OK("rename-hard-links-of-one-file", rename("r3", "r3-link"));
  check("rename-hard-links-both-kept", exists("r3") && exists("r3-link"), "a name vanished");
  mkdir("rd", 0755);
  mkdir("rd-empty", 0755);
  mkdir("rd-full", 0755);
  write_file("rd-full/x", "x");
  CHECK_OK("rename-dir-over-empty-dir", rename("rd", "rd-empty"));
  check("rename-dir-over-empty-dir-result", !exists("rd") && exists("rd-empty"), "wrong result");
  CHECK_FAILS_WITH("rename-dir-over-full-dir", rename("rd-empty", "rd-full"), ENOTEMPTY);
  CHECK_FAILS_WITH("rename-file-over-dir", rename("r3", "rd-empty"), EISDIR);
  CHECK_FAILS_WITH("rename-dir-over-file", rename("rd-empty", "r3"), ENOTDIR);
  CHECK_FAILS_WITH("rename-dir-below-itself", rename("rd-full", "rd-full/sub"), EINVAL);
  CHECK_FAILS_WITH("rename-over-own-ancestor", rename("rd-full/x", "rd-full"), ENOTEMPTY);
  CHECK_FAILS_WITH("rename-dot", rename("rd-full/.", "moved"), EBUSY);
  CHECK_FAILS_WITH("rename-file-slash", rename("r3", "r9/"), ENOTDIR);
  CHECK_OK("rename-dir-slash", rename("rd-empty/", "rd-moved/"));
  CHECK_FAILS_WITH("rename-missing-target-dir", rename("r3", "missing/r3"), ENOENT);
  CHECK_FAILS_WITH("rename-across-mounts", rename("r3", "/proc/fsops-moved"), EXDEV);
  symlink("r3", "sym");
  CHECK_OK("rename-symlink-itself", rename("sym", "sym2"));
  struct stat st;
  check("rename-symlink-result", lstat("sym2", &st) == 0 && S_ISLNK(st.st_mode) && exists("r3"), "wrong result");

  int dirfd = open(".", O_RDONLY | O_DIRECTORY);
  mkdir("ra", 0755);
  write_file("ra/f", "fa\n");
  CHECK_OK("renameat", renameat(dirfd, "ra/f", dirfd, "ra/g"));
  check("renameat-result", file_is("ra/g", "fa\n"), "wrong result");
  write_file("n1", "n1\n");
  write_file("n2", "n2\n");
  CHECK_FAILS_WITH("renameat2-noreplace-exists", renameat2_raw(dirfd, "n1", dirfd, "n2", RENAME_NOREPLACE), EEXIST);
  CHECK_OK("renameat2-noreplace", renameat2_raw(dirfd, "n1", dirfd, "n3", RENAME_NOREPLACE));
  CHECK_OK("renameat2-exchange", renameat2_raw(dirfd, "n2", dirfd, "n3", RENAME_EXCHANGE));
  check("renameat2-exchange-swapped", file_is("n2", "n1\n") && file_is("n3", "n2\n"), "not swapped");
  CHECK_OK("renameat2-exchange-dir-and-file", renameat2_raw(dirfd, "ra", dirfd, "n2", RENAME_EXCHANGE));
  check("renameat2-exchange-dir-and-file-result", file_is("ra", "n1\n") && exists("n2/g"), "not swapped");
  CHECK_FAILS_WITH("renameat2-exchange-missing", renameat2_raw(dirfd, "n3", dirfd, "n4", RENAME_EXCHANGE), ENOENT);
  CHECK_FAILS_WITH("renameat2-both-flags",
                   renameat2_raw(dirfd, "n3", dirfd, "n4", RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
  CHECK_FAILS_WITH("renameat2-bad-flags", renameat2_raw(dirfd, "n3", dirfd, "n4", 0x100), EINVAL);
  CHECK_FAILS_WITH("renameat2-across-mounts", renameat2_raw(dirfd, "n3", AT_FDCWD, "/proc/x", 0), EXDEV);
  CHECK_FAILS_WITH("rename-efault-old", syscall(SYS_rename, BAD_PTR, "x"), EFAULT);
  CHECK_FAILS_WITH("rename-efault-new", syscall(SYS_rename, "n3", BAD_PTR), EFAULT);
  char longname[300];
  memset(longname, 'n', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  CHECK_FAILS_WITH("rename-name-too-long", rename("n3", longname), ENAMETOOLONG);
  close(dirfd);
}

static void check_link(void) {
  write_file("l1", "linked\n");
  CHECK_OK("link", link("l1", "l2"));
  check("link-same-inode", ino_of("l1") == ino_of("l2") && nlink_of("l1") == 2, "nlink %lu",
        (unsigned long)nlink_of("l1"));
  CHECK_FAILS_WITH("link-exists", link("l1", "l2"), EEXIST);
  CHECK_FAILS_WITH("link-missing", link("l-missing", "l3"), ENOENT);
  CHECK_FAILS_WITH("link-dir", link("d", "d-link"), EPERM);
  CHECK_FAILS_WITH("link-new-slash", link("l1", "l9/"), ENOENT);
  // /proc answers ENOENT for a new name before the mounts are compared; /dev/shm does not.
  CHECK_FAILS_WITH("link-across-mounts", link("l1", "/dev/shm/fsops-link"), EXDEV);
  CHECK_OK("unlink-one-link", unlink("l2"));
  check("link-nlink-back-to-1", nlink_of("l1") == 1, "nlink %lu", (unsigned long)nlink_of("l1"));
  symlink("l1", "ls");
  CHECK_OK("linkat-symlink-itself", linkat(AT_FDCWD, "ls", AT_FDCWD, "ls-hard", 0));
  struct stat st;
  check("linkat-symlink-itself-result", lstat("ls-hard", &st) == 0 && S_ISLNK(st.st_mode) && st.st_ino == ino_of("ls"),
        "not the symlink");
  CHECK_OK("linkat-follow", linkat(AT_FDCWD, "ls", AT_FDCWD, "ls-follow", AT_SYMLINK_FOLLOW));
  check("linkat-follow-result", ino_of("ls-follow") == ino_of("l1"), "not the target");
  CHECK_FAILS_WITH("linkat-bad-flags", linkat(AT_FDCWD, "l1", AT_FDCWD, "l4", 0x1), EINVAL);
  CHECK_FAILS_WITH("linkat-empty-without-flag", linkat(AT_FDCWD, "", AT_FDCWD, "l4", 0), ENOENT);
  // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH (before Linux 6.10; later kernels also let
  // the opener of the file link it): root links, another user gets ENOENT for a file that
  // root opened, on every kernel.
  if (unprivileged_switches()) {
    int fd = open("l1", O_RDONLY);
    CHECK_OK("linkat-empty-path", linkat(fd, "", AT_FDCWD, "l5", AT_EMPTY_PATH));
    check("linkat-empty-path-result", ino_of("l5") == ino_of("l1"), "not the file");
    mkdir("l-user", 0755);
    unprivileged_give("l-user");
    if (unprivileged_enter()) {
      CHECK_FAILS_WITH("linkat-empty-path-unprivileged", linkat(fd, "", AT_FDCWD, "l-user/l6", AT_EMPTY_PATH),
                       ENOENT);
      check("linkat-empty-path-unprivileged-no-link", !exists("l-user/l6"), "linked");
      unprivileged_leave();
    }
    close(fd);
  } else {
    printf("skip linkat-empty-path: needs CAP_DAC_READ_SEARCH, and this run did not start as root\n");
  }
  CHECK_FAILS_WITH("link-efault", syscall(SYS_link, BAD_PTR, "l6"), EFAULT);
}

static void check_symlink(void) {
  CHECK_OK("symlink", symlink("some/target", "s1"));
  char buf[64] = {0};
  check("symlink-target-kept-verbatim", readlink("s1", buf, sizeof(buf) - 1) == 11 && !strcmp(buf, "some/target"),
        "'%s'", buf);
  CHECK_FAILS_WITH("symlink-exists", symlink("x", "s1"), EEXIST);
  CHECK_FAILS_WITH("symlink-empty-target", symlink("", "s2"), ENOENT);
  CHECK_FAILS_WITH("symlink-new-slash", symlink("x", "s3/"), ENOENT);
  CHECK_FAILS_WITH("symlink-missing-dir", symlink("x", "missing/s"), ENOENT);
  symlink("loop2", "loop1");
  symlink("loop1", "loop2");
  CHECK_FAILS_WITH("symlink-loop-open", open("loop1", O_RDONLY), ELOOP);
  struct stat st;
  CHECK_FAILS_WITH("symlink-loop-stat", stat("loop1", &st), ELOOP);
  CHECK_FAILS_WITH("symlink-loop-mkdir-below", mkdir("loop1/x", 0755), ELOOP);
  CHECK_FAILS_WITH("open-nofollow-symlink", open("s1", O_RDONLY | O_NOFOLLOW), ELOOP);
  int dirfd = open("d", O_RDONLY | O_DIRECTORY);
  CHECK_OK("symlinkat", symlinkat("../file", dirfd, "up"));
  check("symlinkat-resolves", file_is("d/up", "data\n"), "wrong content");
  close(dirfd);
  CHECK_FAILS_WITH("symlink-efault-target", syscall(SYS_symlink, BAD_PTR, "s4"), EFAULT);
  CHECK_FAILS_WITH("symlink-efault-path", syscall(SYS_symlink, "x", BAD_PTR), EFAULT);
}

static void check_mknod(void) {
  CHECK_OK("mknod-regular", mknod("m1", S_IFREG | 0640, 0));
  struct stat st;
  check("mknod-regular-result", stat("m1", &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0640 &&
                                    st.st_size == 0,
        "mode %o size %ld", st.st_mode, (long)st.st_size);
  CHECK_OK("mknod-type-0-is-regular", mknod("m2", 0600, 0));
  check("mknod-type-0-result", stat("m2", &st) == 0 && S_ISREG(st.st_mode), "mode %o", st.st_mode);
  CHECK_FAILS_WITH("mknod-exists", mknod("m1", S_IFREG | 0600, 0), EEXIST);
  CHECK_FAILS_WITH("mknod-dir-type", mknod("m3", S_IFDIR | 0755, 0), EPERM);
  CHECK_FAILS_WITH("mknod-bad-type", mknod("m3", 0170000 | 0644, 0), EINVAL);
  CHECK_FAILS_WITH("mknod-missing-dir", mknod("missing/m", S_IFREG | 0644, 0), ENOENT);
  int dirfd = open("d", O_RDONLY | O_DIRECTORY);
  CHECK_OK("mknodat-regular", mknodat(dirfd, "m4", S_IFREG | 0644, 0));
  check("mknodat-relative-to-dirfd", exists("d/m4"), "d/m4 missing");
  close(dirfd);
  CHECK_FAILS_WITH("mknod-efault", syscall(SYS_mknod, BAD_PTR, S_IFREG | 0644, 0), EFAULT);
}

int main(void) {
  scratch_enter("namespace");
  check_mkdir();
  check_rmdir();
  check_unlink();
  check_rename();
  check_link();
  check_symlink();
  check_mknod();
  return scratch_leave();
}
