// Names that follow renames: the working directory, an open dirfd, an open file and its
// mapping when a directory above them is renamed; /proc/self/cwd and /proc/self/fd links
// after renames, exchanges and unlinks; a removed working directory (getcwd ENOENT, no new
// names in it, ".." still its old parent).
#include "fsops.h"

#include <sys/mman.h>

static char g_top[512];  // the scratch directory's absolute path

// The target of a /proc/self link, "" when unreadable.
static const char *link_of(const char *path) {
  static char buf[1024];
  ssize_t n = readlink(path, buf, sizeof(buf) - 1);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

static const char *fd_link(int fd) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  return link_of(path);
}

// `path` is g_top + "/" + rel.
static int is_below_top(const char *path, const char *rel) {
  size_t n = strlen(g_top);
  return !strncmp(path, g_top, n) && path[n] == '/' && !strcmp(path + n + 1, rel);
}

static void check_cwd_renamed(void) {
  check("mkdir-a", mkdir("a", 0755) == 0, "errno %s", errname(errno));
  check("chdir-a", chdir("a") == 0, "errno %s", errname(errno));
  char from[600], to[600];
  snprintf(from, sizeof(from), "%s/a", g_top);
  snprintf(to, sizeof(to), "%s/b", g_top);
  check("rename-cwd", rename(from, to) == 0, "errno %s", errname(errno));
  char cwd[600];
  char *got = getcwd(cwd, sizeof(cwd));
  check("getcwd-after-rename", got && is_below_top(cwd, "b"), "%s", got ? cwd : errname(errno));
  check("proc-cwd-after-rename", is_below_top(link_of("/proc/self/cwd"), "b"), "%s", link_of("/proc/self/cwd"));
  check("create-in-renamed-cwd", write_file("f", "x") == 0, "errno %s", errname(errno));
  char f[700];
  snprintf(f, sizeof(f), "%s/b/f", g_top);
  check("created-where-cwd-went", access(f, F_OK) == 0, "errno %s", errname(errno));
  check("chdir-back", chdir(g_top) == 0, "errno %s", errname(errno));
}

static void check_dirfd_renamed(void) {
  check("mkdir-d1", mkdir("d1", 0755) == 0, "errno %s", errname(errno));
  int dfd = open("d1", O_RDONLY | O_DIRECTORY);
  check("open-d1", dfd >= 0, "errno %s", errname(errno));
  check("rename-d1", rename("d1", "d2") == 0, "errno %s", errname(errno));
  int fd = openat(dfd, "x", O_CREAT | O_WRONLY, 0644);
  check("openat-renamed-dirfd", fd >= 0, "errno %s", errname(errno));
  close(fd);
  check("created-in-d2", access("d2/x", F_OK) == 0, "errno %s", errname(errno));
  check("dirfd-link-follows", is_below_top(fd_link(dfd), "d2"), "%s", fd_link(dfd));
  struct stat st;
  check("fstatat-renamed-dirfd", fstatat(dfd, "x", &st, 0) == 0 && S_ISREG(st.st_mode), "errno %s", errname(errno));
  close(dfd);
}

static void check_parent_renamed(void) {
  check("mkdir-p1", mkdir("p1", 0755) == 0, "errno %s", errname(errno));
  check("write-p1-file", write_file("p1/file", "0123456789") == 0, "errno %s", errname(errno));
  int fd = open("p1/file", O_RDONLY);
  check("open-p1-file", fd >= 0, "errno %s", errname(errno));
  void *map = mmap(NULL, 10, PROT_READ, MAP_PRIVATE, fd, 0);
  check("mmap-p1-file", map != MAP_FAILED, "errno %s", errname(errno));
  check("rename-p1", rename("p1", "p2") == 0, "errno %s", errname(errno));
  check("fd-link-after-parent-rename", is_below_top(fd_link(fd), "p2/file"), "%s", fd_link(fd));
  // /proc/self/maps names the mapping by the file's path now.
  char want[700];
  snprintf(want, sizeof(want), "%s/p2/file\n", g_top);
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[1024];
  int seen = 0;
  while (maps && fgets(line, sizeof(line), maps)) {
    size_t n = strlen(line), w = strlen(want);
    seen |= n >= w && !strcmp(line + n - w, want);
  }
  if (maps)
    fclose(maps);
  check("maps-after-parent-rename", seen, "no line ends with %s", want);
  munmap(map, 10);
  // Renamed again, the file itself: the link follows that too.
  check("rename-file", rename("p2/file", "moved") == 0, "errno %s", errname(errno));
  check("fd-link-after-file-rename", is_below_top(fd_link(fd), "moved"), "%s", fd_link(fd));
  // Unlinked: Linux's " (deleted)".
  check("unlink-moved", unlink("moved") == 0, "errno %s", errname(errno));
  check("fd-link-after-unlink", is_below_top(fd_link(fd), "moved (deleted)"), "%s", fd_link(fd));
  char buf[4];
  check("read-unlinked", pread(fd, buf, 4, 0) == 4 && !memcmp(buf, "0123", 4), "errno %s", errname(errno));
  close(fd);
}

