// Pipes: data in order, EOF, EAGAIN on an empty and a full pipe, partial writes, PIPE_BUF
// atomicity, EPIPE with SIGPIPE ignored, handled, and (argument "sigpipe-default") fatal,
// fstat, /proc/self/fd links, F_GETPIPE_SZ/F_SETPIPE_SZ, FIONREAD, O_DIRECT packets,
// readv/writev as one operation, blocking reads and writes against threads, and signals
// that interrupt them.
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

// An address no program maps (hidden from the compiler's buffer-size warnings).
static void *volatile g_bad = (void *)8;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static void make_pipe(int p[2], int flags) {
  if (pipe2(p, flags) != 0) {
    perror("pipe2");
    exit(2);
  }
}

// Writes 4096-byte blocks without blocking until the pipe is full; returns the bytes written.
static long fill(int fd) {
  static char block[4096];
  long total = 0;
  for (;;) {
    ssize_t n = write(fd, block, sizeof(block));
    if (n < 0)
      return total;
    total += n;
  }
}

static void basics(void) {
  int p[2];
  check("pipe", pipe(p) == 0, "pipe failed: %s", strerrorname_np(errno));
  check("write", write(p[1], "hello", 5) == 5, "short write");
  char buf[16] = {0};
  check("read", read(p[0], buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0, "got '%s'", buf);
  check("read-zero-bytes", read(p[0], buf, 0) == 0, "a zero-byte read did not return 0");
  check("write-zero-bytes", write(p[1], buf, 0) == 0, "a zero-byte write did not return 0");

  struct stat r, w;
  fstat(p[0], &r);
  fstat(p[1], &w);
  check("fstat-fifo", S_ISFIFO(r.st_mode) && (r.st_mode & 07777) == 0600, "mode %o", r.st_mode);
  check("fstat-same-inode", r.st_ino == w.st_ino && r.st_dev == w.st_dev, "ends differ");
  check("fstat-nlink-size", r.st_nlink == 1 && r.st_size == 0 && r.st_blksize == 4096,
        "nlink %ld size %ld blksize %ld", (long)r.st_nlink, (long)r.st_size, (long)r.st_blksize);
  int q[2];
  make_pipe(q, 0);
  struct stat other;
  fstat(q[0], &other);
  check("fstat-new-inode", other.st_ino != r.st_ino, "two pipes share an inode");

  char path[64], link[64], want[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
  ssize_t n = readlink(path, link, sizeof(link) - 1);
  link[n > 0 ? n : 0] = 0;
  snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)r.st_ino);
  check("proc-fd-link", strcmp(link, want) == 0, "link is '%s'", link);

  check("flags-read-end", fcntl(p[0], F_GETFL) == O_RDONLY, "flags %#x", fcntl(p[0], F_GETFL));
  check("flags-write-end", fcntl(p[1], F_GETFL) == O_WRONLY, "flags %#x", fcntl(p[1], F_GETFL));
  CHECK_FAILS_WITH("read-write-end", read(p[1], buf, 1), EBADF);
  CHECK_FAILS_WITH("write-read-end", write(p[0], "x", 1), EBADF);
  CHECK_FAILS_WITH("lseek", lseek(p[0], 0, SEEK_SET), ESPIPE);
  CHECK_FAILS_WITH("pread", pread(p[0], buf, 1, 0), ESPIPE);

  // EOF once every write end is closed: a dup keeps the pipe open.
  int dup_w = dup(p[1]);
  close(p[1]);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  CHECK_FAILS_WITH("no-eof-while-dup-open", read(p[0], buf, 1), EAGAIN);
  close(dup_w);
  check("eof", read(p[0], buf, sizeof(buf)) == 0, "read after the last writer closed did not return 0");
  struct pollfd pfd = {p[0], POLLIN, 0};
  check("eof-pollhup", poll(&pfd, 1, 0) == 1 && pfd.revents == POLLHUP, "revents %#x", pfd.revents);
  close(p[0]);
  close(q[0]);
  close(q[1]);
}

