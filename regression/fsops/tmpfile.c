// open(2) with O_TMPFILE, and linkat(2) naming such a file (AT_EMPTY_PATH, and a
// /proc/self/fd link with AT_SYMLINK_FOLLOW).
//   fsops-tmpfile DIR                      O_TMPFILE must work below DIR (a tmpfs under
//                                          Carbyne; natively any Linux file system)
//   fsops-tmpfile DIR --require-eopnotsupp O_TMPFILE in DIR must fail with EOPNOTSUPP
//                                          (a chroot mount under Carbyne; strict test)
// Without the flag, O_TMPFILE in the working directory may work or answer EOPNOTSUPP (a
// chroot mount under Carbyne, a host file system natively): either passes.
#include "fsops.h"

#include "../unprivileged.h"

// The kernel's __O_TMPFILE alone (glibc's __O_TMPFILE has O_DIRECTORY in it already).
#define KERNEL_O_TMPFILE_BIT 020000000

static char g_dir[1024];

static const char *in_dir(const char *name) {
  static char bufs[4][2048];
  static int next;
  char *b = bufs[next++ % 4];
  snprintf(b, sizeof(bufs[0]), "%s/%s", g_dir, name);
  return b;
}

static nlink_t nlink_of_fd(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? st.st_nlink : (nlink_t)-1;
}

