// A tmpfs (/tmp, /dev/shm) shared by a parent and its children: one namespace, one
// content, and an open file inherited over fork is one open file description (one offset,
// O_APPEND writes that never overwrite each other). Children report through their exit
// codes; the parent prints the verdicts.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../check.h"

static char g_dir[64];

static int wait_code(pid_t pid) {
  int status = -1;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

static void path_of(char *out, const char *name) { snprintf(out, 128, "%s/%s", g_dir, name); }

// The child's offset moves the parent's: both read one file through one description.
static void shared_offset(void) {
  char p[128];
  path_of(p, "offset");
  int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check("offset open", fd >= 0, "errno %d", errno);
  check("offset write", write(fd, "0123456789", 10) == 10, "errno %d", errno);
  lseek(fd, 2, SEEK_SET);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char buf[3] = {0};
    _exit(read(fd, buf, 3) == 3 && memcmp(buf, "234", 3) == 0 ? 0 : 1);
  }
  check("child reads from the parent's offset", wait_code(pid) == 0, "child failed");
  check("the child's read moved the parent's offset", lseek(fd, 0, SEEK_CUR) == 5, "offset %ld",
        (long)lseek(fd, 0, SEEK_CUR));
  close(fd);
}

// A grandchild keeps the description alive after its parent and grandparent closed theirs.
static void grandchild_holds(void) {
  char p[128];
  path_of(p, "held");
  int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    pid_t gc = fork();
    if (gc == 0) {
      usleep(20000);
      _exit(write(fd, "grandchild", 10) == 10 ? 0 : 1);
    }
    close(fd);
    _exit(wait_code(gc));
  }
  close(fd);
  check("grandchild wrote through the inherited fd", wait_code(pid) == 0, "failed");
  fd = open(p, O_RDONLY);
  char buf[16] = {0};
  check("its bytes are there", read(fd, buf, sizeof(buf)) == 10 && strcmp(buf, "grandchild") == 0, "'%s'", buf);
  close(fd);
  unlink(p);
}

// O_APPEND from both sides: 2 x 200 records, none lost.
static void appends(void) {
  char p[128];
  path_of(p, "log");
  int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
  fflush(stdout);
  pid_t pid = fork();
  const char *rec = pid == 0 ? "child.\n" : "parent\n";
  for (int i = 0; i < 200; i++)
    if (write(fd, rec, 7) != 7)
      break;
  if (pid == 0)
    _exit(0);
  wait_code(pid);
  struct stat st;
  fstat(fd, &st);
  check("appends from parent and child all kept", st.st_size == 2800, "size %ld", (long)st.st_size);
  close(fd);
  int in = open(p, O_RDONLY);
  char buf[2800];
  ssize_t n = read(in, buf, sizeof(buf));
  int child = 0, parent = 0, bad = 0;
  for (ssize_t i = 0; i + 7 <= n; i += 7) {
    if (memcmp(buf + i, "child.\n", 7) == 0)
      child++;
    else if (memcmp(buf + i, "parent\n", 7) == 0)
      parent++;
    else
      bad++;
  }
  check("every record whole", child == 200 && parent == 200 && bad == 0, "child %d parent %d bad %d", child,
        parent, bad);
  close(in);
}

// A file the child makes, maps and writes through its mapping is the parent's to read.
static void child_makes_and_maps(void) {
  char p[128];
  path_of(p, "mapped");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(p, O_RDWR | O_CREAT | O_EXCL, 0640);
    if (fd < 0 || ftruncate(fd, 8192) != 0)
      _exit(1);
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
      _exit(2);
    strcpy(m + 4096, "through a child's mapping");
    _exit(munmap(m, 8192) == 0 && close(fd) == 0 ? 0 : 3);
  }
  check("child made and mapped a file", wait_code(pid) == 0, "child failed");
  int fd = open(p, O_RDONLY);
  char buf[64] = {0};
  check("parent reads what the child wrote through its mapping",
        pread(fd, buf, 25, 4096) == 25 && strcmp(buf, "through a child's mapping") == 0, "read '%s'", buf);
  struct stat st;
  fstat(fd, &st);
  check("the child's size and mode", st.st_size == 8192 && (st.st_mode & 0777) == 0640, "size %ld mode %o",
        (long)st.st_size, st.st_mode & 0777);
  close(fd);
}

