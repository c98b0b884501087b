// /proc/self: the links (exe, cwd, fd/N, self, thread-self), the per-process files
// (maps, status, stat, statm, cmdline, environ, comm, fdinfo) checked against what the
// process knows of itself, and the errors of misuse.
// Usage: proc_self [ARGS...] with CARBYNE_PROC_TEST=1 in the environment.
#define _GNU_SOURCE  // strerrorname_np() in check.h
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"

// Reads a whole file (pseudo files report size 0, so until EOF); NUL-terminated.
static char *read_file(const char *path, size_t *size_out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, size = 0;
  char *buf = malloc(cap + 1);
  for (;;) {
    if (size == cap) {
      cap *= 2;
      buf = realloc(buf, cap + 1);
    }
    ssize_t n = read(fd, buf + size, cap - size);
    if (n < 0) {
      free(buf);
      close(fd);
      return NULL;
    }
    if (n == 0) break;
    size += (size_t)n;
  }
  close(fd);
  buf[size] = '\0';
  if (size_out) *size_out = size;
  return buf;
}

// The value after "Name:\t" on its line of a status-like text; -1 when absent.
static long status_field(const char *text, const char *name) {
  size_t len = strlen(name);
  for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, name, len) == 0 && line[len] == ':') return strtol(line + len + 1, NULL, 10);
  }
  return -1;
}

static unsigned long long status_hex(const char *text, const char *name) {
  size_t len = strlen(name);
  for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, name, len) == 0 && line[len] == ':') return strtoull(line + len + 1, NULL, 16);
  }
  return 0;
}

static int readlink_str(const char *path, char *buf, size_t size) {
  ssize_t n = readlink(path, buf, size - 1);
  if (n < 0) return -1;
  buf[n] = '\0';
  return 0;
}

static void check_links(const char *real_exe) {
  char buf[PATH_MAX];
  int ok = readlink_str("/proc/self/exe", buf, sizeof(buf)) == 0;
  check("exe-link", ok && strcmp(buf, real_exe) == 0, "readlink /proc/self/exe %s",
        ok ? "differs from realpath(argv[0])" : strerrorname_np(errno));

  char cwd[PATH_MAX];
  ok = getcwd(cwd, sizeof(cwd)) != NULL && readlink_str("/proc/self/cwd", buf, sizeof(buf)) == 0;
  check("cwd-link", ok && strcmp(buf, cwd) == 0, "readlink /proc/self/cwd differs from getcwd");

  ok = readlink_str("/proc/self/root", buf, sizeof(buf)) == 0;
  check("root-link", ok && strcmp(buf, "/") == 0, "readlink /proc/self/root is not /");

  char want[64];
  snprintf(want, sizeof(want), "%d", getpid());
  ok = readlink_str("/proc/self", buf, sizeof(buf)) == 0;
  check("self-link", ok && strcmp(buf, want) == 0, "readlink /proc/self is not the pid");

  snprintf(want, sizeof(want), "%d/task/%d", getpid(), gettid());
  ok = readlink_str("/proc/thread-self", buf, sizeof(buf)) == 0;
  check("thread-self-link", ok && strcmp(buf, want) == 0, "readlink /proc/thread-self is not pid/task/tid");

  struct stat st;
  check("exe-is-symlink", lstat("/proc/self/exe", &st) == 0 && S_ISLNK(st.st_mode),
        "lstat /proc/self/exe is not a symlink");
  struct stat by_link, by_path;
  check("exe-stat-follows",
        stat("/proc/self/exe", &by_link) == 0 && stat(real_exe, &by_path) == 0 &&
            by_link.st_ino == by_path.st_ino && by_link.st_dev == by_path.st_dev,
        "stat /proc/self/exe is not the program");

  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/status", getpid());
  check("pid-dir", access(path, R_OK) == 0, "/proc/<pid>/status: %s", strerrorname_np(errno));
  snprintf(path, sizeof(path), "/proc/self/task/%d/status", gettid());
  check("task-dir", access(path, R_OK) == 0, "/proc/self/task/<tid>/status: %s", strerrorname_np(errno));
}

