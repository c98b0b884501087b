// execve and execveat: errors that leave the caller's image intact, and what the new image
// keeps (pid, fds without FD_CLOEXEC, ignored signals, the mask, pending signals, the
// working directory, umask, interval timers) and loses (FD_CLOEXEC fds, handlers, POSIX
// timers, the alternate stack, the other threads).
//
//   exec WORKDIR               the checks before and after an exec of itself
//   exec WORKDIR threads       exec from a second thread while two others block
//   exec WORKDIR fexecve       fexecve of this program, open at an fd
//   exec WORKDIR script        a "#!" script with an interpreter argument
//
// WORKDIR is a directory the program may write in; every stage prints ok/FAIL lines.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static char g_self[PATH_MAX];
static const char *g_dir;

static void write_file(const char *name, const void *data, size_t size, mode_t mode) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", g_dir, name);
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
    printf("FAIL setup: cannot write %s\n", name);
    exit(1);
  }
  close(fd);
  chmod(path, mode);
}

static char *dir_path(const char *name) {
  static char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", g_dir, name);
  return path;
}

static void on_usr2(int sig) { (void)sig; }

// Errors: each leaves this image running.
static void check_errors(void) {
  char *argv[] = {"x", NULL};
  char *envp[] = {NULL};
  CHECK_FAILS_WITH("enoent", execve(dir_path("missing"), argv, envp), ENOENT);
  CHECK_FAILS_WITH("enotdir", execve(dir_path("garbage/x"), argv, envp), ENOTDIR);
  CHECK_FAILS_WITH("directory-eacces", execve(g_dir, argv, envp), EACCES);
  CHECK_FAILS_WITH("no-exec-bit-eacces", execve(dir_path("plain"), argv, envp), EACCES);
  CHECK_FAILS_WITH("garbage-enoexec", execve(dir_path("garbage"), argv, envp), ENOEXEC);
  CHECK_FAILS_WITH("empty-file-enoexec", execve(dir_path("empty"), argv, envp), ENOEXEC);
  CHECK_FAILS_WITH("truncated-elf", execve(dir_path("truncated"), argv, envp), ENOEXEC);
  CHECK_FAILS_WITH("missing-interpreter", execve(dir_path("badinterp.sh"), argv, envp), ENOENT);
  CHECK_FAILS_WITH("empty-path", execve("", argv, envp), ENOENT);
  volatile uintptr_t bad = 16;
  CHECK_FAILS_WITH("path-efault", execve((const char *)bad, argv, envp), EFAULT);
  CHECK_FAILS_WITH("argv-efault", execve(g_self, (char **)bad, envp), EFAULT);
  char *bad_argv[] = {"x", (char *)bad, NULL};
  CHECK_FAILS_WITH("argv-string-efault", execve(g_self, bad_argv, envp), EFAULT);
  CHECK_FAILS_WITH("envp-efault", execve(g_self, argv, (char **)bad), EFAULT);
  // One string longer than MAX_ARG_STRLEN (32 pages).
  size_t big = 32 * 4096 + 1;
  char *huge = malloc(big + 1);
  memset(huge, 'a', big);
  huge[big] = '\0';
  char *big_argv[] = {"x", huge, NULL};
  CHECK_FAILS_WITH("arg-too-long-e2big", execve(g_self, big_argv, envp), E2BIG);
  // Many strings: more than a quarter of the 8 MiB stack limit in all.
  size_t count = 40000;
  char **many = calloc(count + 1, sizeof(char *));
  for (size_t i = 0; i < count; i++)
    many[i] = huge + big - 100;  // 100 bytes each: 4 MB
  CHECK_FAILS_WITH("args-too-many-e2big", execve(g_self, many, envp), E2BIG);
  free(many);
  free(huge);
  CHECK_FAILS_WITH("execveat-ebadf", syscall(SYS_execveat, 1000, "x", argv, envp, 0), EBADF);
  CHECK_FAILS_WITH("execveat-einval-flags", syscall(SYS_execveat, AT_FDCWD, g_self, argv, envp, 0x1),
                   EINVAL);
  int dirfd = open(g_dir, O_RDONLY | O_DIRECTORY);
  CHECK_FAILS_WITH("execveat-dirfd-enoent", syscall(SYS_execveat, dirfd, "missing", argv, envp, 0), ENOENT);
  CHECK_FAILS_WITH("execveat-empty-dir-eacces",
                   syscall(SYS_execveat, dirfd, "", argv, envp, AT_EMPTY_PATH), EACCES);
  CHECK_FAILS_WITH("execveat-nofollow-eloop",
                   syscall(SYS_execveat, dirfd, "link-to-self", argv, envp, AT_SYMLINK_NOFOLLOW), ELOOP);
  close(dirfd);
  check("still-running", 1, "-");
}

