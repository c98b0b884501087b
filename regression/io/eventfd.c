// eventfd and eventfd2: the counter, EFD_SEMAPHORE, EFD_NONBLOCK (EAGAIN), EFD_CLOEXEC,
// 8-byte transfers (EINVAL otherwise), a write that would overflow (EAGAIN, or blocking
// until a reader makes room), poll readiness, and how /proc and fstat show the file.
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static void *volatile g_bad = (void *)8;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static uint64_t read_value(int fd) {
  uint64_t v = 0;
  if (read(fd, &v, sizeof(v)) != sizeof(v))
    return ~0ull;
  return v;
}

static int write_value(int fd, uint64_t v) { return write(fd, &v, sizeof(v)) == sizeof(v); }

static short revents(int fd) {
  struct pollfd pfd = {fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0};
  poll(&pfd, 1, 0);
  return pfd.revents;
}

static void counter(void) {
  int fd = eventfd(3, 0);
  check("eventfd", fd >= 0, "eventfd failed: %s", strerrorname_np(errno));
  check("flags", fcntl(fd, F_GETFL) == O_RDWR && fcntl(fd, F_GETFD) == 0, "flags %#x", fcntl(fd, F_GETFL));
  check("poll-readable", revents(fd) == (POLLIN | POLLOUT), "revents %#x", revents(fd));
  check("read-all", read_value(fd) == 3, "not 3");
  check("poll-empty", revents(fd) == POLLOUT, "revents %#x", revents(fd));
  check("write-adds", write_value(fd, 5) && write_value(fd, 7), "write failed");
  check("read-sum", read_value(fd) == 12, "not 12");
  uint64_t big[2] = {0, 0};
  check("read-larger-buffer", write_value(fd, 9) && read(fd, big, sizeof(big)) == 8 && big[0] == 9,
        "a 16-byte read failed");
  uint32_t small;
  CHECK_FAILS_WITH("read-short-buffer", read(fd, &small, sizeof(small)), EINVAL);
  CHECK_FAILS_WITH("write-short-buffer", write(fd, &small, sizeof(small)), EINVAL);
  CHECK_FAILS_WITH("write-long-buffer", write(fd, big, sizeof(big)), EINVAL);
  uint64_t max = ~0ull;
  CHECK_FAILS_WITH("write-all-ones", write(fd, &max, sizeof(max)), EINVAL);
  CHECK_FAILS_WITH("read-efault", (write_value(fd, 1), read(fd, g_bad, 8)), EFAULT);
  CHECK_FAILS_WITH("write-efault", write(fd, g_bad, 8), EFAULT);
  check("lseek-noop", lseek(fd, 5, SEEK_SET) == 0, "lseek did not answer 0");  // noop_llseek

  char path[64], link[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, link, sizeof(link) - 1);
  link[n > 0 ? n : 0] = 0;
  check("proc-fd-link", strcmp(link, "anon_inode:[eventfd]") == 0, "link is '%s'", link);
  struct stat st;
  fstat(fd, &st);
  check("fstat-anon", (st.st_mode & S_IFMT) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode);
  close(fd);
}

static void flags(void) {
  int fd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
  check("semaphore-flags", fcntl(fd, F_GETFL) == (O_RDWR | O_NONBLOCK) && fcntl(fd, F_GETFD) == FD_CLOEXEC,
        "flags %#x", fcntl(fd, F_GETFL));
  check("semaphore-take-1", read_value(fd) == 1, "not 1");
  check("semaphore-take-2", read_value(fd) == 1, "not 1");
  uint64_t v;
  CHECK_FAILS_WITH("semaphore-empty-eagain", read(fd, &v, sizeof(v)), EAGAIN);
  close(fd);
  CHECK_FAILS_WITH("eventfd2-bad-flags", eventfd(0, 0x8), EINVAL);
  CHECK_FAILS_WITH("eventfd2-bad-flags-append", eventfd(0, O_APPEND), EINVAL);
  fd = (int)syscall(SYS_eventfd, 4);
  check("eventfd-syscall", fd >= 0 && read_value(fd) == 4, "the old eventfd call failed");
  close(fd);
}

static void overflow(void) {
  int fd = eventfd(0, EFD_NONBLOCK);
  check("write-max", write_value(fd, 0xfffffffffffffffeull), "write failed");
  check("poll-max", revents(fd) == POLLIN, "revents %#x", revents(fd));
  uint64_t one = 1;
  CHECK_FAILS_WITH("overflow-eagain", write(fd, &one, sizeof(one)), EAGAIN);
  check("write-zero-fits", write_value(fd, 0), "a zero write failed");
  check("read-max", read_value(fd) == 0xfffffffffffffffeull, "wrong value");
  close(fd);
}

static void *late_read(void *arg) {
  sleep_ms(100);
  read_value(*(int *)arg);
  return NULL;
}

static void *late_write(void *arg) {
  sleep_ms(100);
  write_value(*(int *)arg, 42);
  return NULL;
}

static volatile sig_atomic_t g_hits;
static void on_usr1(int sig) {
  (void)sig;
  g_hits++;
}

static void *interrupted_read(void *arg) {
  int fd = *(int *)arg;
  uint64_t v;
  errno = 0;
  long r = read(fd, &v, sizeof(v));
  return (void *)(r < 0 ? (long)-errno : r);
}

static void blocking(void) {
  int fd = eventfd(0, 0);
  pthread_t t;
  pthread_create(&t, NULL, late_write, &fd);
  check("blocking-read-wakes", read_value(fd) == 42, "wrong value");
  pthread_join(t, NULL);

  write_value(fd, 0xfffffffffffffffeull);
  pthread_create(&t, NULL, late_read, &fd);
  check("blocking-write-waits-for-room", write_value(fd, 5), "write failed");
  pthread_join(t, NULL);
  check("after-blocked-write", read_value(fd) == 5, "wrong value");

  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_create(&t, NULL, interrupted_read, &fd);
  sleep_ms(100);
  pthread_kill(t, SIGUSR1);
  void *ret;
  pthread_join(t, &ret);
  check("read-eintr", (long)ret == -EINTR && g_hits == 1, "read returned %ld, handler ran %d times", (long)ret,
        (int)g_hits);
  close(fd);
}

int main(void) {
  counter();
  flags();
  overflow();
  blocking();
  return check_exit_status();
}