static void check_fds(const char *real_exe) {
  int fd = open(real_exe, O_RDONLY | O_CLOEXEC);
  check("open-program", fd >= 0, "open: %s", strerrorname_np(errno));
  if (fd < 0) return;

  DIR *dir = opendir("/proc/self/fd");
  check("opendir-fd", dir != NULL, "opendir /proc/self/fd: %s", strerrorname_np(errno));
  if (dir) {
    int seen[4] = {0};
    int others = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      int n = atoi(e->d_name);
      if (n >= 0 && n <= 2 && e->d_type == DT_LNK)
        seen[n] = 1;
      else if (n == fd && e->d_type == DT_LNK)
        seen[3] = 1;
      else
        others++;
    }
    closedir(dir);
    check("fd-lists-0-1-2", seen[0] && seen[1] && seen[2], "fd/ lacks one of 0, 1, 2 (as symlinks)");
    check("fd-lists-open-file", seen[3], "fd/ lacks the descriptor just opened");
    check("fd-lists-dir-itself", others >= 1, "fd/ does not list the directory's own descriptor");
  }

  char path[64], buf[PATH_MAX];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  int ok = readlink_str(path, buf, sizeof(buf)) == 0;
  check("fd-link-target", ok && strcmp(buf, real_exe) == 0, "readlink fd/N %s",
        ok ? "is not the file's path" : strerrorname_np(errno));
  struct stat lst;
  check("fd-link-mode", lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && (lst.st_mode & 0777) == 0500,
        "lstat fd/N: not a symlink with mode 0500 (read-only descriptor)");

  // Reopening through the link opens the same file anew, at offset 0.
  char head[16], again[16];
  check("read-head", read(fd, head, sizeof(head)) == sizeof(head), "short read");
  int fd2 = open(path, O_RDONLY | O_CLOEXEC);
  check("reopen-fd-link", fd2 >= 0 && read(fd2, again, sizeof(again)) == sizeof(again) &&
                              memcmp(head, again, sizeof(head)) == 0,
        "reading /proc/self/fd/N did not give the file's first bytes");
  if (fd2 >= 0) close(fd2);

  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
  char *info = read_file(path, NULL);
  check("fdinfo", info != NULL, "read fdinfo: %s", strerrorname_np(errno));
  if (info) {
    check("fdinfo-pos", status_field(info, "pos") == (long)sizeof(head), "pos is not the offset");
    long flags = -1;
    char *f = strstr(info, "flags:\t");
    if (f) flags = strtol(f + 7, NULL, 8);
    check("fdinfo-flags", flags >= 0 && (flags & O_ACCMODE) == O_RDONLY && (flags & O_CLOEXEC),
          "flags do not show O_RDONLY|O_CLOEXEC");
    check("fdinfo-mnt-id", strstr(info, "mnt_id:\t") != NULL, "no mnt_id line");
    free(info);
  }
  close(fd);

  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  errno = 0;
  check("fd-closed-gone", readlink(path, buf, sizeof(buf)) == -1 && errno == ENOENT,
        "the link of a closed descriptor still exists (errno %s)", strerrorname_np(errno));
  CHECK_FAILS_WITH("fd-missing", open("/proc/self/fd/999", O_RDONLY), ENOENT);
}

static void check_maps(const char *real_exe) {
  // A small malloc in the main arena grows the heap with brk.
  char *volatile p = malloc(100);
  p[0] = 1;
  char *maps = read_file("/proc/self/maps", NULL);
  check("maps-readable", maps != NULL, "read maps: %s", strerrorname_np(errno));
  if (!maps) return;
  int exe_text = 0, stack = 0, heap = 0, vdso = 0, well_formed = 1, ld_so = 0, libc = 0;
  uintptr_t mine = (uintptr_t)&check_maps;
  int covers_code = 0;
  for (char *line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
    unsigned long start, end;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 || start >= end) well_formed = 0;
    const char *name = strchr(line, '/');
    if (!name) name = strchr(line, '[');
    if (!name) name = "";
    if (strcmp(name, real_exe) == 0 && strcmp(perms, "r-xp") == 0) exe_text = 1;
    if (strcmp(name, real_exe) == 0 && start <= mine && mine < end && perms[2] == 'x') covers_code = 1;
    stack |= strcmp(name, "[stack]") == 0;
    heap |= strcmp(name, "[heap]") == 0;
    vdso |= strcmp(name, "[vdso]") == 0;
    ld_so |= strstr(name, "/ld-linux-x86-64.so.2") != NULL && perms[2] == 'x';
    libc |= strstr(name, "/libc.so.6") != NULL && perms[2] == 'x';
  }
  free(maps);
  free(p);
  check("maps-well-formed", well_formed, "a line is not START-END PERMS");
  check("maps-exe-text", exe_text, "no r-xp line for the program");
  check("maps-exe-covers-code", covers_code, "the program's code is not inside its r-xp line");
  check("maps-stack", stack, "no [stack] line");
  check("maps-heap", heap, "no [heap] line after a malloc");
  check("maps-vdso", vdso, "no [vdso] line");
  check("maps-ld-so", ld_so, "no executable line for the dynamic loader");
  check("maps-libc", libc, "no executable line for libc.so.6");
}