static int count_tasks(void) {
  int n = 0;
  char path[64];
  for (int i = 1; i < 1 << 16; i++) {
    snprintf(path, sizeof(path), "/proc/self/task/%d", i);
    if (access(path, F_OK) == 0)
      n++;
  }
  return n;
}

// The new image: argv[2] says what the old one set up.
static int after(int argc, char **argv) {
  // argv as passed, empty strings included.
  check("argv", argc == 7 && strcmp(argv[3], "") == 0 && strcmp(argv[4], "two words") == 0,
        "argc %d", argc);
  check("envp", getenv("EXEC_TEST") && strcmp(getenv("EXEC_TEST"), "value=1") == 0 &&
                    getenv("PATH") == NULL,
        "EXEC_TEST=%s", getenv("EXEC_TEST") ? getenv("EXEC_TEST") : "(unset)");
  const char *execfn = (const char *)getauxval(AT_EXECFN);
  check("at-execfn", execfn && strcmp(execfn, "./exec-link") == 0, "AT_EXECFN %s", execfn ? execfn : "-");
  char exe[PATH_MAX] = "";
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0)
    exe[n] = '\0';
  check("proc-exe", strcmp(exe, g_self) == 0, "exe differs from the program");
  char comm[32] = "";
  prctl(PR_GET_NAME, comm);
  check("comm", strcmp(comm, "exec-link") == 0, "comm %s", comm);
  int keep = atoi(argv[5]), closed = atoi(argv[6]);
  char buf[8] = "";
  check("fd-kept", pread(keep, buf, 5, 0) == 5 && memcmp(buf, "plain", 5) == 0, "fd read failed");
  check("fd-kept-offset", lseek(keep, 0, SEEK_CUR) == 3, "offset not kept");
  errno = 0;
  check("fd-cloexec-closed", fcntl(closed, F_GETFD) == -1 && errno == EBADF, "still open");
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  check("sig-ignored-kept", sa.sa_handler == SIG_IGN, "SIGUSR1 not ignored");
  sigaction(SIGUSR2, NULL, &sa);
  check("sig-handler-reset", sa.sa_handler == SIG_DFL, "SIGUSR2 handler kept");
  sigaction(SIGTERM, NULL, &sa);
  check("sig-flags-reset", sa.sa_handler == SIG_DFL && !(sa.sa_flags & SA_RESTART), "SIGTERM flags %#x",
        (unsigned)sa.sa_flags);
  sigset_t mask, pending;
  sigprocmask(SIG_SETMASK, NULL, &mask);
  check("mask-kept", sigismember(&mask, SIGHUP) && !sigismember(&mask, SIGUSR2), "mask changed");
  sigpending(&pending);
  check("pending-kept", sigismember(&pending, SIGHUP), "SIGHUP not pending");
  stack_t ss;
  sigaltstack(NULL, &ss);
  check("altstack-reset", (ss.ss_flags & SS_DISABLE) != 0, "alternate stack kept");
  char cwd[PATH_MAX];
  check("cwd-kept", getcwd(cwd, sizeof(cwd)) && strcmp(cwd, g_dir) == 0, "cwd differs");
  mode_t old = umask(0);
  check("umask-kept", old == 027, "umask %o", (unsigned)old);
  check("pid-kept", getpid() == atoi(argv[2]), "pid changed");
  struct itimerval it;
  getitimer(ITIMER_REAL, &it);
  check("itimer-kept", it.it_value.tv_sec > 100, "ITIMER_REAL not kept");
  struct itimerspec ts;
  timer_t timer = (timer_t)(intptr_t)atoi(argv[1] + strlen("after-"));
  errno = 0;
  check("posix-timer-deleted", timer_gettime(timer, &ts) == -1 && errno == EINVAL, "timer survived");
  check("one-thread", count_tasks() == 1, "threads %d", count_tasks());
  // Fresh memory: the brk starts anew; the old image's mappings are gone.
  void *brk0 = sbrk(0);
  check("brk-fresh", brk0 != (void *)-1 && sbrk(4096) == brk0, "brk failed");
  return check_exit_status();
}

