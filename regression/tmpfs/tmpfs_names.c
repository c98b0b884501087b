// Names on a writable directory (tmpfs under Carbyne): unlink, rename and renameat2 with
// the POSIX rules and RENAME_NOREPLACE/RENAME_EXCHANGE, hard links and their counts,
// symlinks stored verbatim, mknod of regular files, chmod/chown by path, O_PATH, unique
// inode numbers, and statfs.
// Usage: tmpfs_names DIR - DIR is a writable directory; a scratch directory is made below it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../check.h"
#include "scratch.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif
#define TMPFS_MAGIC_VALUE 0x01021994

static void touch(const char *name) { close(open(at(name), O_CREAT | O_WRONLY, 0644)); }

static ino_t ino_of(const char *name) {
  struct stat st;
  return lstat(at(name), &st) == 0 ? st.st_ino : 0;
}

static nlink_t nlink_of(const char *name) {
  struct stat st;
  return lstat(at(name), &st) == 0 ? st.st_nlink : 0;
}

static int is_dir(const char *name) {
  struct stat st;
  return lstat(at(name), &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *name) {
  struct stat st;
  return lstat(at(name), &st) == 0;
}

static void check_unlink(void) {
  touch("u");
  mkdir(at("udir"), 0755);
  check("unlink", unlink(at("u")) == 0 && !exists("u"), "unlink: %s", strerrorname_np(errno));
  CHECK_FAILS_WITH("unlink_dir", unlink(at("udir")), EISDIR);
  CHECK_FAILS_WITH("unlink_missing", unlink(at("u")), ENOENT);
  touch("ufile");
  CHECK_FAILS_WITH("unlink_below_file", unlink(at("ufile/x")), ENOTDIR);
  CHECK_FAILS_WITH("rmdir_dotdot", rmdir(at("udir/..")), ENOTEMPTY);
}

static void check_rename(void) {
  touch("a");
  touch("b");
  ino_t a = ino_of("a");
  check("rename_replace", rename(at("a"), at("b")) == 0 && ino_of("b") == a && !exists("a"),
        "rename: %s", strerrorname_np(errno));
  check("rename_same_name", rename(at("b"), at("b")) == 0 && ino_of("b") == a, "rename to itself");
  CHECK_FAILS_WITH("rename_missing", rename(at("a"), at("c")), ENOENT);

  // Hard links to one inode: rename does nothing.
  link(at("b"), at("b2"));
  check("rename_hard_links_noop", rename(at("b"), at("b2")) == 0 && exists("b") && exists("b2") &&
                                      nlink_of("b") == 2, "names changed");

  mkdir(at("p"), 0755);
  mkdir(at("p/empty"), 0755);
  mkdir(at("p/full"), 0755);
  touch("p/full/x");
  mkdir(at("q"), 0755);
  ino_t q = ino_of("q");
  check("rename_dir_over_empty", rename(at("q"), at("p/empty")) == 0 && ino_of("p/empty") == q && !exists("q"),
        "rename: %s", strerrorname_np(errno));
  check("rename_dir_over_empty_nlink", nlink_of("p") == 4, "p nlink %lu", (unsigned long)nlink_of("p"));
  CHECK_FAILS_WITH("rename_dir_over_nonempty", rename(at("p/empty"), at("p/full")), ENOTEMPTY);
  CHECK_FAILS_WITH("rename_into_own_subtree", rename(at("p"), at("p/full/inside")), EINVAL);
  CHECK_FAILS_WITH("rename_over_ancestor", rename(at("p/full/x"), at("p")), ENOTEMPTY);
  CHECK_FAILS_WITH("rename_file_over_dir", rename(at("b"), at("p/empty")), EISDIR);
  CHECK_FAILS_WITH("rename_dir_over_file", rename(at("p/empty"), at("b")), ENOTDIR);

  // Moving a directory moves a link from one parent to the other, and its "..".
  mkdir(at("r"), 0755);
  nlink_t p_before = nlink_of("p"), r_before = nlink_of("r");
  check("rename_dir_across", rename(at("p/full"), at("r/full")) == 0, "rename: %s", strerrorname_np(errno));
  check("rename_dir_across_nlink", nlink_of("p") == p_before - 1 && nlink_of("r") == r_before + 1,
        "p %lu r %lu", (unsigned long)nlink_of("p"), (unsigned long)nlink_of("r"));
  check("rename_dir_dotdot", ino_of("r/full/..") == ino_of("r") && exists("r/full/x"), "r/full/.. is not r");

  touch("n1");
  touch("n2");
  CHECK_FAILS_WITH("noreplace_exists", renameat2(AT_FDCWD, at("n1"), AT_FDCWD, at("n2"), RENAME_NOREPLACE),
                   EEXIST);
  check("noreplace_free", renameat2(AT_FDCWD, at("n1"), AT_FDCWD, at("n3"), RENAME_NOREPLACE) == 0 &&
                              exists("n3") && !exists("n1"), "renameat2: %s", strerrorname_np(errno));
  ino_t file = ino_of("n2"), dir = ino_of("r/full");
  check("exchange", renameat2(AT_FDCWD, at("n2"), AT_FDCWD, at("r/full"), RENAME_EXCHANGE) == 0,
        "renameat2: %s", strerrorname_np(errno));
  check("exchange_swapped", ino_of("n2") == dir && is_dir("n2") && ino_of("r/full") == file && !is_dir("r/full"),
        "not swapped");
  check("exchange_nlink", nlink_of("r") == r_before && exists("n2/x"), "r nlink %lu", (unsigned long)nlink_of("r"));
  check("exchange_dotdot", ino_of("n2/..") == ino_of("."), "n2/.. is not the scratch directory");
  CHECK_FAILS_WITH("exchange_missing", renameat2(AT_FDCWD, at("n3"), AT_FDCWD, at("nothing"), RENAME_EXCHANGE),
                   ENOENT);
  CHECK_FAILS_WITH("rename_bad_flags",
                   renameat2(AT_FDCWD, at("n3"), AT_FDCWD, at("n4"), RENAME_NOREPLACE | RENAME_EXCHANGE), EINVAL);
}

static void check_links(void) {
  touch("l1");
  check("link", link(at("l1"), at("l2")) == 0, "link: %s", strerrorname_np(errno));
  check("link_same_inode", ino_of("l1") == ino_of("l2") && nlink_of("l1") == 2 && nlink_of("l2") == 2,
        "nlink %lu", (unsigned long)nlink_of("l1"));
  int fd = open(at("l1"), O_WRONLY);
  write(fd, "shared", 6);
  close(fd);
  char buf[16] = {0};
  fd = open(at("l2"), O_RDONLY);
  check("link_shares_data", read(fd, buf, sizeof(buf)) == 6 && !memcmp(buf, "shared", 6), "read '%s'", buf);
  close(fd);
  unlink(at("l1"));
  check("unlink_one_link", nlink_of("l2") == 1 && !exists("l1"), "nlink %lu", (unsigned long)nlink_of("l2"));
  mkdir(at("ldir"), 0755);
  CHECK_FAILS_WITH("link_dir", link(at("ldir"), at("ldir2")), EPERM);
  touch("l3");
  CHECK_FAILS_WITH("link_exists", link(at("l2"), at("l3")), EEXIST);
  CHECK_FAILS_WITH("link_missing", link(at("l1"), at("l4")), ENOENT);
  CHECK_FAILS_WITH("link_missing_dir", link(at("l2"), at("nodir/l4")), ENOENT);
}

static void check_symlinks(void) {
  const char *target = "../x//y/./z";
  check("symlink", symlink(target, at("s")) == 0, "symlink: %s", strerrorname_np(errno));
  char buf[256] = {0};
  ssize_t n = readlink(at("s"), buf, sizeof(buf));
  check("readlink_verbatim", n == (ssize_t)strlen(target) && !memcmp(buf, target, (size_t)n), "got '%s'", buf);
  check("readlink_short_buffer", readlink(at("s"), buf, 3) == 3 && !memcmp(buf, "../", 3), "short readlink");
  struct stat st;
  lstat(at("s"), &st);
  check("symlink_lstat", S_ISLNK(st.st_mode) && (st.st_mode & 07777) == 0777 && st.st_size == (off_t)strlen(target),
        "mode %o size %ld", (unsigned)st.st_mode, (long)st.st_size);
  CHECK_FAILS_WITH("symlink_dangling", stat(at("s"), &st), ENOENT);
  CHECK_FAILS_WITH("symlink_exists", symlink("t", at("s")), EEXIST);
  CHECK_FAILS_WITH("symlink_empty_target", symlink("", at("s2")), ENOENT);
  CHECK_FAILS_WITH("readlink_file", readlink(at("l2"), buf, sizeof(buf)), EINVAL);

  int fd = open(at("target"), O_CREAT | O_WRONLY, 0644);
  write(fd, "via link", 8);
  close(fd);
  symlink("target", at("s3"));
  fd = open(at("s3"), O_RDONLY);
  memset(buf, 0, sizeof(buf));
  check("symlink_follow", fd >= 0 && read(fd, buf, sizeof(buf)) == 8 && !strcmp(buf, "via link"), "read '%s'", buf);
  close(fd);
  CHECK_FAILS_WITH("open_nofollow", open(at("s3"), O_RDONLY | O_NOFOLLOW), ELOOP);
  fd = open(at("s3"), O_PATH | O_NOFOLLOW);
  check("opath_symlink", fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode), "O_PATH on a symlink");
  close(fd);
  check("unlink_symlink", unlink(at("s3")) == 0 && exists("target"), "unlink removed the target");
}