static void check_status(const char *comm) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGUSR2, SIG_IGN);
  char *status = read_file("/proc/self/status", NULL);
  check("status-readable", status != NULL, "read status: %s", strerrorname_np(errno));
  if (!status) return;
  check("status-pid", status_field(status, "Pid") == getpid(), "Pid differs from getpid()");
  check("status-tgid", status_field(status, "Tgid") == getpid(), "Tgid differs from getpid()");
  check("status-ppid", status_field(status, "PPid") == getppid(), "PPid differs from getppid()");
  check("status-uid", status_field(status, "Uid") == (long)getuid(), "Uid differs from getuid()");
  check("status-threads", status_field(status, "Threads") == 1, "Threads is not 1");
  char name[64];
  snprintf(name, sizeof(name), "Name:\t%s\n", comm);
  check("status-name", strncmp(status, name, strlen(name)) == 0, "the first line is not Name: comm");
  check("status-state", strstr(status, "\nState:\tR (running)\n") != NULL, "State is not R (running)");
  check("status-vmsize", status_field(status, "VmSize") > 0, "VmSize is not positive");
  check("status-sigblk", (status_hex(status, "SigBlk") >> (SIGUSR1 - 1)) & 1, "SIGUSR1 is not in SigBlk");
  check("status-sigign", (status_hex(status, "SigIgn") >> (SIGUSR2 - 1)) & 1, "SIGUSR2 is not in SigIgn");
  free(status);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  signal(SIGUSR2, SIG_DFL);

  // The same for the main thread through task/.
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/status", gettid());
  status = read_file(path, NULL);
  check("task-status-pid", status && status_field(status, "Pid") == gettid(), "task status Pid is not the tid");
  free(status);

  char *stat = read_file("/proc/self/stat", NULL);
  check("stat-readable", stat != NULL, "read stat: %s", strerrorname_np(errno));
  if (!stat) return;
  char want[128];
  snprintf(want, sizeof(want), "%d (%s) R %d ", getpid(), comm, getppid());
  check("stat-head", strncmp(stat, want, strlen(want)) == 0, "stat does not start with pid (comm) R ppid");
  int fields = 0;
  const char *after_comm = strrchr(stat, ')');
  for (const char *s = after_comm ? after_comm + 1 : stat; *s; s++)
    if (*s == ' ' && s[1] && s[1] != '\n') fields++;
  check("stat-52-fields", fields + 2 == 52, "stat has %d fields", fields + 2);
  free(stat);

  char *statm = read_file("/proc/self/statm", NULL);
  unsigned long size = 0, resident, shared, text, lib, data, dt;
  check("statm", statm && sscanf(statm, "%lu %lu %lu %lu %lu %lu %lu", &size, &resident, &shared, &text, &lib,
                                 &data, &dt) == 7 && size > 0,
        "statm is not 7 numbers with a positive size");
  free(statm);

  char *comm_file = read_file("/proc/self/comm", NULL);
  snprintf(want, sizeof(want), "%s\n", comm);
  check("comm", comm_file && strcmp(comm_file, want) == 0, "comm is not the program's base name");
  free(comm_file);
}

// Resident memory: VmRSS and its parts, statm's resident count and stat's rss follow the
// pages the process touches; VmPeak and VmHWM keep the most there was.
static long status_kb(const char *name) {
  char *status = read_file("/proc/self/status", NULL);
  long v = status ? status_field(status, name) : -1;
  free(status);
  return v;
}