static void *blocker(void *arg) {
  int fd = (int)(intptr_t)arg;
  char c;
  if (fd >= 0)
    read(fd, &c, 1);  // blocks: nobody writes
  else
    pause();
  return NULL;
}

struct ExecRequest {
  char **argv;
  char **envp;
};

static void *exec_from_thread(void *arg) {
  struct ExecRequest *req = arg;
  execve(g_self, req->argv, req->envp);
  printf("FAIL exec-from-thread: %s\n", strerror(errno));
  exit(1);
}

static int after_threads(char **argv) {
  check("threads-one-left", count_tasks() == 1, "threads %d", count_tasks());
  check("threads-pid-kept", getpid() == atoi(argv[2]), "pid changed");
  check("threads-tid-is-pid", syscall(SYS_gettid) == getpid(), "tid differs from pid");
  return check_exit_status();
}

static int after_fexecve(char **argv) {
  char want[32];
  snprintf(want, sizeof(want), "/dev/fd/%s", argv[2]);
  const char *execfn = (const char *)getauxval(AT_EXECFN);
  check("fexecve-execfn", execfn && strcmp(execfn, want) == 0, "AT_EXECFN %s", execfn ? execfn : "-");
  char comm[32] = "";
  prctl(PR_GET_NAME, comm);
  // The file's name since Linux 6.14; before, the fd's number (the base name of /dev/fd/N).
  check("fexecve-comm", strcmp(comm, "exec") == 0 || strcmp(comm, argv[2]) == 0, "comm %s", comm);
  char exe[PATH_MAX] = "";
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0)
    exe[n] = '\0';
  check("fexecve-exe", strcmp(exe, g_self) == 0, "exe differs from the program");
  return check_exit_status();
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: exec WORKDIR [threads]\n");
    return 2;
  }
  ssize_t n = readlink("/proc/self/exe", g_self, sizeof(g_self) - 1);
  if (n <= 0)
    return 2;
  g_self[n] = '\0';
  if (strncmp(argv[1], "after-", 6) == 0) {
    g_dir = getenv("EXEC_DIR");
    g_check_failures = getenv("EXEC_FAILS") ? atoi(getenv("EXEC_FAILS")) : 1;
    if (strcmp(argv[1], "after-fexecve") == 0)
      return after_fexecve(argv);
    return strcmp(argv[1], "after-threads") == 0 ? after_threads(argv) : after(argc, argv);
  }
  // A directory of this run's own under WORKDIR: the native and the Carbyne runs of one
  // test may overlap.
  char dir[PATH_MAX + 16], base[PATH_MAX];
  mkdir(argv[1], 0755);
  if (!realpath(argv[1], base))
    return 2;
  snprintf(dir, sizeof(dir), "%s/run-XXXXXX", base);
  if (!mkdtemp(dir))
    return 2;
  g_dir = dir;
  write_file("plain", "plain file\n", 11, 0644);
  write_file("garbage", "this is not a program\n", 22, 0755);
  write_file("empty", "", 0, 0755);
  write_file("badinterp.sh", "#!/nonexistent/interpreter\n", 27, 0755);
  // The first 100 bytes of this very program: an ELF header whose program headers are cut.
  {
    char head[100];
    int fd = open(g_self, O_RDONLY);
    if (fd < 0 || read(fd, head, sizeof(head)) != sizeof(head))
      return 2;
    close(fd);
    write_file("truncated", head, sizeof(head), 0755);
  }
  unlink(dir_path("link-to-self"));
  symlink(g_self, dir_path("link-to-self"));
  unlink(dir_path("exec-link"));
  symlink(g_self, dir_path("exec-link"));
  if (chdir(dir) != 0)
    return 2;
  check_errors();
  fflush(stdout);

  char pid[16];
  snprintf(pid, sizeof(pid), "%d", getpid());
  // The checks that failed before the exec count in the new image's status.
  char fails[32];
  snprintf(fails, sizeof(fails), "EXEC_FAILS=%d", g_check_failures);
  char *envp[] = {"EXEC_TEST=value=1", NULL, fails, NULL};
  char env_dir[PATH_MAX + 32];
  snprintf(env_dir, sizeof(env_dir), "EXEC_DIR=%s", dir);
  envp[1] = env_dir;

  if (argc > 2 && strcmp(argv[2], "fexecve") == 0) {
    int fd = open(g_self, O_RDONLY);
    char fd_s[16];
    snprintf(fd_s, sizeof(fd_s), "%d", fd);
    char *new_argv[] = {"x", "after-fexecve", fd_s, NULL};
    fexecve(fd, new_argv, envp);
    printf("FAIL fexecve: %s\n", strerror(errno));
    return 1;
  }
  if (argc > 2 && strcmp(argv[2], "script") == 0) {
    write_file("script.sh", "#!/bin/sh -eu\necho script \"$0\" \"$1\" \"$EXEC_TEST\"\n", 49, 0755);
    char *new_argv[] = {"name-ignored", "first", NULL};
    execve("./script.sh", new_argv, envp);
    printf("FAIL script: %s\n", strerror(errno));
    return 1;
  }
  if (argc > 2 && strcmp(argv[2], "threads") == 0) {
    int pipefd[2];
    pipe(pipefd);
    pthread_t a, b, c;
    pthread_create(&a, NULL, blocker, (void *)(intptr_t)pipefd[0]);
    pthread_create(&b, NULL, blocker, (void *)(intptr_t)-1);
    usleep(20000);
    char *new_argv[] = {"./exec-link", "after-threads", pid, NULL};
    struct ExecRequest req = {new_argv, envp};
    pthread_create(&c, NULL, exec_from_thread, &req);
    pthread_join(c, NULL);
    return 1;
  }

  int keep = open(dir_path("plain"), O_RDONLY);
  lseek(keep, 3, SEEK_SET);
  int closed = open(dir_path("plain"), O_RDONLY | O_CLOEXEC);
  signal(SIGUSR1, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_usr2};
  sigaction(SIGUSR2, &sa, NULL);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, NULL);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  raise(SIGHUP);
  char altstack[16384];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
  sigaltstack(&ss, NULL);
  umask(027);
  struct itimerval it = {.it_value = {.tv_sec = 1000}};
  setitimer(ITIMER_REAL, &it, NULL);
  timer_t timer;
  struct sigevent sev = {.sigev_notify = SIGEV_NONE};
  timer_create(CLOCK_MONOTONIC, &sev, &timer);
  char stage[32], keep_s[16], closed_s[16];
  snprintf(stage, sizeof(stage), "after-%d", (int)(intptr_t)timer);
  snprintf(keep_s, sizeof(keep_s), "%d", keep);
  snprintf(closed_s, sizeof(closed_s), "%d", closed);
  char *new_argv[] = {"./exec-link", stage, pid, "", "two words", keep_s, closed_s, NULL};
  execve("./exec-link", new_argv, envp);
  printf("FAIL exec: %s\n", strerror(errno));
  return 1;
}