// A shared mapping made before fork and a file the parent writes after: both sides see
// each other's bytes.
static void mapped_before_fork(void) {
  char p[128];
  snprintf(p, sizeof(p), "/dev/shm/%s", strrchr(g_dir, '/') + 1);
  int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check("shm open", fd >= 0 && ftruncate(fd, 4096) == 0, "errno %d", errno);
  char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    strcpy(m, "child");
    char buf[8] = {0};
    // The parent's write(2) lands in the same memory.
    _exit(pread(fd, buf, 5, 0) == 5 && strcmp(buf, "child") == 0 ? 0 : 1);
  }
  check("child writes through the inherited mapping", wait_code(pid) == 0, "child failed");
  check("parent sees it", strcmp(m, "child") == 0, "'%s'", m);
  munmap(m, 4096);
  close(fd);
  unlink(p);
}

// The namespace: a child renames, links and removes; the parent sees each change.
static void namespace_changes(void) {
  char a[128], b[128], c[128], sub[128];
  path_of(a, "a");
  path_of(b, "b");
  path_of(c, "c");
  path_of(sub, "sub");
  close(open(a, O_CREAT | O_WRONLY, 0600));
  mkdir(sub, 0700);
  fflush(stdout);
  pid_t pid = fork();
  char fifo[128], big[128];
  path_of(fifo, "fifo");
  path_of(big, "allocated");
  if (pid == 0) {
    if (rename(a, b) != 0 || link(b, c) != 0 || rmdir(sub) != 0 || symlink("b", a) != 0)
      _exit(1);
    int fd = open(big, O_RDWR | O_CREAT, 0600);
    if (mkfifo(fifo, 0600) != 0 || fd < 0 || posix_fallocate(fd, 0, 1 << 20) != 0)
      _exit(3);
    _exit(setxattr(b, "user.who", "child", 5, 0) == 0 || errno == EOPNOTSUPP ? 0 : 2);
  }
  check("child changed the namespace", wait_code(pid) == 0, "child failed");
  struct stat st;
  check("rename seen", lstat(a, &st) == 0 && S_ISLNK(st.st_mode), "a is not a symlink");
  check("link seen", stat(c, &st) == 0 && st.st_nlink == 2, "nlink %ld", (long)st.st_nlink);
  CHECK_FAILS_WITH("rmdir seen", stat(sub, &st), ENOENT);
  char buf[16] = {0};
  ssize_t n = getxattr(b, "user.who", buf, sizeof(buf));
  check("xattr set by the child", n == 5 && strcmp(buf, "child") == 0, "n %ld", (long)n);
  check("fifo made by the child", lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "errno %d", errno);
  check("space allocated by the child", stat(big, &st) == 0 && st.st_size == 1 << 20, "size %ld",
        (long)st.st_size);
  unlink(fifo);
  unlink(big);
  unlink(a);
  unlink(b);
  unlink(c);
}

// A directory read half by the parent and half by the child through one description.
static void shared_dir_position(void) {
  char d[128], f[160];
  path_of(d, "many");
  mkdir(d, 0700);
  for (int i = 0; i < 40; i++) {
    snprintf(f, sizeof(f), "%s/f%02d", d, i);
    close(open(f, O_CREAT | O_WRONLY, 0600));
  }
  DIR *dir = opendir(d);
  int fd = dirfd(dir);
  char buf[256];
  // One small getdents64: the parent takes the first few entries.
  long first = syscall(SYS_getdents64, fd, buf, sizeof(buf));
  int seen = 0;
  for (long at = 0; at < first; at += *(unsigned short *)(buf + at + 16))
    seen++;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int more = 0;
    char big[8192];
    long n;
    while ((n = syscall(SYS_getdents64, fd, big, sizeof(big))) > 0)
      for (long at = 0; at < n; at += *(unsigned short *)(big + at + 16))
        more++;
    _exit(more);
  }
  int rest = wait_code(pid);
  check("parent and child read the directory once between them", seen + rest == 42, "%d + %d", seen, rest);
  closedir(dir);
  for (int i = 0; i < 40; i++) {
    snprintf(f, sizeof(f), "%s/f%02d", d, i);
    unlink(f);
  }
  rmdir(d);
}

int main(void) {
  strcpy(g_dir, "/tmp/tmpfs-fork.XXXXXX");
  if (!mkdtemp(g_dir)) {
    printf("FAIL mkdtemp: errno %d\n", errno);
    return 1;
  }
  shared_offset();
  grandchild_holds();
  appends();
  child_makes_and_maps();
  mapped_before_fork();
  namespace_changes();
  shared_dir_position();
  char p[128];
  path_of(p, "offset");
  unlink(p);
  path_of(p, "log");
  unlink(p);
  path_of(p, "mapped");
  unlink(p);
  check("directory empty at the end", rmdir(g_dir) == 0, "errno %d", errno);
  return g_check_failures != 0;
}
