// FIFOs (named pipes, fifo(7)): mkfifo, mknod and mknodat with S_IFIFO, in a directory of
// /tmp (a tmpfs under Carbyne) and in the working directory (a chroot mount under Carbyne),
// each check named after where it ran ("tmp-..." and "cwd-..."): stat, opens that wait for
// each other (threads play both ends), data, EOF, ENXIO, O_RDWR, EPIPE, unlink while open,
// EEXIST, the data dropped with the last end, poll, a blocking open interrupted by a signal
// (EINTR, and restarted with SA_RESTART), socket nodes (tmpfs only) and device nodes.
// Scratch directories are mkdtemp's: the native and the Carbyne run go at the same time (and
// a Carbyne process's pid is the same in every run).
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "../unprivileged.h"

static const char *g_where;  // "tmp" or "cwd": the check names' prefix
static char g_dir[512];      // the directory the FIFOs are made in

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

// "<where>-<what>", for check names.
static const char *name(const char *what) {
  static char buf[8][96];
  static int next;
  char *b = buf[next++ % 8];
  snprintf(b, sizeof(buf[0]), "%s-%s", g_where, what);
  return b;
}

// "<dir>/<file>", in one of a few rotating buffers.
static const char *at(const char *file) {
  static char buf[8][640];
  static int next;
  char *b = buf[next++ % 8];
  snprintf(b, sizeof(buf[0]), "%s/%s", g_dir, file);
  return b;
}

// F_GETFL's access mode and O_NONBLOCK (Linux adds O_LARGEFILE on its own).
static int status_flags(int fd) { return fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK); }

static int open_or_die(const char *path, int flags) {
  int fd = open(path, flags);
  if (fd < 0) {
    printf("FAIL setup: open %s (flags %#x): %s\n", path, flags, strerrorname_np(errno));
    exit(2);
  }
  return fd;
}

static unsigned char dtype_of(const char *file) {
  DIR *d = opendir(g_dir);
  unsigned char type = 0xff;
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, file) == 0)
      type = e->d_type;
  if (d)
    closedir(d);
  return type;
}

static void making(void) {
  const char *f = at("made");
  check(name("mkfifo"), mkfifo(f, 0640) == 0, "mkfifo: %s", strerrorname_np(errno));
  struct stat st;
  int ok = stat(f, &st) == 0;
  check(name("stat-fifo"), ok && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0640 && st.st_size == 0 &&
                               st.st_nlink == 1,
        "mode %o size %ld nlink %ld", ok ? st.st_mode : 0, ok ? (long)st.st_size : -1L,
        ok ? (long)st.st_nlink : -1L);
  check(name("lstat-fifo"), lstat(f, &st) == 0 && S_ISFIFO(st.st_mode), "not a FIFO");
  check(name("dirent-fifo"), dtype_of("made") == DT_FIFO, "d_type %d", dtype_of("made"));
  CHECK_FAILS_WITH(name("mkfifo-eexist"), mkfifo(f, 0600), EEXIST);
  CHECK_FAILS_WITH(name("mkfifo-missing-dir"), mkfifo(at("no-such-dir/f"), 0600), ENOENT);
  CHECK_FAILS_WITH(name("open-creat-excl-eexist"), open(f, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);

  // O_CREAT of an existing FIFO opens it (O_TRUNC means nothing to it); O_PATH never waits.
  int fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(name("open-creat-existing"), fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode),
        "fd %d: %s", fd, strerrorname_np(errno));
  close(fd);
  CHECK_FAILS_WITH(name("open-direct-einval"), open(f, O_RDWR | O_DIRECT), EINVAL);
  CHECK_FAILS_WITH(name("open-accmode-3-einval"), open(f, O_ACCMODE | O_NONBLOCK), EINVAL);
  fd = open(f, O_PATH);
  check(name("open-path"), fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode), "fd %d: %s", fd,
        strerrorname_np(errno));
  close(fd);

  check(name("mknod-fifo"), mknod(at("by-mknod"), S_IFIFO | 0600, 0) == 0 && stat(at("by-mknod"), &st) == 0 &&
                                S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0600,
        "%s", strerrorname_np(errno));
  int dirfd = open(g_dir, O_RDONLY | O_DIRECTORY);
  check(name("mknodat-fifo"), mknodat(dirfd, "by-mknodat", S_IFIFO | 0604, 0) == 0 &&
                                  fstatat(dirfd, "by-mknodat", &st, 0) == 0 && S_ISFIFO(st.st_mode) &&
                                  (st.st_mode & 07777) == 0604,
        "%s", strerrorname_np(errno));
  CHECK_FAILS_WITH(name("mknodat-eexist"), mknodat(dirfd, "by-mknod", S_IFIFO | 0600, 0), EEXIST);
  close(dirfd);
  unlink(at("by-mknod"));
  unlink(at("by-mknodat"));
  unlink(f);
}

