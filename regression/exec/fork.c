// fork, vfork, posix_spawn, wait4 and waitid: the child's copy of memory and state, exit
// statuses and deaths by signal, SIGCHLD, and the wait errors. The parent prints the
// verdicts; children report through their exit codes only.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

extern char **environ;

static volatile sig_atomic_t g_sigchld;
static volatile pid_t g_sigchld_pid;
static volatile int g_sigchld_code, g_sigchld_status;

static void on_sigchld(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)ctx;
  g_sigchld++;
  g_sigchld_pid = info->si_pid;
  g_sigchld_code = info->si_code;
  g_sigchld_status = info->si_status;
}

static volatile int g_usr1_in_child;
static void on_usr1(int sig) {
  (void)sig;
  g_usr1_in_child = 1;
}

// Forks a child that runs fn and exits with what it returns; returns the wait status.
static int run_child(int (*fn)(void), pid_t *pid_out) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0)
    _exit(fn());
  if (pid_out)
    *pid_out = pid;
  int status = -1;
  if (pid < 0 || waitpid(pid, &status, 0) != pid)
    return -1;
  return status;
}

static int g_stack_value = 1;
static int *g_heap_value;
static int *g_anon_value;
static pid_t g_parent_pid;

static int child_memory(void) {
  // The child sees the parent's values and changes only its own copies.
  if (g_stack_value != 1 || *g_heap_value != 2 || *g_anon_value != 3)
    return 10;
  g_stack_value = 100;
  *g_heap_value = 200;
  *g_anon_value = 300;
  return g_stack_value == 100 && *g_heap_value == 200 ? 0 : 11;
}

static int child_identity(void) {
  if (getppid() != g_parent_pid)
    return 20;
  if (getpid() == g_parent_pid)
    return 21;
  char cwd[256];
  if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/") != 0)
    return 22;
  mode_t old = umask(0);
  if (old != 027)
    return 23;
  // The handler installed before fork runs in the child.
  raise(SIGUSR1);
  return g_usr1_in_child ? 0 : 24;
}

static int child_exit_42(void) { return 42; }

static int child_killed(void) {
  signal(SIGABRT, SIG_DFL);
  abort();
}

static int g_data_fd;

static int child_file(void) {
  // A file opened before fork is open in the child, at the parent's offset.
  char buf[4] = {0};
  if (read(g_data_fd, buf, 3) != 3)
    return 30;
  return memcmp(buf, "llo", 3) == 0 ? 0 : 31;
}

static int child_exec(void) {
  char *argv[] = {"true", NULL};
  execve("/bin/true", argv, environ);
  return 40;
}

static int child_nested_status(void) { return 0; }

static int g_pipe[2];

// The child reads what the parent wrote before the fork and after it, then answers.
static int child_pipe(void) {
  close(g_pipe[1]);
  char buf[16] = {0};
  if (read(g_pipe[0], buf, 6) != 6 || memcmp(buf, "before", 6) != 0)
    return 60;
  size_t got = 0;
  while (got < 5) {
    ssize_t n = read(g_pipe[0], buf + got, 5 - got);
    if (n <= 0)
      return 61;
    got += (size_t)n;
  }
  if (memcmp(buf, "after", 5) != 0)
    return 62;
  // The parent closed its write end: end of file once the data is read.
  if (read(g_pipe[0], buf, 1) != 0)
    return 63;
  return 0;
}