static void flags_and_errors(void) {
  int p[2];
  make_pipe(p, O_NONBLOCK | O_CLOEXEC);
  check("pipe2-nonblock-flags", fcntl(p[0], F_GETFL) == (O_RDONLY | O_NONBLOCK) &&
                                    fcntl(p[1], F_GETFL) == (O_WRONLY | O_NONBLOCK),
        "flags %#x %#x", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL));
  check("pipe2-cloexec", fcntl(p[0], F_GETFD) == FD_CLOEXEC && fcntl(p[1], F_GETFD) == FD_CLOEXEC,
        "FD_CLOEXEC not set");
  char buf[8];
  CHECK_FAILS_WITH("read-empty-nonblock", read(p[0], buf, sizeof(buf)), EAGAIN);
  close(p[0]);
  close(p[1]);

  int bad[2];
  CHECK_FAILS_WITH("pipe2-bad-flags", pipe2(bad, O_APPEND), EINVAL);
  CHECK_FAILS_WITH("pipe-efault", syscall(SYS_pipe, g_bad), EFAULT);
  CHECK_FAILS_WITH("pipe2-efault", syscall(SYS_pipe2, g_bad, 0), EFAULT);
}

static void full_pipe(void) {
  int p[2];
  make_pipe(p, O_NONBLOCK);
  check("fionread-empty", ({ int n = -1; ioctl(p[0], FIONREAD, &n); n; }) == 0, "not 0");
  long total = fill(p[1]);
  check("fill-64k", total == 65536, "a pipe took %ld bytes", total);
  CHECK_FAILS_WITH("write-full-nonblock", write(p[1], "x", 1), EAGAIN);
  int queued = -1;
  ioctl(p[0], FIONREAD, &queued);
  check("fionread-full", queued == 65536, "FIONREAD says %d", queued);
  struct pollfd pfd = {p[1], POLLOUT, 0};
  check("full-not-pollout", poll(&pfd, 1, 0) == 0, "revents %#x", pfd.revents);

  // One page free: a larger write takes what fits, a PIPE_BUF one waits for all its room.
  static char block[8192];
  check("drain-page", read(p[0], block, 4096) == 4096, "short read");
  check("pollout-after-read", poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT), "revents %#x", pfd.revents);
  ssize_t n = write(p[1], block, 5000);
  check("partial-write", n == 4096, "write of 5000 into 4096 free bytes returned %zd", n);
  CHECK_FAILS_WITH("atomic-write-waits", write(p[1], block, 100), EAGAIN);
  check("drain-page-2", read(p[0], block, 4096) == 4096, "short read");
  check("atomic-write-fits", write(p[1], block, 4096) == 4096, "a PIPE_BUF write into a free page failed");
  close(p[0]);
  close(p[1]);
}

static void pipe_size(void) {
  int p[2];
  make_pipe(p, O_NONBLOCK);
  check("getpipe-sz", fcntl(p[0], F_GETPIPE_SZ) == 65536, "size %d", fcntl(p[0], F_GETPIPE_SZ));
  check("setpipe-sz-rounds-up", fcntl(p[0], F_SETPIPE_SZ, 5000) == 8192, "not 8192");
  check("setpipe-sz-both-ends", fcntl(p[1], F_GETPIPE_SZ) == 8192, "the other end says %d",
        fcntl(p[1], F_GETPIPE_SZ));
  check("setpipe-sz-min-page", fcntl(p[1], F_SETPIPE_SZ, 1) == 4096, "not 4096");
  check("fill-one-page", fill(p[1]) == 4096, "a one-page pipe took another size");
  check("setpipe-sz-grow-keeps-data", fcntl(p[0], F_SETPIPE_SZ, 16384) == 16384, "grow failed");
  char buf[4096];
  check("data-after-grow", read(p[0], buf, sizeof(buf)) == 4096, "data lost");
  check("setpipe-sz-fill-again", fill(p[1]) == 16384, "a 16 KiB pipe took another size");
  CHECK_FAILS_WITH("setpipe-sz-ebusy", fcntl(p[0], F_SETPIPE_SZ, 4096), EBUSY);
  // Past /proc/sys/fs/pipe-max-size (1 MiB): EPERM, unless the caller has CAP_SYS_RESOURCE.
  errno = 0;
  int above = fcntl(p[0], F_SETPIPE_SZ, 2 << 20);
  check("setpipe-sz-above-max", (above == -1 && errno == EPERM) || above == 2 << 20, "returned %d (%s)", above,
        strerrorname_np(errno));
  if (above > 0)
    fcntl(p[0], F_SETPIPE_SZ, 16384);
  CHECK_FAILS_WITH("setpipe-sz-einval", fcntl(p[0], F_SETPIPE_SZ, -1), EINVAL);
  int f = open("/proc/self/comm", O_RDONLY);
  CHECK_FAILS_WITH("getpipe-sz-not-pipe", fcntl(f, F_GETPIPE_SZ), EBADF);
  close(f);
  close(p[0]);
  close(p[1]);
}

