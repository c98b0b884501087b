// Many descriptors: RLIMIT_NOFILE raised past 1024 gives that many, as servers with
// thousands of connections need (redis asks for 10032, nginx for its worker_connections).
// The descriptor table grows as they are used; dup2, F_DUPFD, /proc/self/fd, poll and
// select reach the new ones; a lowered limit refuses new descriptors past it with Linux's
// errors (open EMFILE, dup2 EBADF, F_DUPFD EINVAL, poll EINVAL) and leaves open ones open.
// Passes natively first.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../check.h"

#define MANY 3000  // past Linux's default soft limit (1024), within its default hard (4096)

static int count_proc_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

int main(void) {
  struct rlimit orig;
  getrlimit(RLIMIT_NOFILE, &orig);
  check("hard-limit-room", orig.rlim_max >= MANY + 64, "hard limit %llu", (unsigned long long)orig.rlim_max);
  struct rlimit raised = {MANY + 64, orig.rlim_max};
  check("raise-soft", setrlimit(RLIMIT_NOFILE, &raised) == 0, "%s", strerrorname_np(errno));

  static int fds[MANY];
  int opened = 0, highest = -1;
  for (; opened < MANY; opened++) {
    fds[opened] = dup(0);
    if (fds[opened] < 0)
      break;
    highest = fds[opened];
  }
  check("dup-many", opened == MANY && highest >= MANY, "opened %d, highest %d, %s", opened, highest,
        strerrorname_np(errno));
  check("proc-fd-lists-all", count_proc_fds() >= MANY, "/proc/self/fd has %d", count_proc_fds());
  check("dup2-high", dup2(0, MANY + 40) == MANY + 40, "%s", strerrorname_np(errno));
  check("f-dupfd-high", fcntl(0, F_DUPFD, MANY + 50) == MANY + 50, "%s", strerrorname_np(errno));
  check("fcntl-getfd-high", fcntl(highest, F_GETFD) == 0, "%s", strerrorname_np(errno));

  // poll and select see a descriptor past 1024 (a pipe's write end, ready for writing).
  int p[2];
  check("pipe-high", pipe(p) == 0 && p[1] > 1024, "pipe %d, %s", p[1], strerrorname_np(errno));
  struct pollfd pfd = {.fd = p[1], .events = POLLOUT};
  check("poll-high", poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT), "revents %#x", pfd.revents);
  uint64_t wset[(MANY + 128) / 64] = {0};  // an fd_set larger than FD_SETSIZE, as servers use
  wset[p[1] / 64] |= 1ull << (p[1] % 64);
  struct timeval tv = {0, 0};
  long n = syscall(SYS_select, p[1] + 1, NULL, wset, NULL, &tv);
  check("select-high", n == 1 && (wset[p[1] / 64] >> (p[1] % 64) & 1), "select %ld, %s", n, strerrorname_np(errno));

  // A lower limit: no new descriptor at or past it, the open ones stay.
  struct rlimit low = {64, orig.rlim_max};
  check("lower-soft", setrlimit(RLIMIT_NOFILE, &low) == 0, "%s", strerrorname_np(errno));
  CHECK_FAILS_WITH("open-past-limit", open("/dev/null", O_RDONLY), EMFILE);
  CHECK_FAILS_WITH("dup2-past-limit", dup2(0, 100), EBADF);
  CHECK_FAILS_WITH("f-dupfd-past-limit", fcntl(0, F_DUPFD, 100), EINVAL);
  static struct pollfd many[65];
  for (int i = 0; i < 65; i++)
    many[i].fd = -1;
  CHECK_FAILS_WITH("poll-nfds-past-limit", poll(many, 65, 0), EINVAL);
  check("open-ones-stay", fcntl(highest, F_GETFD) == 0, "%s", strerrorname_np(errno));

  for (int i = 0; i < opened; i++)
    close(fds[i]);
  close(MANY + 40);
  close(MANY + 50);
  close(p[0]);
  close(p[1]);
  check("restore", setrlimit(RLIMIT_NOFILE, &orig) == 0, "%s", strerrorname_np(errno));

  // Past fs.nr_open the hard limit cannot go, privileged or not. (Raising it within
  // nr_open needs CAP_SYS_RESOURCE, which a container's root may lack: proc-creds checks
  // what the LibOS's credentials allow.)
  struct rlimit too = {orig.rlim_cur, 1u << 30};
  CHECK_FAILS_WITH("raise-hard-past-nr-open", setrlimit(RLIMIT_NOFILE, &too), EPERM);
  return check_exit_status();
}