// Non-blocking opens, EOF, poll, fstat, /proc/self/fd and ENXIO.
static void nonblocking(void) {
  const char *f = at("nb");
  mkfifo(f, 0600);
  int r = open(f, O_RDONLY | O_NONBLOCK);
  check(name("open-rdonly-nonblock"), r >= 0, "%s", strerrorname_np(errno));
  char buf[16] = {0};
  check(name("read-no-writer-eof"), read(r, buf, sizeof(buf)) == 0, "a read with no writer did not give 0");
  struct pollfd pr = {r, POLLIN, 0};
  check(name("poll-no-hup-before-writer"), poll(&pr, 1, 0) == 0, "revents %#x", pr.revents);

  int w = open(f, O_WRONLY | O_NONBLOCK);
  check(name("open-wronly-nonblock-with-reader"), w >= 0, "%s", strerrorname_np(errno));
  struct stat path_st, end_st;
  stat(f, &path_st);
  fstat(w, &end_st);
  check(name("fstat-end-is-node"), S_ISFIFO(end_st.st_mode) && end_st.st_ino == path_st.st_ino &&
                                       end_st.st_dev == path_st.st_dev,
        "the end's fstat differs from the node's stat");
  check(name("getfl"), status_flags(r) == (O_RDONLY | O_NONBLOCK) && status_flags(w) == (O_WRONLY | O_NONBLOCK),
        "flags %#x %#x", status_flags(r), status_flags(w));
  check(name("getpipe-sz"), fcntl(w, F_GETPIPE_SZ) == 65536, "size %d", fcntl(w, F_GETPIPE_SZ));
  check(name("fchmod-end"), fchmod(w, 0620) == 0 && stat(f, &path_st) == 0 && (path_st.st_mode & 07777) == 0620,
        "%s, mode %o", strerrorname_np(errno), path_st.st_mode & 07777);
  char proc[64], link[640] = {0};
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", r);
  ssize_t n = readlink(proc, link, sizeof(link) - 1);
  char want[640];
  if (g_dir[0] == '/') {
    snprintf(want, sizeof(want), "%s", f);
  } else {
    char cwd[512];
    snprintf(want, sizeof(want), "%s/%s", getcwd(cwd, sizeof(cwd)), f + 2);  // f is "./nb..."
  }
  check(name("proc-fd-link"), n > 0 && strcmp(link, want) == 0, "the link differs from the path");

  CHECK_FAILS_WITH(name("read-empty-with-writer-eagain"), read(r, buf, sizeof(buf)), EAGAIN);
  struct pollfd pw = {w, POLLOUT, 0};
  check(name("poll-writable"), poll(&pw, 1, 0) == 1 && pw.revents == POLLOUT, "revents %#x", pw.revents);
  check(name("write"), write(w, "abc", 3) == 3, "short write");
  check(name("poll-readable"), poll(&pr, 1, 0) == 1 && pr.revents == POLLIN, "revents %#x", pr.revents);
  memset(buf, 0, sizeof(buf));
  check(name("read"), read(r, buf, sizeof(buf)) == 3 && strcmp(buf, "abc") == 0, "got '%s'", buf);
  close(w);
  check(name("poll-hup-after-writer"), poll(&pr, 1, 0) == 1 && pr.revents == POLLHUP, "revents %#x", pr.revents);
  check(name("read-eof"), read(r, buf, sizeof(buf)) == 0, "no EOF after the last writer closed");
  close(r);
  CHECK_FAILS_WITH(name("open-wronly-nonblock-no-reader-enxio"), open(f, O_WRONLY | O_NONBLOCK), ENXIO);

  // The last reader gone: EPIPE (SIGPIPE ignored), and POLLERR for the writer.
  signal(SIGPIPE, SIG_IGN);
  r = open_or_die(f, O_RDONLY | O_NONBLOCK);
  w = open_or_die(f, O_WRONLY | O_NONBLOCK);
  close(r);
  CHECK_FAILS_WITH(name("write-no-reader-epipe"), write(w, "x", 1), EPIPE);
  pw.revents = 0;
  check(name("poll-err-no-reader"), poll(&pw, 1, 0) == 1 && (pw.revents & POLLERR), "revents %#x", pw.revents);
  close(w);
  signal(SIGPIPE, SIG_DFL);
  unlink(f);
}

