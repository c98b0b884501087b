// inotify: inotify_init1, inotify_add_watch, inotify_rm_watch and the events of creating,
// opening, writing, closing, renaming, changing attributes and removing, seen by watches on
// a directory and on the objects themselves (each watch's events in Linux's order); a watch
// that follows its directory through a rename; IN_ONESHOT, IN_MASK_ADD, IN_MASK_CREATE;
// blocking and nonblocking reads, a buffer too small, FIONREAD and poll; a thread that makes
// a file while another waits in read; the errors of each call.
#include "fsops.h"

#include <poll.h>
#include <pthread.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>

enum { k_max_events = 64 };

struct seen {
  int wd;
  uint32_t mask, cookie;
  char name[64];
};

static struct seen g_seen[k_max_events];
static int g_count;

// Reads what is queued (the fd is nonblocking) into g_seen.
static void drain(int fd) {
  g_count = 0;
  char buf[4096] __attribute__((aligned(8)));
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0)
      return;
    for (ssize_t off = 0; off < n;) {
      struct inotify_event *e = (struct inotify_event *)(buf + off);
      if (g_count < k_max_events) {
        struct seen *s = &g_seen[g_count++];
        s->wd = e->wd;
        s->mask = e->mask;
        s->cookie = e->cookie;
        snprintf(s->name, sizeof(s->name), "%s", e->len ? e->name : "");
      }
      off += (ssize_t)sizeof(*e) + e->len;
    }
  }
}

// The events of one watch as "MASK:name" words, e.g. "100:a 20:a 2:a 8:a".
static const char *events_of(int wd) {
  static char out[1024];
  out[0] = '\0';
  for (int i = 0; i < g_count; i++) {
    if (g_seen[i].wd != wd)
      continue;
    char word[96];
    snprintf(word, sizeof(word), "%s%x:%s", out[0] ? " " : "", g_seen[i].mask, g_seen[i].name);
    strncat(out, word, sizeof(out) - strlen(out) - 1);
  }
  return out;
}

static void *make_file_later(void *arg) {
  usleep(50000);
  int fd = open((const char *)arg, O_CREAT | O_WRONLY, 0644);
  if (fd >= 0)
    close(fd);
  return NULL;
}