static void check_attributes(void) {
  check("mknod_regular", mknod(at("m"), S_IFREG | 0600, 0) == 0, "mknod: %s", strerrorname_np(errno));
  struct stat st;
  lstat(at("m"), &st);
  check("mknod_mode", st.st_mode == (S_IFREG | 0600) && st.st_size == 0, "mode %o", (unsigned)st.st_mode);
  CHECK_FAILS_WITH("mknod_exists", mknod(at("m"), S_IFREG | 0600, 0), EEXIST);

  check("chmod", chmod(at("m"), 04751) == 0, "chmod: %s", strerrorname_np(errno));
  lstat(at("m"), &st);
  check("chmod_mode", st.st_mode == (S_IFREG | 04751), "mode %o", (unsigned)st.st_mode);
  check("chown_same", chown(at("m"), getuid(), (gid_t)-1) == 0, "chown: %s", strerrorname_np(errno));
  lstat(at("m"), &st);
  check("chown_clears_setuid", st.st_mode == (S_IFREG | 0751) && st.st_uid == getuid(), "mode %o",
        (unsigned)st.st_mode);
  CHECK_FAILS_WITH("chmod_missing", chmod(at("nothing"), 0644), ENOENT);
  mkdir(at("cdir"), 0700);
  check("chmod_dir", chmod(at("cdir"), 01755) == 0 && (lstat(at("cdir"), &st), st.st_mode == (S_IFDIR | 01755)),
        "mode %o", (unsigned)st.st_mode);

  int fd = open(at("m"), O_PATH);
  char c;
  check("opath_fstat", fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode), "O_PATH fstat");
  CHECK_FAILS_WITH("opath_read", read(fd, &c, 1), EBADF);
  close(fd);

  // Inode numbers are unique, the device is the directory's.
  struct stat dir_st;
  stat(g_scratch, &dir_st);
  ino_t inos[20];
  int unique = 1, same_dev = 1;
  char name[32];
  for (int i = 0; i < 20; i++) {
    snprintf(name, sizeof(name), "ino%02d", i);
    touch(name);
    lstat(at(name), &st);
    inos[i] = st.st_ino;
    same_dev &= st.st_dev == dir_st.st_dev;
    for (int j = 0; j < i; j++)
      unique &= inos[j] != inos[i];
    unique &= inos[i] != dir_st.st_ino;
  }
  check("inode_unique", unique, "two files share an inode number");
  check("same_dev", same_dev, "st_dev differs from the directory's");

  struct statfs fs;
  check("statfs", statfs(g_scratch, &fs) == 0, "statfs: %s", strerrorname_np(errno));
  check("statfs_sane", fs.f_bsize > 0 && fs.f_namelen == 255 && fs.f_bfree <= fs.f_blocks &&
                           fs.f_bavail <= fs.f_blocks && fs.f_ffree <= fs.f_files, "odd statfs numbers");
  check("statfs_tmpfs", fs.f_type != TMPFS_MAGIC_VALUE || (fs.f_bsize == 4096 && fs.f_blocks > 0),
        "tmpfs statfs numbers");
  struct statfs by_fd;
  fd = open(g_scratch, O_RDONLY | O_DIRECTORY);
  check("fstatfs_matches", fstatfs(fd, &by_fd) == 0 && by_fd.f_type == fs.f_type && by_fd.f_bsize == fs.f_bsize,
        "fstatfs differs");
  close(fd);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  make_scratch(argv[1]);
  if (chdir(g_scratch) != 0)
    return 1;
  check_unlink();
  check_rename();
  check_links();
  check_symlinks();
  check_attributes();
  remove_scratch();
  return check_exit_status();
}