// ---- blocking opens against threads ---------------------------------------------------------

enum { kBig = 300000 };  // several times a pipe's capacity: the writer blocks too

struct Side {
  const char *path;
  int fd;
  int err;
  long bytes;
  int mismatches;
};

static void *blocking_reader(void *arg) {
  struct Side *s = arg;
  s->fd = open(s->path, O_RDONLY);
  s->err = errno;
  if (s->fd < 0)
    return NULL;
  static char buf[7000];
  for (;;) {
    ssize_t n = read(s->fd, buf, sizeof(buf));
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; i++)
      s->mismatches += buf[i] != (char)((s->bytes + i) * 13);
    s->bytes += n;
  }
  close(s->fd);
  return NULL;
}

static void *blocking_writer(void *arg) {
  struct Side *s = arg;
  s->fd = open(s->path, O_WRONLY);
  s->err = errno;
  if (s->fd < 0)
    return NULL;
  static char buf[kBig];
  for (long i = 0; i < kBig; i++)
    buf[i] = (char)(i * 13);
  for (long done = 0; done < kBig;) {
    ssize_t n = write(s->fd, buf + done, kBig - done);
    if (n <= 0)
      break;
    done += n;
  }
  s->bytes = kBig;
  close(s->fd);
  return NULL;
}

static void blocking_pair(void) {
  const char *f = at("pair");
  mkfifo(f, 0600);
  // Each order: the reader first, then the writer first; both opens wait for the other.
  for (int order = 0; order < 2; order++) {
    struct Side r = {f, -1, 0, 0, 0}, w = {f, -1, 0, 0, 0};
    pthread_t tr, tw;
    if (order == 0) {
      pthread_create(&tr, NULL, blocking_reader, &r);
      sleep_ms(50);
      pthread_create(&tw, NULL, blocking_writer, &w);
    } else {
      pthread_create(&tw, NULL, blocking_writer, &w);
      sleep_ms(50);
      pthread_create(&tr, NULL, blocking_reader, &r);
    }
    pthread_join(tr, NULL);
    pthread_join(tw, NULL);
    check(name(order == 0 ? "blocking-reader-first" : "blocking-writer-first"),
          r.fd >= 0 && w.fd >= 0 && r.bytes == kBig && w.bytes == kBig && r.mismatches == 0,
          "opens %s/%s, read %ld of %d bytes, %d wrong", r.fd >= 0 ? "ok" : strerrorname_np(r.err),
          w.fd >= 0 ? "ok" : strerrorname_np(w.err), r.bytes, kBig, r.mismatches);
  }
  unlink(f);
}

// ---- O_RDWR, the data's lifetime, unlink ----------------------------------------------------

struct Later {
  int fd;
  const char *data;
};

static void *write_later(void *arg) {
  struct Later *l = arg;
  sleep_ms(50);
  if (write(l->fd, l->data, strlen(l->data)) < 0)
    perror("write_later");
  return NULL;
}