static void check_replaced_and_exchanged(void) {
  check("mkdir-s", mkdir("s", 0755) == 0, "errno %s", errname(errno));
  check("mkdir-t", mkdir("t", 0755) == 0, "errno %s", errname(errno));
  int sfd = open("s", O_RDONLY | O_DIRECTORY);
  int tfd = open("t", O_RDONLY | O_DIRECTORY);
  check("rename-over-held", rename("s", "t") == 0, "errno %s", errname(errno));
  check("moved-link", is_below_top(fd_link(sfd), "t"), "%s", fd_link(sfd));
  check("replaced-link", is_below_top(fd_link(tfd), "t (deleted)"), "%s", fd_link(tfd));
  close(tfd);
  check("mkdir-u", mkdir("u", 0755) == 0, "errno %s", errname(errno));
  int ufd = open("u", O_RDONLY | O_DIRECTORY);
  long r = syscall(SYS_renameat2, AT_FDCWD, "t", AT_FDCWD, "u", 2 /* RENAME_EXCHANGE */);
  check("exchange", r == 0, "errno %s", errname(errno));
  check("exchanged-one", is_below_top(fd_link(sfd), "u"), "%s", fd_link(sfd));
  check("exchanged-other", is_below_top(fd_link(ufd), "t"), "%s", fd_link(ufd));
  close(sfd);
  close(ufd);
}

static void check_removed_cwd(void) {
  check("mkdir-gone", mkdir("gone", 0755) == 0, "errno %s", errname(errno));
  check("chdir-gone", chdir("gone") == 0, "errno %s", errname(errno));
  char abs[600];
  snprintf(abs, sizeof(abs), "%s/gone", g_top);
  check("rmdir-cwd", rmdir(abs) == 0, "errno %s", errname(errno));
  char cwd[600];
  errno = 0;
  char *got = getcwd(cwd, sizeof(cwd));
  check("getcwd-removed", !got && errno == ENOENT, "%s, errno %s", got ? cwd : "NULL", errname(errno));
  check("proc-cwd-removed", is_below_top(link_of("/proc/self/cwd"), "gone (deleted)"), "%s",
        link_of("/proc/self/cwd"));
  errno = 0;
  int fd = open("new", O_CREAT | O_WRONLY, 0644);
  check("no-create-in-removed", fd == -1 && errno == ENOENT, "fd %d, errno %s", fd, errname(errno));
  errno = 0;
  check("mkdir-in-removed", mkdir("sub", 0755) == -1 && errno == ENOENT, "errno %s", errname(errno));
  struct stat st;
  check("stat-dotdot-of-removed", stat("..", &st) == 0 && S_ISDIR(st.st_mode), "errno %s", errname(errno));
  check("chdir-dotdot-of-removed", chdir("..") == 0, "errno %s", errname(errno));
  got = getcwd(cwd, sizeof(cwd));
  check("getcwd-after-dotdot", got && !strcmp(cwd, g_top), "%s", got ? cwd : errname(errno));
  // fchdir to a directory removed while open: it becomes the (removed) working directory.
  check("mkdir-gone2", mkdir("gone2", 0755) == 0, "errno %s", errname(errno));
  int dfd = open("gone2", O_RDONLY | O_DIRECTORY);
  check("rmdir-open-dir", rmdir("gone2") == 0, "errno %s", errname(errno));
  check("fchdir-removed", fchdir(dfd) == 0, "errno %s", errname(errno));
  errno = 0;
  got = getcwd(cwd, sizeof(cwd));
  check("getcwd-fchdir-removed", !got && errno == ENOENT, "%s, errno %s", got ? cwd : "NULL", errname(errno));
  check("chdir-dotdot-again", chdir("..") == 0, "errno %s", errname(errno));
  got = getcwd(cwd, sizeof(cwd));
  check("getcwd-back-at-top", got && !strcmp(cwd, g_top), "%s", got ? cwd : errname(errno));
  close(dfd);
}

int main(void) {
  scratch_enter("renames");
  if (!getcwd(g_top, sizeof(g_top))) {
    printf("FAIL getcwd: %s\n", errname(errno));
    return 1;
  }
  check_cwd_renamed();
  check_dirfd_renamed();
  check_parent_renamed();
  check_replaced_and_exchanged();
  check_removed_cwd();
  return scratch_leave();
}