int main(void) {
  g_parent_pid = getpid();
  // A file in the working directory (the test's build directory), opened before any fork;
  // its name is this run's own (runs may overlap, and every Carbyne instance is pid 1).
  char data_name[4200], cwd[4096];
  unsigned nonce = 0;
  if (getentropy(&nonce, sizeof(nonce)) != 0)
    nonce = (unsigned)getpid();
  if (!getcwd(cwd, sizeof(cwd)))
    return 2;
  snprintf(data_name, sizeof(data_name), "%s/fork-data-%08x", cwd, nonce);
  g_data_fd = open(data_name, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (g_data_fd < 0 || write(g_data_fd, "hello.\n", 7) != 7)
    return 2;
  g_heap_value = malloc(sizeof(int));
  *g_heap_value = 2;
  g_anon_value = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *g_anon_value = 3;

  struct sigaction sa = {.sa_sigaction = on_sigchld, .sa_flags = SA_SIGINFO | SA_RESTART};
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGUSR1, on_usr1);

  pid_t pid;
  int status = run_child(child_memory, &pid);
  check("fork-memory-copied", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
  check("fork-parent-memory-kept", g_stack_value == 1 && *g_heap_value == 2 && *g_anon_value == 3,
        "the child's writes reached the parent");
  check("fork-pid-positive", pid > 0 && pid != getpid(), "fork returned %d", (int)pid);
  check("sigchld-delivered", g_sigchld >= 1 && g_sigchld_pid == pid && g_sigchld_code == CLD_EXITED &&
                                 g_sigchld_status == 0,
        "count %d, code %d, status %d", (int)g_sigchld, g_sigchld_code, g_sigchld_status);

  if (chdir("/") != 0)
    return 2;
  umask(027);
  status = run_child(child_identity, NULL);
  check("fork-identity-inherited", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);

  status = run_child(child_exit_42, NULL);
  check("wait-exit-code", WIFEXITED(status) && WEXITSTATUS(status) == 42, "status %#x", status);

  status = run_child(child_killed, NULL);
  check("wait-killed-by-signal", WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "status %#x", status);

  lseek(g_data_fd, 2, SEEK_SET);
  status = run_child(child_file, NULL);
  check("fork-file-inherited", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);

  // One open file description in parent and child: one offset.
  ftruncate(g_data_fd, 0);
  lseek(g_data_fd, 0, SEEK_SET);
  write(g_data_fd, "ab", 2);
  fflush(stdout);
  pid = fork();
  if (pid == 0)
    _exit(write(g_data_fd, "cd", 2) == 2 ? 0 : 1);
  waitpid(pid, &status, 0);
  write(g_data_fd, "ef", 2);
  char shared[8] = {0};
  check("fork-shared-offset", pread(g_data_fd, shared, 7, 0) == 6 && strcmp(shared, "abcdef") == 0 &&
                                  lseek(g_data_fd, 0, SEEK_CUR) == 6,
        "file holds %s", shared);

  status = run_child(child_exec, NULL);
  check("fork-exec-wait", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);

  // vfork: the child execs at once.
  fflush(stdout);
  pid = vfork();
  if (pid == 0) {
    char *argv[] = {"true", NULL};
    execve("/bin/true", argv, environ);
    _exit(50);
  }
  check("vfork-exec", waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "status %#x", status);

  // vfork: the parent goes on only once the child has ended (or exec'd).
  int order[2];
  if (pipe(order) != 0)
    return 2;
  fflush(stdout);
  pid = vfork();
  if (pid == 0) {
    usleep(50000);
    write(order[1], "c", 1);
    _exit(0);
  }
  write(order[1], "p", 1);
  char seen[3] = {0};
  check("vfork-parent-waits", read(order[0], seen, 2) == 2 && strcmp(seen, "cp") == 0 &&
                                  waitpid(pid, &status, 0) == pid,
        "order %s", seen);
  close(order[0]);
  close(order[1]);

  char *spawn_argv[] = {"sh", "-c", "exit 9", NULL};
  int spawned = posix_spawn(&pid, "/bin/sh", NULL, NULL, spawn_argv, environ);
  check("posix-spawn", spawned == 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                           WEXITSTATUS(status) == 9,
        "posix_spawn %d, status %#x", spawned, status);

  // WNOHANG on a running child; waitid with WNOWAIT leaves it to reap.
  int pipefd[2];
  if (pipe(pipefd) != 0)
    return 2;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    usleep(200000);
    _exit(5);
  }
  check("wait-wnohang-running", waitpid(pid, &status, WNOHANG) == 0, "a running child was reaped");
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  int r = waitid(P_PID, pid, &info, WEXITED | WNOWAIT);
  check("waitid-wnowait", r == 0 && info.si_pid == pid && info.si_signo == SIGCHLD && info.si_code == CLD_EXITED &&
                              info.si_status == 5,
        "waitid %d, pid ok %d, code %d, status %d", r, info.si_pid == pid, info.si_code, info.si_status);
  check("wait-after-wnowait", waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 5, "status %#x", status);
  memset(&info, 0xff, sizeof(info));
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    usleep(100000);
    _exit(0);
  }
  r = waitid(P_ALL, 0, &info, WEXITED | WNOHANG);
  check("waitid-wnohang-zeroed", r == 0 && info.si_pid == 0 && info.si_signo == 0, "waitid %d, si_pid %d", r,
        info.si_pid);
  waitpid(pid, &status, 0);

  // Bad application pointers: the child is reaped all the same, the call says EFAULT.
  volatile uintptr_t bad_ptr = 16;
  fflush(stdout);
  pid = fork();
  if (pid == 0)
    _exit(0);
  CHECK_FAILS_WITH("wait4-bad-status-efault", waitpid(pid, (int *)bad_ptr, 0), EFAULT);
  fflush(stdout);
  pid = fork();
  if (pid == 0)
    _exit(0);
  CHECK_FAILS_WITH("waitid-bad-info-efault", waitid(P_PID, pid, (siginfo_t *)bad_ptr, WEXITED), EFAULT);

  // Errors.
  CHECK_FAILS_WITH("wait-no-children-echild", waitpid(-1, &status, 0), ECHILD);
  CHECK_FAILS_WITH("wait-not-a-child-echild", waitpid(1, &status, WNOHANG), ECHILD);
  CHECK_FAILS_WITH("wait-bad-options-einval", waitpid(-1, &status, 0x4000000), EINVAL);
  CHECK_FAILS_WITH("waitid-no-event-einval", waitid(P_ALL, 0, &info, WNOHANG), EINVAL);
  CHECK_FAILS_WITH("waitid-bad-idtype-einval", waitid((idtype_t)42, 0, &info, WEXITED), EINVAL);
  status = run_child(child_nested_status, NULL);
  check("wait-status-zero", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);

  // A pipe made before fork carries data both ways in time: bytes written before the fork
  // and after it; the reader sees end of file when the last writer anywhere is gone.
  if (pipe(g_pipe) != 0 || write(g_pipe[1], "before", 6) != 6)
    return 2;
  fflush(stdout);
  pid = fork();
  if (pid == 0)
    _exit(child_pipe());
  close(g_pipe[0]);
  usleep(20000);
  check("pipe-write-after-fork", write(g_pipe[1], "after", 5) == 5, "write failed");
  close(g_pipe[1]);
  check("pipe-across-fork", waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "status %#x", status);
  // The child writes, the parent reads; the child's exit closes the last writer.
  if (pipe(g_pipe) != 0)
    return 2;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    close(g_pipe[0]);
    write(g_pipe[1], "from child", 10);
    _exit(0);
  }
  close(g_pipe[1]);
  char buf[32] = {0};
  size_t got = 0;
  ssize_t n;
  while ((n = read(g_pipe[0], buf + got, sizeof(buf) - 1 - got)) > 0)
    got += (size_t)n;
  check("pipe-child-to-parent-eof", n == 0 && got == 10 && memcmp(buf, "from child", 10) == 0, "read %zu bytes",
        got);
  close(g_pipe[0]);
  waitpid(pid, &status, 0);
  // No reader anywhere: the writer gets EPIPE (SIGPIPE ignored here).
  if (pipe(g_pipe) != 0)
    return 2;
  signal(SIGPIPE, SIG_IGN);
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    close(g_pipe[0]);
    usleep(50000);
    errno = 0;
    _exit(write(g_pipe[1], "x", 1) == -1 && errno == EPIPE ? 0 : 70);
  }
  close(g_pipe[0]);
  close(g_pipe[1]);
  check("pipe-no-reader-epipe", waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "status %#x", status);
  signal(SIGPIPE, SIG_DFL);

  // kill(2) of a child: the default action ends it, a handler runs, 0 only checks.
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    for (;;)
      pause();
  }
  check("kill-child-exists", kill(pid, 0) == 0, "kill(child, 0) failed");
  check("kill-child-sigterm", kill(pid, SIGTERM) == 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
                                  WTERMSIG(status) == SIGTERM,
        "status %#x", status);
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    for (;;)
      pause();
  }
  check("kill-child-sigkill", kill(pid, SIGKILL) == 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
                                  WTERMSIG(status) == SIGKILL,
        "status %#x", status);
  int ready[2];
  if (pipe(ready) != 0)
    return 2;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    close(ready[0]);
    g_usr1_in_child = 0;
    write(ready[1], "r", 1);
    while (!g_usr1_in_child)
      pause();
    _exit(0);
  }
  close(ready[1]);
  char token;
  // The child is blocked in pause() by the time the signal comes: it must wake.
  int got_token = read(ready[0], &token, 1) == 1;
  usleep(100000);
  check("kill-child-handler", got_token && kill(pid, SIGUSR1) == 0 && waitpid(pid, &status, 0) == pid &&
                                  WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "status %#x", status);
  close(ready[0]);
  CHECK_FAILS_WITH("kill-no-such-process-esrch", kill(4000000, 0), ESRCH);

  // A MAP_SHARED mapping of a /dev/shm file is one memory in parent and child; a
  // process-shared semaphore in it works both ways.
  char shm_name[64];
  snprintf(shm_name, sizeof(shm_name), "/fork-test-%08x", nonce);
  int shm_fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (shm_fd < 0 || ftruncate(shm_fd, 4096) != 0)
    return 2;
  struct shared_page {
    sem_t to_child, to_parent;
    int counter;
  } *sp = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
  if (sp == MAP_FAILED)
    return 2;
  close(shm_fd);
  shm_unlink(shm_name);
  sem_init(&sp->to_child, 1, 0);
  sem_init(&sp->to_parent, 1, 0);
  sp->counter = 1;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 50; i++) {
      sem_wait(&sp->to_child);
      sp->counter++;
      sem_post(&sp->to_parent);
    }
    _exit(0);
  }
  for (int i = 0; i < 50; i++) {
    sp->counter++;
    sem_post(&sp->to_child);
    sem_wait(&sp->to_parent);
  }
  check("fork-shared-memory-semaphores", waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                                             WEXITSTATUS(status) == 0 && sp->counter == 101,
        "counter %d, status %#x", sp->counter, status);
  munmap(sp, 4096);

  // MAP_SHARED|MAP_ANONYMOUS memory (and /dev/zero mapped shared) is one memory too: a
  // process-shared mutex in it guards 4 processes' increments, and a page the child writes
  // is the parent's. /proc/self/maps names it as Linux does.
  struct anon_page {
    pthread_mutex_t lock;
    int counter;
  } *ap = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int zero_fd = open("/dev/zero", O_RDWR);
  char *zp = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, zero_fd, 0);
  close(zero_fd);
  if (ap == MAP_FAILED || zp == MAP_FAILED)
    return 2;
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&ap->lock, &ma);
  pid_t kids[4];
  fflush(stdout);
  for (int k = 0; k < 4; k++) {
    kids[k] = fork();
    if (kids[k] == 0) {
      for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&ap->lock);
        ap->counter++;
        pthread_mutex_unlock(&ap->lock);
      }
      if (k == 0)
        strcpy(zp, "from the child");
      _exit(0);
    }
  }
  int all_ok = 1;
  for (int k = 0; k < 4; k++)
    all_ok &= waitpid(kids[k], &status, 0) == kids[k] && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  check("fork-shared-anonymous-mutex", all_ok && ap->counter == 8000, "counter %d", ap->counter);
  check("fork-shared-dev-zero", strcmp(zp, "from the child") == 0, "'%.20s'", zp);
  char maps_line[256];
  snprintf(maps_line, sizeof(maps_line), "%lx-", (unsigned long)ap);
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[512];
  int named = 0;
  while (maps && fgets(line, sizeof(line), maps))
    if (strncmp(line, maps_line, strlen(maps_line)) == 0)
      named = strstr(line, " rw-s ") && strstr(line, "/dev/zero (deleted)");
  if (maps)
    fclose(maps);
  check("shared-anonymous-maps-name", named, "no rw-s /dev/zero (deleted) line");
  munmap(ap, 8192);
  munmap(zp, 4096);

  // SIGCHLD ignored: children are reaped as they end; wait blocks until they have, then
  // reports ECHILD.
  signal(SIGCHLD, SIG_IGN);
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    usleep(50000);
    _exit(1);
  }
  CHECK_FAILS_WITH("sigchld-ignored-auto-reap", waitpid(-1, &status, 0), ECHILD);
  unlink(data_name);
  return check_exit_status();
}