static void read_write(void) {
  const char *f = at("rw");
  mkfifo(f, 0600);
  int fd = open(f, O_RDWR);  // with no other end: O_RDWR never waits
  check(name("open-rdwr"), fd >= 0 && status_flags(fd) == O_RDWR, "fd %d flags %#x", fd, status_flags(fd));
  check(name("rdwr-write"), write(fd, "xyz", 3) == 3, "short write");
  struct pollfd p = {fd, POLLIN | POLLOUT, 0};
  check(name("rdwr-poll"), poll(&p, 1, 0) == 1 && p.revents == (POLLIN | POLLOUT), "revents %#x", p.revents);
  char buf[16] = {0};
  check(name("rdwr-read"), read(fd, buf, sizeof(buf)) == 3 && strcmp(buf, "xyz") == 0, "got '%s'", buf);

  // A poll of the O_RDWR end wakes for data written through another end.
  int w = open_or_die(f, O_WRONLY | O_NONBLOCK);
  struct Later l = {w, "late"};
  pthread_t t;
  pthread_create(&t, NULL, write_later, &l);
  p.events = POLLIN;
  p.revents = 0;
  int n = poll(&p, 1, 5000);
  pthread_join(t, NULL);
  check(name("rdwr-poll-wakes"), n == 1 && p.revents == POLLIN, "poll %d revents %#x", n, p.revents);
  memset(buf, 0, sizeof(buf));
  check(name("rdwr-read-late"), read(fd, buf, sizeof(buf)) == 4 && strcmp(buf, "late") == 0, "got '%s'", buf);
  close(w);

  // The data stays while some end is open, even with no writer left...
  check(name("write-before-close"), write(fd, "keep", 4) == 4, "short write");
  int r = open_or_die(f, O_RDONLY | O_NONBLOCK);
  close(fd);
  memset(buf, 0, sizeof(buf));
  check(name("data-outlives-writers"), read(r, buf, sizeof(buf)) == 4 && strcmp(buf, "keep") == 0, "got '%s'",
        buf);
  // ...and goes with the last end.
  fd = open_or_die(f, O_RDWR | O_NONBLOCK);
  check(name("write-then-close-all"), write(fd, "lost", 4) == 4, "short write");
  close(fd);
  close(r);
  fd = open_or_die(f, O_RDWR | O_NONBLOCK);
  CHECK_FAILS_WITH(name("data-gone-with-last-end"), read(fd, buf, sizeof(buf)), EAGAIN);
  close(fd);

  // Unlinked while open: the ends go on; a new FIFO of the same name is another one.
  fd = open_or_die(f, O_RDWR);
  r = open_or_die(f, O_RDONLY | O_NONBLOCK);
  check(name("unlink-open"), unlink(f) == 0, "%s", strerrorname_np(errno));
  struct stat st;
  CHECK_FAILS_WITH(name("unlinked-stat-enoent"), stat(f, &st), ENOENT);
  check(name("unlinked-write"), write(fd, "after", 5) == 5, "short write");
  memset(buf, 0, sizeof(buf));
  check(name("unlinked-read"), read(r, buf, sizeof(buf)) == 5 && strcmp(buf, "after") == 0, "got '%s'", buf);
  check(name("unlinked-fstat"), fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_nlink == 0,
        "mode %o nlink %ld", st.st_mode, (long)st.st_nlink);
  check(name("mkfifo-same-name"), mkfifo(f, 0600) == 0, "%s", strerrorname_np(errno));
  CHECK_FAILS_WITH(name("same-name-is-another-fifo"), open(f, O_WRONLY | O_NONBLOCK), ENXIO);
  close(fd);
  close(r);
  unlink(f);
}

// ---- a blocking open and a signal --------------------------------------------------------

static volatile sig_atomic_t g_hits;
static void on_usr1(int sig) {
  (void)sig;
  g_hits++;
}

static void *blocked_open(void *arg) {
  struct Side *s = arg;
  s->fd = open(s->path, O_RDONLY);
  s->err = errno;
  return NULL;
}