static void check_residency(void) {
  long rss0 = status_kb("VmRSS"), anon0 = status_kb("RssAnon"), size0 = status_kb("VmSize");
  check("vmrss-positive", rss0 > 0 && rss0 <= size0, "VmRSS %ld kB, VmSize %ld kB", rss0, size0);
  check("rss-parts", status_kb("RssAnon") + status_kb("RssFile") + status_kb("RssShmem") == rss0 ||
                         labs(status_kb("RssAnon") + status_kb("RssFile") + status_kb("RssShmem") - rss0) < 256,
        "RssAnon + RssFile + RssShmem differ from VmRSS %ld kB", rss0);
  size_t len = 32 << 20;
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check("mmap-32m", p != MAP_FAILED, "%s", strerrorname_np(errno));
  if (p == MAP_FAILED)
    return;
  long untouched = status_kb("RssAnon");
  check("untouched-not-resident", untouched - anon0 < 4096, "RssAnon grew by %ld kB before any touch", untouched - anon0);
  memset(p, 1, len);
  long touched = status_kb("RssAnon");
  check("touched-resident", touched - anon0 >= 30 * 1024, "RssAnon grew by %ld kB for 32 MiB touched", touched - anon0);
  char *statm = read_file("/proc/self/statm", NULL);
  unsigned long size = 0, resident = 0;
  check("statm-resident", statm && sscanf(statm, "%lu %lu", &size, &resident) == 2 &&
                              resident * 4 >= (unsigned long)(30 * 1024) && resident <= size,
        "statm %s", statm ? statm : "(none)");
  free(statm);
  long peak_size = status_kb("VmSize");
  munmap(p, len);
  check("vmpeak-kept", status_kb("VmPeak") >= peak_size && status_kb("VmSize") < peak_size, "VmPeak %ld, VmSize %ld",
        status_kb("VmPeak"), status_kb("VmSize"));
  check("vmhwm-kept", status_kb("VmHWM") >= touched && status_kb("VmRSS") < status_kb("VmHWM"), "VmHWM %ld, VmRSS %ld",
        status_kb("VmHWM"), status_kb("VmRSS"));
}

static void check_args(int argc, char **argv) {
  size_t size;
  char *cmdline = read_file("/proc/self/cmdline", &size);
  check("cmdline-readable", cmdline != NULL, "read cmdline: %s", strerrorname_np(errno));
  if (!cmdline) return;
  size_t at = 0;
  int same = 1;
  for (int i = 0; i < argc; i++) {
    size_t n = strlen(argv[i]) + 1;
    if (at + n > size || memcmp(cmdline + at, argv[i], n) != 0) same = 0;
    at += n;
  }
  check("cmdline-is-argv", same && at == size, "cmdline is not argv, NUL-separated");
  free(cmdline);

  char *env = read_file("/proc/self/environ", &size);
  int found = 0;
  for (size_t i = 0; env && i < size; i += strlen(env + i) + 1)
    found |= strcmp(env + i, "CARBYNE_PROC_TEST=1") == 0;
  check("environ", found, "environ lacks CARBYNE_PROC_TEST=1");
  free(env);
}

static void check_errors(void) {
  CHECK_FAILS_WITH("missing-file", open("/proc/self/nonexistent", O_RDONLY), ENOENT);
  CHECK_FAILS_WITH("missing-pid", open("/proc/999999999/status", O_RDONLY), ENOENT);
  CHECK_FAILS_WITH("file-as-dir", open("/proc/self/status/", O_RDONLY), ENOTDIR);
  CHECK_FAILS_WITH("mkdir-proc", mkdir("/proc/carbyne-test", 0755), ENOENT);
  CHECK_FAILS_WITH("mkdir-proc-self", mkdir("/proc/self/carbyne-test", 0755), ENOENT);
  CHECK_FAILS_WITH("mkdir-proc-existing", mkdir("/proc/self/fd", 0755), EEXIST);
  CHECK_FAILS_WITH("create-proc", open("/proc/carbyne-test", O_CREAT | O_WRONLY, 0644), ENOENT);
  CHECK_FAILS_WITH("unlink-proc", unlink("/proc/self/status"), EPERM);
  CHECK_FAILS_WITH("rmdir-proc", rmdir("/proc/self/fd"), EPERM);
  CHECK_FAILS_WITH("mkdir-sys", mkdir("/sys/carbyne-test", 0755), EPERM);
  CHECK_FAILS_WITH("write-sys-attr", open("/sys/devices/system/cpu/online", O_WRONLY), EACCES);
  CHECK_FAILS_WITH("read-dir", read(open("/proc/self", O_RDONLY | O_DIRECTORY), (char[4]){0}, 4), EISDIR);

  // Writing a read-only /proc file: root may open it, then the write fails; others are
  // refused at open.
  errno = 0;
  int fd = open("/proc/self/status", O_WRONLY);
  int open_errno = errno;
  ssize_t n = fd >= 0 ? write(fd, "x", 1) : -1;
  int write_errno = errno;
  check("write-status",
        (fd < 0 && open_errno == EACCES) || (fd >= 0 && n == -1 && (write_errno == EINVAL || write_errno == EIO)),
        "open gave %d (%s), write %zd (%s)", fd, strerrorname_np(open_errno), n, strerrorname_np(write_errno));
  if (fd >= 0) close(fd);
  errno = 0;
  fd = open("/proc/self/status", O_RDONLY);
  check("write-status-rdonly-fd", fd >= 0 && write(fd, "x", 1) == -1 && errno == EBADF,
        "write on a read-only descriptor: %s", strerrorname_np(errno));
  if (fd >= 0) close(fd);
}