static volatile sig_atomic_t g_sigpipes;
static volatile int g_sigpipe_code;

static void on_sigpipe(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)ctx;
  g_sigpipes++;
  g_sigpipe_code = info->si_code;
}

static void broken_pipe(void) {
  int p[2];
  make_pipe(p, 0);
  close(p[0]);
  signal(SIGPIPE, SIG_IGN);
  CHECK_FAILS_WITH("epipe-ignored", write(p[1], "x", 1), EPIPE);
  check("zero-write-no-epipe", write(p[1], "x", 0) == 0, "a zero-byte write failed");
  struct pollfd pfd = {p[1], POLLOUT, 0};
  check("epipe-pollerr", poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR), "revents %#x", pfd.revents);

  struct sigaction sa = {0};
  sa.sa_sigaction = on_sigpipe;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGPIPE, &sa, NULL);
  CHECK_FAILS_WITH("epipe-handled", write(p[1], "xy", 2), EPIPE);
  check("sigpipe-handler", g_sigpipes == 1 && g_sigpipe_code == SI_USER, "handler ran %d times, code %d",
        (int)g_sigpipes, g_sigpipe_code);
  struct iovec iov[2] = {{"a", 1}, {"b", 1}};
  CHECK_FAILS_WITH("epipe-writev", writev(p[1], iov, 2), EPIPE);
  check("sigpipe-writev", g_sigpipes == 2, "handler ran %d times", (int)g_sigpipes);
  signal(SIGPIPE, SIG_DFL);
  close(p[1]);
}

static void efault(void) {
  int p[2];
  make_pipe(p, O_NONBLOCK);
  write(p[1], "data", 4);
  CHECK_FAILS_WITH("read-efault", read(p[0], g_bad, 4), EFAULT);
  char buf[8] = {0};
  check("efault-keeps-data", read(p[0], buf, sizeof(buf)) == 4 && memcmp(buf, "data", 4) == 0, "got '%s'", buf);
  CHECK_FAILS_WITH("write-efault", write(p[1], g_bad, 4), EFAULT);
  CHECK_FAILS_WITH("read-empty-after-efault", read(p[0], buf, sizeof(buf)), EAGAIN);
  close(p[0]);
  close(p[1]);
}

