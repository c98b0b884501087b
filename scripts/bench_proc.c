// Process costs for scripts/bench-proc: prints "NAME NS" lines (ns per operation, the
// median of several rounds; pipe throughput in ns per MiB).
#define _GNU_SOURCE
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

static void wait_ok(pid_t pid) {
  int status;
  must(pid > 0, "fork");
  must(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "waitpid");
}

static void op_fork_exit_wait(const char *arg, long count) {
  (void)arg;
  for (long i = 0; i < count; i++) {
    pid_t pid = fork();
    if (pid == 0)
      _exit(0);
    wait_ok(pid);
  }
}

static void op_fork_64m_exit_wait(const char *arg, long count) {
  (void)arg;
  size_t size = 64 << 20;
  char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  must(mem != MAP_FAILED, "mmap");
  memset(mem, 1, size);
  op_fork_exit_wait(NULL, count);
  munmap(mem, size);
}

static void op_fork_exec_wait(const char *arg, long count) {
  (void)arg;
  char *argv[] = {"true", NULL};
  for (long i = 0; i < count; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      execve("/bin/true", argv, environ);
      _exit(127);
    }
    wait_ok(pid);
  }
}

static void op_vfork_exec_wait(const char *arg, long count) {
  (void)arg;
  char *argv[] = {"true", NULL};
  for (long i = 0; i < count; i++) {
    pid_t pid = vfork();
    if (pid == 0) {
      execve("/bin/true", argv, environ);
      _exit(127);
    }
    wait_ok(pid);
  }
}

static void op_posix_spawn(const char *arg, long count) {
  (void)arg;
  char *argv[] = {"true", NULL};
  for (long i = 0; i < count; i++) {
    pid_t pid;
    must(posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0, "posix_spawn");
    wait_ok(pid);
  }
}

static void op_shell_pipeline(const char *arg, long count) {
  (void)arg;
  char *argv[] = {"sh", "-c", "true | true | true | true | true | true | true | true | true | true", NULL};
  for (long i = 0; i < count; i++) {
    pid_t pid;
    must(posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) == 0, "posix_spawn");
    wait_ok(pid);
  }
}

// One MiB per count from the parent to a child through a pipe.
static void op_pipe_to_child(const char *arg, long count) {
  (void)arg;
  int fds[2];
  must(pipe(fds) == 0, "pipe");
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[1]);
    static char buf[65536];
    long total = 0;
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof(buf))) > 0)
      total += n;
    _exit(total == count * (1L << 20) ? 0 : 1);
  }
  close(fds[0]);
  static char chunk[65536];
  for (long i = 0; i < count * 16; i++)
    must(write(fds[1], chunk, sizeof(chunk)) == (ssize_t)sizeof(chunk), "write");
  close(fds[1]);
  wait_ok(pid);
}

int main(void) {
  report("fork_exit_wait", op_fork_exit_wait, NULL, 100);
  report("fork_64MiB_exit_wait", op_fork_64m_exit_wait, NULL, 10);
  report("fork_exec_wait_true", op_fork_exec_wait, NULL, 50);
  report("vfork_exec_wait_true", op_vfork_exec_wait, NULL, 50);
  report("posix_spawn_true", op_posix_spawn, NULL, 50);
  report("sh_pipeline_10", op_shell_pipeline, NULL, 5);
  report("pipe_parent_to_child_per_MiB", op_pipe_to_child, NULL, 64);
  return 0;
}