static void check_types(void) {
  struct stat st, root, devnull, again;
  check("stat-status", stat("/proc/self/status", &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0444,
        "status is not a regular 0444 file");
  check("stat-status-stable", stat("/proc/self/status", &again) == 0 && again.st_ino == st.st_ino,
        "the inode number of status changed");
  struct stat other;
  check("stat-inodes-differ", stat("/proc/self/stat", &other) == 0 && other.st_ino != st.st_ino,
        "status and stat share an inode number");
  check("stat-pid-dir", stat("/proc/self", &other) == 0 && S_ISDIR(other.st_mode) && (other.st_mode & 07777) == 0555,
        "/proc/self is not a 0555 directory");
  check("lstat-self", lstat("/proc/self", &other) == 0 && S_ISLNK(other.st_mode) && (other.st_mode & 07777) == 0777,
        "/proc/self is not a 0777 symlink");
  check("stat-fd-dir", stat("/proc/self/fd", &other) == 0 && S_ISDIR(other.st_mode) && (other.st_mode & 07777) == 0500,
        "/proc/self/fd is not a 0500 directory");
  check("proc-own-device",
        stat("/", &root) == 0 && stat("/dev/null", &devnull) == 0 && st.st_dev != root.st_dev &&
            st.st_dev != devnull.st_dev,
        "/proc shares st_dev with / or /dev");
  check("proc-root-dir", stat("/proc", &other) == 0 && S_ISDIR(other.st_mode) && other.st_dev == st.st_dev,
        "/proc is not a directory of the same file system");
}

// A pipe opened again through /proc/self/fd: a new end of the same pipe (Linux opens it as
// a FIFO), for writing through the read end's link too; a pipe has no path to follow.
static void check_pipe_reopen(void) {
  int p[2];
  if (pipe(p) != 0) {
    check("pipe-reopen", 0, "pipe: %s", strerrorname_np(errno));
    return;
  }
  char link[64], c = 0;
  snprintf(link, sizeof(link), "/proc/self/fd/%d", p[1]);
  int w = open(link, O_WRONLY);
  check("pipe-reopen-write", w >= 0 && write(w, "a", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'a', "%s",
        strerrorname_np(errno));
  snprintf(link, sizeof(link), "/proc/self/fd/%d", p[0]);
  int w2 = open(link, O_WRONLY);  // the read end's link: the same pipe, for writing
  c = 0;
  check("pipe-reopen-via-read-end", w2 >= 0 && write(w2, "b", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'b', "%s",
        strerrorname_np(errno));
  int r = open(link, O_RDONLY | O_NONBLOCK);
  c = 0;
  check("pipe-reopen-read", r >= 0 && write(p[1], "c", 1) == 1 && read(r, &c, 1) == 1 && c == 'c', "%s",
        strerrorname_np(errno));
  close(w);
  close(w2);
  close(r);
  close(p[0]);
  close(p[1]);
}

int main(int argc, char **argv) {
  check_pipe_reopen();
  char *real_exe = realpath(argv[0], NULL);
  if (!real_exe) {
    printf("FAIL realpath: %s\n", strerrorname_np(errno));
    return 1;
  }
  const char *base = strrchr(real_exe, '/') + 1;
  char comm[16];
  snprintf(comm, sizeof(comm), "%s", base);  // the kernel keeps 15 bytes

  check_links(real_exe);
  check_fds(real_exe);
  check_maps(real_exe);
  check_status(comm);
  check_residency();
  check_args(argc, argv);
  check_errors();
  check_types();
  free(real_exe);
  return check_exit_status();
}