static void vectors_and_packets(void) {
  int p[2];
  make_pipe(p, 0);
  // One readv returns what is there: it does not block for the second buffer.
  write(p[1], "hello", 5);
  char a[5], b[10];
  struct iovec iov[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
  check("readv-no-block", readv(p[0], iov, 2) == 5 && memcmp(a, "hello", 5) == 0, "readv failed");
  struct iovec out[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
  check("writev", writev(p[1], out, 3) == 5, "writev failed");
  char c[8] = {0};
  check("writev-data", read(p[0], c, sizeof(c)) == 5 && strcmp(c, "abcde") == 0, "got '%s'", c);
  struct iovec badlen[1] = {{a, (size_t)-1}};
  CHECK_FAILS_WITH("readv-einval", readv(p[0], badlen, 1), EINVAL);
  CHECK_FAILS_WITH("writev-efault", writev(p[1], g_bad, 1), EFAULT);
  close(p[0]);
  close(p[1]);

  make_pipe(p, O_DIRECT | O_NONBLOCK);
  check("direct-flags", (fcntl(p[1], F_GETFL) & O_DIRECT) && !(fcntl(p[0], F_GETFL) & O_DIRECT),
        "O_DIRECT on %#x / %#x", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL));
  write(p[1], "hello", 5);
  write(p[1], "world!", 6);
  char s[8] = {0};
  check("packet-truncated", read(p[0], s, 3) == 3 && memcmp(s, "hel", 3) == 0, "got '%s'", s);
  check("packet-next", read(p[0], s, sizeof(s)) == 6 && memcmp(s, "world!", 6) == 0, "got '%s'", s);
  static char big[6000];
  check("packet-split", write(p[1], big, sizeof(big)) == 6000, "write failed");
  static char got[8192];
  check("packet-page", read(p[0], got, sizeof(got)) == 4096, "first packet not a page");
  check("packet-rest", read(p[0], got, sizeof(got)) == 6000 - 4096, "second packet wrong");
  // A pipe holds as many packets as it has pages.
  int packets = 0;
  while (write(p[1], "x", 1) == 1)
    packets++;
  check("packet-slots", packets == 16, "%d packets fit", packets);
  close(p[0]);
  close(p[1]);
}

// ---- threads at the other end -------------------------------------------------------------

struct Stream {
  int fd;
  long size;
  uint32_t sum;
};

static void *stream_writer(void *arg) {
  struct Stream *s = arg;
  static unsigned char buf[10007];
  long left = s->size;
  uint32_t x = 1;
  while (left > 0) {
    size_t n = left < (long)sizeof(buf) ? (size_t)left : sizeof(buf);
    for (size_t i = 0; i < n; i++) {
      x = x * 1103515245 + 12345;
      buf[i] = (unsigned char)(x >> 16);
      s->sum = s->sum * 31 + buf[i];
    }
    size_t off = 0;
    while (off < n) {
      ssize_t w = write(s->fd, buf + off, n - off);
      if (w <= 0)
        return NULL;
      off += (size_t)w;
    }
    left -= (long)n;
  }
  close(s->fd);
  return NULL;
}

static void stream(void) {
  int p[2];
  make_pipe(p, 0);
  struct Stream s = {p[1], 3 << 20, 0};
  pthread_t t;
  pthread_create(&t, NULL, stream_writer, &s);
  static unsigned char buf[65536];
  long got = 0;
  uint32_t sum = 0;
  for (;;) {
    ssize_t n = read(p[0], buf, (size_t)(got % 3 + 1) * 1000);  // uneven reads
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; i++)
      sum = sum * 31 + buf[i];
    got += n;
  }
  pthread_join(t, NULL);
  check("stream-3mib", got == s.size && sum == s.sum, "got %ld bytes, checksum %s", got,
        sum == s.sum ? "same" : "differs");
  close(p[0]);
}

struct Atomic {
  int fd;
  char fill;
};

static void *atomic_writer(void *arg) {
  struct Atomic *a = arg;
  char rec[PIPE_BUF];
  memset(rec, a->fill, sizeof(rec));
  for (int i = 0; i < 200; i++)
    write(a->fd, rec, sizeof(rec));
  return NULL;
}

static void pipe_buf_atomic(void) {
  int p[2];
  make_pipe(p, 0);
  struct Atomic writers[4] = {{p[1], 'a'}, {p[1], 'b'}, {p[1], 'c'}, {p[1], 'd'}};
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, atomic_writer, &writers[i]);
  int mixed = 0, records = 0;
  char rec[PIPE_BUF];
  while (records < 800) {
    size_t have = 0;
    while (have < sizeof(rec)) {
      ssize_t n = read(p[0], rec + have, sizeof(rec) - have);
      if (n <= 0)
        break;
      have += (size_t)n;
    }
    for (size_t i = 1; i < sizeof(rec); i++)
      if (rec[i] != rec[0]) {
        mixed++;
        break;
      }
    records++;
  }
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  check("pipe-buf-atomic", mixed == 0 && records == 800, "%d of %d records interleaved", mixed, records);
  close(p[0]);
  close(p[1]);
}