static int same_file(int fd, const char *path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

// Entries of g_dir other than "." and "..".
static int dir_entries(void) {
  DIR *d = opendir(g_dir);
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

static void proc_fd_path(int fd, char *buf, size_t size) { snprintf(buf, size, "/proc/self/fd/%d", fd); }

static void check_flags(void) {
  CHECK_FAILS_WITH("tmpfile-rdonly", open(g_dir, O_TMPFILE | O_RDONLY, 0600), EINVAL);
  CHECK_FAILS_WITH("tmpfile-without-o-directory", open(g_dir, KERNEL_O_TMPFILE_BIT | O_RDWR, 0600), EINVAL);
  CHECK_FAILS_WITH("tmpfile-with-o-creat", open(g_dir, O_TMPFILE | O_CREAT | O_RDWR, 0600), EINVAL);
  CHECK_FAILS_WITH("tmpfile-missing-dir", open(in_dir("missing"), O_TMPFILE | O_RDWR, 0600), ENOENT);
  write_file(in_dir("plain"), "x");
  CHECK_FAILS_WITH("tmpfile-in-a-file", open(in_dir("plain"), O_TMPFILE | O_RDWR, 0600), ENOTDIR);
  CHECK_FAILS_WITH("tmpfile-below-a-file", open(in_dir("plain/x"), O_TMPFILE | O_RDWR, 0600), ENOTDIR);
  unlink(in_dir("plain"));
  mkdir(in_dir("sub"), 0755);
  symlink("sub", in_dir("link-to-sub"));
  CHECK_FAILS_WITH("tmpfile-nofollow-symlink", open(in_dir("link-to-sub"), O_TMPFILE | O_RDWR | O_NOFOLLOW, 0600),
                   ENOTDIR);
  int fd = open(in_dir("link-to-sub"), O_TMPFILE | O_RDWR, 0600);
  check("tmpfile-through-symlink", fd >= 0, "%s", errname(errno));
  close(fd);
  fd = open(g_dir, O_TMPFILE | O_WRONLY | O_APPEND | O_TRUNC, 0600);
  check("tmpfile-wronly-append-trunc", fd >= 0, "%s", errname(errno));
  close(fd);
  // O_PATH drops O_TMPFILE (open(2) keeps only the O_PATH flags): a path to the directory.
  fd = open(g_dir, O_TMPFILE | O_RDONLY | O_PATH);
  struct stat st;
  check("tmpfile-o-path-is-the-dir", fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode), "%s",
        fd < 0 ? errname(errno) : "not the directory");
  close(fd);
  // /proc (0555) is writable by root only: anyone else is refused before the file system.
  CHECK_FAILS_WITH("tmpfile-in-proc", open("/proc", O_TMPFILE | O_RDWR, 0600), geteuid() == 0 ? EOPNOTSUPP : EACCES);
  unlink(in_dir("link-to-sub"));
  rmdir(in_dir("sub"));
}

static void check_unnamed(void) {
  int before = dir_entries();
  int fd = open(g_dir, O_TMPFILE | O_RDWR, 0640);
  check("tmpfile-open", fd >= 0, "%s", errname(errno));
  if (fd < 0)
    return;
  struct stat st;
  check("tmpfile-fstat", fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 0 &&
                             (st.st_mode & 0777) == (0640 & ~022) && st.st_size == 0,
        "mode %o nlink %lu size %ld", st.st_mode, (unsigned long)st.st_nlink, (long)st.st_size);
  check("tmpfile-no-name", dir_entries() == before, "%d entries, %d before", dir_entries(), before);
  check("tmpfile-write", write(fd, "hello", 5) == 5, "%s", errname(errno));
  char buf[16] = {0};
  check("tmpfile-read-back", pread(fd, buf, sizeof(buf) - 1, 0) == 5 && !strcmp(buf, "hello"), "'%s'", buf);
  check("tmpfile-size", fstat(fd, &st) == 0 && st.st_size == 5, "size %ld", (long)st.st_size);
  int flags = fcntl(fd, F_GETFL);
  check("tmpfile-getfl", (flags & O_ACCMODE) == O_RDWR, "flags %x", flags);
  char link[64], target[4096] = {0};
  proc_fd_path(fd, link, sizeof(link));
  ssize_t n = readlink(link, target, sizeof(target) - 1);
  size_t dir_len = strlen(g_dir);
  check("tmpfile-proc-fd-link", n > 0 && !strncmp(target, g_dir, dir_len) && !strncmp(target + dir_len, "/#", 2) &&
                                    strstr(target, " (deleted)") != NULL,
        "%s", n > 0 ? "unexpected form" : errname(errno));
  close(fd);
  check("tmpfile-gone-after-close", dir_entries() == before, "%d entries", dir_entries());
}

static void check_link_via_proc(void) {
  int fd = open(g_dir, O_TMPFILE | O_RDWR, 0600);
  if (fd < 0) {
    check("tmpfile-link-proc-open", 0, "%s", errname(errno));
    return;
  }
  write(fd, "named", 5);
  char link[64];
  proc_fd_path(fd, link, sizeof(link));
  // Without AT_SYMLINK_FOLLOW the /proc link itself would be linked: another mount.
  CHECK_FAILS_WITH("link-proc-nofollow", linkat(AT_FDCWD, link, AT_FDCWD, in_dir("p0"), 0), EXDEV);
  CHECK_OK("link-proc-follow", linkat(AT_FDCWD, link, AT_FDCWD, in_dir("p1"), AT_SYMLINK_FOLLOW));
  check("link-proc-follow-same-file", same_file(fd, in_dir("p1")), "another file");
  check("link-proc-follow-content", file_is(in_dir("p1"), "named"), "wrong content");
  check("link-proc-follow-nlink", nlink_of_fd(fd) == 1, "nlink %lu", (unsigned long)nlink_of_fd(fd));
  CHECK_FAILS_WITH("link-proc-exists", linkat(AT_FDCWD, link, AT_FDCWD, in_dir("p1"), AT_SYMLINK_FOLLOW), EEXIST);
  // A named file takes more names as any file does.
  CHECK_OK("link-proc-second-name", linkat(AT_FDCWD, link, AT_FDCWD, in_dir("p2"), AT_SYMLINK_FOLLOW));
  check("link-proc-second-nlink", nlink_of_fd(fd) == 2, "nlink %lu", (unsigned long)nlink_of_fd(fd));
  // Writes through the fd show through the names.
  pwrite(fd, "N", 1, 0);
  check("link-proc-shared-data", file_is(in_dir("p2"), "Named"), "wrong content");
  // Named once and unlinked again: it cannot come back.
  unlink(in_dir("p1"));
  unlink(in_dir("p2"));
  check("link-proc-unlinked-nlink", nlink_of_fd(fd) == 0, "nlink %lu", (unsigned long)nlink_of_fd(fd));
  CHECK_FAILS_WITH("link-proc-after-unlink", linkat(AT_FDCWD, link, AT_FDCWD, in_dir("p3"), AT_SYMLINK_FOLLOW),
                   ENOENT);
  close(fd);
  // Linked into a subdirectory, and into a missing one.
  mkdir(in_dir("d"), 0755);
  fd = open(g_dir, O_TMPFILE | O_WRONLY, 0600);
  proc_fd_path(fd, link, sizeof(link));
  CHECK_FAILS_WITH("link-proc-missing-dir", linkat(AT_FDCWD, link, AT_FDCWD, in_dir("nodir/x"), AT_SYMLINK_FOLLOW),
                   ENOENT);
  CHECK_OK("link-proc-subdir", linkat(AT_FDCWD, link, AT_FDCWD, in_dir("d/x"), AT_SYMLINK_FOLLOW));
  check("link-proc-subdir-same-file", same_file(fd, in_dir("d/x")), "another file");
  close(fd);
  check("link-proc-survives-close", exists(in_dir("d/x")), "d/x is gone");
  unlink(in_dir("d/x"));
  rmdir(in_dir("d"));
}

static void check_link_excl(void) {
  // O_EXCL: never linkable.
  int fd = open(g_dir, O_TMPFILE | O_RDWR | O_EXCL, 0600);
  char link[64];
  proc_fd_path(fd, link, sizeof(link));
  CHECK_FAILS_WITH("link-proc-excl", linkat(AT_FDCWD, link, AT_FDCWD, in_dir("e3"), AT_SYMLINK_FOLLOW), ENOENT);
  // ENOENT for anyone: without CAP_DAC_READ_SEARCH AT_EMPTY_PATH is refused, with it the
  // file is not linkable.
  CHECK_FAILS_WITH("link-empty-path-excl", linkat(fd, "", AT_FDCWD, in_dir("e2"), AT_EMPTY_PATH), ENOENT);
  close(fd);
}

// linkat(2) with AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH (Linux 5.x and 6.1; from 6.10 the
// opener of the file may link it too): root links, another user gets ENOENT for a file
// that root opened, on every kernel.
static void check_link_empty_path(void) {
  if (!unprivileged_switches()) {
    printf("skip link-empty-path: needs CAP_DAC_READ_SEARCH, and this run did not start as root\n");
    return;
  }
  int fd = open(g_dir, O_TMPFILE | O_RDWR, 0600);
  CHECK_OK("link-empty-path", linkat(fd, "", AT_FDCWD, in_dir("e1"), AT_EMPTY_PATH));
  check("link-empty-path-same-file", same_file(fd, in_dir("e1")), "another file");
  unlink(in_dir("e1"));
  CHECK_FAILS_WITH("link-empty-path-again-after-unlink", linkat(fd, "", AT_FDCWD, in_dir("e4"), AT_EMPTY_PATH),
                   ENOENT);
  close(fd);
  // As another user, with a directory that lets anyone make names in it.
  fd = open(g_dir, O_TMPFILE | O_RDWR, 0666);
  CHECK_OK("link-empty-path-setup", chmod(g_dir, 0777));
  if (unprivileged_enter()) {
    CHECK_FAILS_WITH("link-empty-path-unprivileged", linkat(fd, "", AT_FDCWD, in_dir("e5"), AT_EMPTY_PATH), ENOENT);
    unprivileged_leave();
  }
  chmod(g_dir, 0700);
  close(fd);
}

// O_TMPFILE needs write permission on the directory ("ro": nobody's but root's), and the
// file belongs to its maker.
static void check_unprivileged(void) {
  mkdir(in_dir("ro"), 0555);
  mkdir(in_dir("rw"), 0755);
  unprivileged_give(in_dir("rw"));
  CHECK_OK("tmpfile-unprivileged-setup", chmod(g_dir, 0755));
  if (unprivileged_enter()) {
    CHECK_FAILS_WITH("tmpfile-unprivileged-no-write", open(in_dir("ro"), O_TMPFILE | O_RDWR, 0600), EACCES);
    int fd = open(in_dir("rw"), O_TMPFILE | O_RDWR, 0600);
    struct stat st;
    check("tmpfile-unprivileged-own-dir", fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == geteuid() &&
                                              st.st_gid == getegid(),
          "%s", fd < 0 ? errname(errno) : "not owned by the user");
    close(fd);
    unprivileged_leave();
  }
  chmod(g_dir, 0700);
  rmdir(in_dir("ro"));
  rmdir(in_dir("rw"));
}

static void check_chroot(const char *dir, int strict) {
  int fd = open(dir, O_TMPFILE | O_RDWR, 0600);
  int err = errno;
  if (strict)
    check("tmpfile-chroot-eopnotsupp", fd < 0 && err == EOPNOTSUPP, "%s", fd < 0 ? errname(err) : "it worked");
  else
    check("tmpfile-cwd-works-or-eopnotsupp", fd >= 0 || err == EOPNOTSUPP, "%s", errname(err));
  if (fd >= 0)
    close(fd);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: fsops-tmpfile DIR [--require-eopnotsupp]\n");
    return 2;
  }
  umask(022);
  if (argc > 2 && !strcmp(argv[2], "--require-eopnotsupp")) {
    check_chroot(argv[1], 1);
    return check_exit_status();
  }
  snprintf(g_dir, sizeof(g_dir), "%s/fsops-tmpfile-XXXXXX", argv[1]);
  if (!mkdtemp(g_dir)) {
    printf("FAIL setup: mkdtemp in %s: %s\n", argv[1], errname(errno));
    return 1;
  }
  check_flags();
  check_unnamed();
  check_link_via_proc();
  check_link_excl();
  check_link_empty_path();
  check_unprivileged();
  check_chroot(".", 0);
  check("scratch-empty-at-end", dir_entries() == 0, "%d entries left", dir_entries());
  remove_tree_at(AT_FDCWD, g_dir);
  return check_exit_status();
}