int main(void) {
  scratch_enter("inotify");
  CHECK_FAILS_WITH("init1-bad-flags", inotify_init1(0x4), EINVAL);
  int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  check("init1", in >= 0, "errno %s", errname(errno));
  check("init1-cloexec", (fcntl(in, F_GETFD) & FD_CLOEXEC) != 0, "no FD_CLOEXEC");

  // Errors, in Linux's order.
  CHECK_FAILS_WITH("add-no-events", inotify_add_watch(in, ".", 0), EINVAL);
  CHECK_FAILS_WITH("add-add-and-create", inotify_add_watch(in, ".", IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE),
                   EINVAL);
  CHECK_FAILS_WITH("add-bad-fd", inotify_add_watch(9999, ".", IN_CREATE), EBADF);
  CHECK_FAILS_WITH("add-not-inotify", inotify_add_watch(0, ".", IN_CREATE), EINVAL);
  CHECK_FAILS_WITH("add-missing", inotify_add_watch(in, "missing", IN_CREATE), ENOENT);
  CHECK_FAILS_WITH("add-path-efault", inotify_add_watch(in, BAD_PTR, IN_CREATE), EFAULT);
  check("make-plain", write_file("plain", "x") == 0, "errno %s", errname(errno));
  CHECK_FAILS_WITH("add-onlydir-file", inotify_add_watch(in, "plain", IN_CREATE | IN_ONLYDIR), ENOTDIR);
  CHECK_FAILS_WITH("rm-unknown", inotify_rm_watch(in, 12345), EINVAL);
  CHECK_FAILS_WITH("rm-not-inotify", inotify_rm_watch(0, 1), EINVAL);

  int dir = inotify_add_watch(in, ".", IN_ALL_EVENTS & ~(IN_ACCESS | IN_CLOSE_NOWRITE | IN_OPEN));
  check("add-dir", dir > 0, "errno %s", errname(errno));
  check("add-same-wd", inotify_add_watch(in, ".", IN_ALL_EVENTS & ~(IN_ACCESS | IN_CLOSE_NOWRITE | IN_OPEN)) == dir,
        "another wd");
  CHECK_FAILS_WITH("add-mask-create-exists", inotify_add_watch(in, ".", IN_CREATE | IN_MASK_CREATE), EEXIST);
  char buf[64];
  CHECK_FAILS_WITH("read-empty-eagain", read(in, buf, sizeof(buf)), EAGAIN);

  // Create, write, close; a directory; attributes; rename; remove.
  int fd = open("a", O_CREAT | O_WRONLY, 0644);
  check("write-a", write(fd, "hello", 5) == 5, "errno %s", errname(errno));
  close(fd);
  check("mkdir-d", mkdir("d", 0755) == 0, "errno %s", errname(errno));
  check("chmod-a", chmod("a", 0600) == 0, "errno %s", errname(errno));
  check("rename-a-b", rename("a", "b") == 0, "errno %s", errname(errno));
  check("unlink-b", unlink("b") == 0, "errno %s", errname(errno));
  check("rmdir-d", rmdir("d") == 0, "errno %s", errname(errno));
  int queued = -1;
  check("fionread", ioctl(in, FIONREAD, &queued) == 0 && queued > 0, "%d, errno %s", queued, errname(errno));
  struct pollfd p = {in, POLLIN, 0};
  check("poll-ready", poll(&p, 1, 0) == 1 && (p.revents & POLLIN), "revents %#x", p.revents);
  CHECK_FAILS_WITH("read-too-small", read(in, buf, sizeof(struct inotify_event)), EINVAL);
  drain(in);
  // IN_CREATE 100, IN_MODIFY 2, IN_CLOSE_WRITE 8, IN_CREATE|IN_ISDIR 40000100, IN_ATTRIB 4,
  // IN_MOVED_FROM 40, IN_MOVED_TO 80, IN_DELETE 200, IN_DELETE|IN_ISDIR 40000200.
  const char *want = "100:a 2:a 8:a 40000100:d 4:a 40:a 80:b 200:b 40000200:d";
  check("dir-events", !strcmp(events_of(dir), want), "got '%s', want '%s'", events_of(dir), want);
  uint32_t from_cookie = 0, to_cookie = 0;
  for (int i = 0; i < g_count; i++) {
    if (g_seen[i].mask == IN_MOVED_FROM)
      from_cookie = g_seen[i].cookie;
    if (g_seen[i].mask == IN_MOVED_TO)
      to_cookie = g_seen[i].cookie;
  }
  check("move-cookie", from_cookie && from_cookie == to_cookie, "%u and %u", from_cookie, to_cookie);

  // A watch on a file: its own events without a name; its removal ends it.
  check("make-f", write_file("f", "x") == 0, "errno %s", errname(errno));
  drain(in);
  int file = inotify_add_watch(in, "f", IN_ALL_EVENTS);
  check("add-file", file > 0 && file != dir, "wd %d, errno %s", file, errname(errno));
  fd = open("f", O_WRONLY | O_APPEND);
  check("append-f", write(fd, "y", 1) == 1, "errno %s", errname(errno));
  close(fd);
  check("unlink-f", unlink("f") == 0, "errno %s", errname(errno));
  drain(in);
  // IN_OPEN 20, IN_MODIFY 2, IN_CLOSE_WRITE 8, IN_ATTRIB 4, IN_DELETE_SELF 400, IN_IGNORED 8000.
  check("file-events", !strcmp(events_of(file), "20: 2: 8: 4: 400: 8000:"), "got '%s'", events_of(file));
  check("dir-sees-file", !strcmp(events_of(dir), "2:f 8:f 200:f"), "got '%s'", events_of(dir));

  // A watch follows its directory through a rename.
  check("mkdir-w", mkdir("w", 0755) == 0, "errno %s", errname(errno));
  int sub = inotify_add_watch(in, "w", IN_CREATE | IN_MOVE_SELF);
  check("rename-w", rename("w", "w2") == 0, "errno %s", errname(errno));
  check("create-in-w2", write_file("w2/x", "x") == 0, "errno %s", errname(errno));
  drain(in);
  check("moved-dir-events", !strcmp(events_of(sub), "800: 100:x"), "got '%s'", events_of(sub));

  // IN_ONESHOT: one event, then IN_IGNORED; IN_MASK_ADD adds to a mask.
  int once = inotify_add_watch(in, "w2", IN_CREATE | IN_ONESHOT);
  check("oneshot-same-wd", once == sub, "wd %d, want %d", once, sub);
  check("create-y", write_file("w2/y", "y") == 0 && write_file("w2/z", "z") == 0, "errno %s", errname(errno));
  drain(in);
  check("oneshot-events", !strcmp(events_of(sub), "100:y 8000:"), "got '%s'", events_of(sub));
  int again = inotify_add_watch(in, "w2", IN_DELETE);
  check("mask-add", inotify_add_watch(in, "w2", IN_CREATE | IN_MASK_ADD) == again, "another wd");
  check("unlink-z", unlink("w2/z") == 0 && write_file("w2/v", "v") == 0, "errno %s", errname(errno));
  drain(in);
  check("mask-add-events", !strcmp(events_of(again), "200:z 100:v"), "got '%s'", events_of(again));
  check("rm-watch", inotify_rm_watch(in, again) == 0, "errno %s", errname(errno));
  drain(in);
  check("rm-watch-ignored", !strcmp(events_of(again), "8000:"), "got '%s'", events_of(again));
  CHECK_FAILS_WITH("rm-watch-again", inotify_rm_watch(in, again), EINVAL);

  // A blocking read wakes when another thread makes a file.
  int blocking = inotify_init();
  int wd = inotify_add_watch(blocking, ".", IN_CREATE);
  pthread_t t;
  pthread_create(&t, NULL, make_file_later, "from-thread");
  char ev[256] __attribute__((aligned(8)));
  ssize_t n = read(blocking, ev, sizeof(ev));
  struct inotify_event *e = (struct inotify_event *)ev;
  check("thread-create-seen", n > 0 && e->wd == wd && e->mask == IN_CREATE && !strcmp(e->name, "from-thread"),
        "read %zd, mask %#x", n, n > 0 ? e->mask : 0);
  pthread_join(t, NULL);
  // An event read into memory that is not mapped: EFAULT.
  check("make-for-efault", write_file("efault", "x") == 0, "errno %s", errname(errno));
  void *volatile nowhere = BAD_PTR;
  CHECK_FAILS_WITH("read-efault", read(blocking, nowhere, 4096), EFAULT);
  close(blocking);
  close(in);
  return scratch_leave();
}