static void interrupted(const char *what, int flags) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = flags;
  sigaction(SIGUSR1, &sa, NULL);
  g_hits = 0;
  const char *f = at("intr");
  mkfifo(f, 0600);
  struct Side s = {f, -2, 0, 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, blocked_open, &s);
  sleep_ms(100);
  pthread_kill(t, SIGUSR1);
  sleep_ms(100);
  // A writer: ends a restarted open; with none waiting, there is no reader (ENXIO).
  int w = open(f, O_WRONLY | O_NONBLOCK);
  int w_err = errno;
  pthread_join(t, NULL);
  if (flags & SA_RESTART) {
    check(name(what), g_hits == 1 && s.fd >= 0 && w >= 0, "handler ran %d times; open returned %d (%s)",
          (int)g_hits, s.fd, s.fd < 0 ? strerrorname_np(s.err) : "-");
  } else {
    check(name(what), g_hits == 1 && s.fd == -1 && s.err == EINTR, "handler ran %d times; open returned %d (%s)",
          (int)g_hits, s.fd, s.fd < 0 ? strerrorname_np(s.err) : "-");
    check(name("eintr-leaves-no-reader"), w == -1 && w_err == ENXIO, "writer open returned %d (%s)", w,
          w < 0 ? strerrorname_np(w_err) : "-");
  }
  if (s.fd >= 0)
    close(s.fd);
  if (w >= 0)
    close(w);
  unlink(f);
  signal(SIGUSR1, SIG_DFL);
}

// ---- other node types --------------------------------------------------------------------

static void other_nodes(void) {
  // A socket node names a socket that open(2) cannot reach. Carbyne makes them on tmpfs
  // only (a chroot mount answers EPERM: its PAL has no call for it), so /tmp alone checks.
  if (strcmp(g_where, "tmp") == 0) {
    const char *s = at("sock");
    struct stat st;
    check(name("mknod-socket"), mknod(s, S_IFSOCK | 0600, 0) == 0 && stat(s, &st) == 0 && S_ISSOCK(st.st_mode),
          "%s", strerrorname_np(errno));
    check(name("dirent-socket"), dtype_of("sock") == DT_SOCK, "d_type %d", dtype_of("sock"));
    CHECK_FAILS_WITH(name("open-socket-enxio"), open(s, O_RDONLY), ENXIO);
    int fd = open(s, O_PATH);
    check(name("open-socket-path"), fd >= 0, "%s", strerrorname_np(errno));
    close(fd);
    unlink(s);
  }
  // Devices need CAP_MKNOD, which a user without privilege lacks: root switches to one for
  // this (a root host run has CAP_MKNOD, and Carbyne grants it no one), in a directory of
  // that user's, so that only the device is refused.
  unprivileged_give(g_dir);
  if (unprivileged_enter()) {
    CHECK_FAILS_WITH(name("mknod-chardev-eperm"), mknod(at("dev"), S_IFCHR | 0600, makedev(1, 3)), EPERM);
    unprivileged_leave();
  }
  CHECK_FAILS_WITH(name("mknod-dir-eperm"), mknod(at("dir"), S_IFDIR | 0700, 0), EPERM);
  CHECK_FAILS_WITH(name("mknod-bad-type-einval"), mknod(at("bad"), 0170000 | 0600, 0), EINVAL);
}

static void run_all(const char *where, const char *dir) {
  g_where = where;
  snprintf(g_dir, sizeof(g_dir), "%s", dir);
  making();
  nonblocking();
  blocking_pair();
  read_write();
  interrupted("open-eintr", 0);
  interrupted("open-restart", SA_RESTART);
  other_nodes();
}

static void run_in_scratch(const char *where, const char *base) {
  char dir[256];
  snprintf(dir, sizeof(dir), "%s/fifo-scratch-XXXXXX", base);
  if (!mkdtemp(dir)) {
    printf("FAIL setup: mkdtemp %s: %s\n", dir, strerrorname_np(errno));
    exit(2);
  }
  run_all(where, dir);
  rmdir(dir);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  umask(022);
  run_in_scratch("tmp", "/tmp");
  run_in_scratch("cwd", ".");
  return check_exit_status();
}