static void *late_writer(void *arg) {
  sleep_ms(100);
  write(*(int *)arg, "late", 4);
  return NULL;
}

static void *late_reader(void *arg) {
  sleep_ms(100);
  static char buf[65536];
  read(*(int *)arg, buf, sizeof(buf));
  return NULL;
}

static void *late_closer(void *arg) {
  sleep_ms(100);
  close(*(int *)arg);
  return NULL;
}

static void blocking(void) {
  int p[2];
  make_pipe(p, 0);
  pthread_t t;
  pthread_create(&t, NULL, late_writer, &p[1]);
  char buf[8] = {0};
  check("blocking-read-wakes", read(p[0], buf, sizeof(buf)) == 4 && memcmp(buf, "late", 4) == 0, "got '%s'", buf);
  pthread_join(t, NULL);

  fcntl(p[1], F_SETFL, O_NONBLOCK);
  fill(p[1]);
  fcntl(p[1], F_SETFL, 0);
  pthread_create(&t, NULL, late_reader, &p[0]);
  check("blocking-write-wakes", write(p[1], "more", 4) == 4, "write failed: %s", strerrorname_np(errno));
  pthread_join(t, NULL);
  char drain[8];
  read(p[0], drain, 4);

  pthread_create(&t, NULL, late_closer, &p[1]);
  check("blocked-read-sees-eof", read(p[0], buf, sizeof(buf)) == 0, "read did not return 0");
  pthread_join(t, NULL);
  close(p[0]);

  make_pipe(p, 0);
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  fill(p[1]);
  fcntl(p[1], F_SETFL, 0);
  signal(SIGPIPE, SIG_IGN);
  pthread_create(&t, NULL, late_closer, &p[0]);
  CHECK_FAILS_WITH("blocked-write-sees-epipe", write(p[1], "x", 1), EPIPE);
  pthread_join(t, NULL);
  signal(SIGPIPE, SIG_DFL);
  close(p[1]);
}

// ---- signals interrupting a blocked read --------------------------------------------------

static volatile sig_atomic_t g_hits;
static void on_usr1(int sig) {
  (void)sig;
  g_hits++;
}

struct Blocked {
  int fd;
  ssize_t ret;
  int err;
};

static void *blocked_reader(void *arg) {
  struct Blocked *b = arg;
  char buf[8];
  errno = 0;
  b->ret = read(b->fd, buf, sizeof(buf));
  b->err = errno;
  return NULL;
}

static void interrupted(const char *name, int flags, ssize_t want_ret, int want_err) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = flags;
  sigaction(SIGUSR1, &sa, NULL);
  g_hits = 0;
  int p[2];
  make_pipe(p, 0);
  struct Blocked b = {p[0], 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, blocked_reader, &b);
  sleep_ms(100);
  pthread_kill(t, SIGUSR1);
  sleep_ms(100);
  write(p[1], "abc", 3);
  pthread_join(t, NULL);
  check(name, g_hits == 1 && b.ret == want_ret && (want_ret >= 0 || b.err == want_err),
        "handler ran %d times; read returned %zd (%s)", (int)g_hits, b.ret,
        b.ret < 0 ? strerrorname_np(b.err) : "-");
  close(p[0]);
  close(p[1]);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "sigpipe-default") == 0) {
    int p[2];
    make_pipe(p, 0);
    close(p[0]);
    write(p[1], "x", 1);
    printf("still alive\n");  // SIGPIPE's default action ends the process first
    return 0;
  }
  basics();
  flags_and_errors();
  full_pipe();
  pipe_size();
  broken_pipe();
  efault();
  vectors_and_packets();
  stream();
  pipe_buf_atomic();
  blocking();
  interrupted("read-eintr", 0, -1, EINTR);
  interrupted("read-restart", SA_RESTART, 3, 0);
  return check_exit_status();
}
