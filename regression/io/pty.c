// Pseudo-terminals: posix_openpt, grantpt, unlockpt, ptsname, TIOCGPTN, TIOCSPTLCK, the
// slave's device node; canonical line editing (erase, kill, end of file), echo (with
// ECHOCTL), ICRNL, output processing (ONLCR, OPOST off), raw mode (VMIN), an interrupt
// character on a terminal that is nobody's controlling terminal, the window size, FIONREAD,
// poll, TCSETSF, and the hangup of either side. The process's own controlling terminal is
// not touched (a native run's depends on how it was started).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "../check.h"

// An address that is never mapped (volatile: the compiler must not see the constant).
static void *volatile g_bad = (void *)1;

struct pair {
  int master, slave;
  char name[64];
};

static int open_pair(struct pair *p) {
  p->master = posix_openpt(O_RDWR | O_NOCTTY);
  if (p->master < 0 || grantpt(p->master) != 0 || unlockpt(p->master) != 0)
    return -1;
  snprintf(p->name, sizeof(p->name), "%s", ptsname(p->master));
  p->slave = open(p->name, O_RDWR | O_NOCTTY);
  return p->slave < 0 ? -1 : 0;
}

static void close_pair(struct pair *p) {
  close(p->slave);
  close(p->master);
}

// What the master has to read now (it waits briefly for it), as a string.
static const char *master_text(int fd) {
  static char buf[256];
  struct pollfd pfd = {fd, POLLIN, 0};
  size_t n = 0;
  while (n < sizeof(buf) - 1 && poll(&pfd, 1, 50) == 1) {
    ssize_t got = read(fd, buf + n, sizeof(buf) - 1 - n);
    if (got <= 0)
      break;
    n += (size_t)got;
  }
  buf[n] = '\0';
  return buf;
}

static const char *slave_text(int fd) {
  static char buf[256];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  buf[n > 0 ? n : 0] = '\0';
  return n < 0 ? "(error)" : buf;
}

static void check_setup(void) {
  struct pair p;
  check("open-pair", open_pair(&p) == 0, "errno %s", strerrorname_np(errno));
  unsigned int index = 999;
  check("tiocgptn", ioctl(p.master, TIOCGPTN, &index) == 0, "errno %s", strerrorname_np(errno));
  char want[64];
  snprintf(want, sizeof(want), "/dev/pts/%u", index);
  check("ptsname", !strcmp(p.name, want), "ptsname %s, TIOCGPTN %u", p.name, index);
  check("isatty", isatty(p.master) && isatty(p.slave), "not terminals");
  char *tty = ttyname(p.slave);
  check("ttyname", tty && !strcmp(tty, p.name), "%s", tty ? tty : strerrorname_np(errno));
  struct stat st;
  check("slave-node", stat(p.name, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 136 &&
                          minor(st.st_rdev) == index && st.st_uid == getuid(),
        "mode %o rdev %u:%u uid %u", st.st_mode, major(st.st_rdev), minor(st.st_rdev), st.st_uid);
  DIR *d = opendir("/dev/pts");
  int listed = 0;
  struct dirent *e;
  while (d && (e = readdir(d)))
    listed |= !strcmp(e->d_name, strrchr(p.name, '/') + 1);
  if (d)
    closedir(d);
  check("pts-listed", listed, "%s is not in /dev/pts", p.name);
  CHECK_FAILS_WITH("tiocgptn-slave", ioctl(p.slave, TIOCGPTN, &index), ENOTTY);
  CHECK_FAILS_WITH("unknown-ioctl", ioctl(p.slave, 0x54ff, 0), ENOTTY);
  CHECK_FAILS_WITH("tcgets-efault", ioctl(p.slave, TCGETS, g_bad), EFAULT);
  CHECK_FAILS_WITH("tcsets-efault", ioctl(p.slave, TCSETS, g_bad), EFAULT);
  CHECK_FAILS_WITH("tiocgwinsz-efault", ioctl(p.master, TIOCGWINSZ, g_bad), EFAULT);
  CHECK_FAILS_WITH("tiocgptn-efault", ioctl(p.master, TIOCGPTN, g_bad), EFAULT);
  CHECK_FAILS_WITH("write-efault", write(p.master, g_bad, 4), EFAULT);
  CHECK_FAILS_WITH("tiocgpgrp-not-ctty", ioctl(p.slave, TIOCGPGRP, &index), ENOTTY);
  close_pair(&p);

  // A locked slave cannot be opened.
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  grantpt(m);
  char name[64];
  snprintf(name, sizeof(name), "%s", ptsname(m));
  int locked = -1;
  check("locked-at-first", ioctl(m, TIOCGPTLCK, &locked) == 0 && locked == 1, "locked %d", locked);
  CHECK_FAILS_WITH("open-locked", open(name, O_RDWR | O_NOCTTY), EIO);
  int zero = 0;
  check("unlock", ioctl(m, TIOCSPTLCK, &zero) == 0, "errno %s", strerrorname_np(errno));
  int s = open(name, O_RDWR | O_NOCTTY);
  check("open-unlocked", s >= 0, "errno %s", strerrorname_np(errno));
  close(s);
  close(m);
}

static void check_canonical(void) {
  struct pair p;
  open_pair(&p);
  check("write-line", write(p.master, "abc\x7f" "d\n", 6) == 6, "errno %s", strerrorname_np(errno));
  {
    const char *got_erase_echo = master_text(p.master);
    check("erase-echo", !strcmp(got_erase_echo, "abc\b \bd\r\n"), "got '%s'", got_erase_echo);
  }
  {
    const char *got_erase_line = slave_text(p.slave);
    check("erase-line", !strcmp(got_erase_line, "abd\n"), "got '%s'", got_erase_line);
  }
  write(p.master, "xyz\x15ok\n", 7);
  master_text(p.master);
  {
    const char *got_kill_line = slave_text(p.slave);
    check("kill-line", !strcmp(got_kill_line, "ok\n"), "got '%s'", got_kill_line);
  }
  write(p.master, "\x04", 1);
  check("eof-empty", read(p.slave, (char[8]){0}, 8) == 0, "not end of file");
  write(p.master, "ab\x04", 3);
  master_text(p.master);
  {
    const char *got_eof_partial = slave_text(p.slave);
    check("eof-partial", !strcmp(got_eof_partial, "ab"), "got '%s'", got_eof_partial);
  }
  write(p.master, "\x01\n", 2);
  {
    const char *got_echoctl = master_text(p.master);
    check("echoctl", !strcmp(got_echoctl, "^A\r\n"), "got '%s'", got_echoctl);
  }
  slave_text(p.slave);
  write(p.master, "cr\r", 3);
  master_text(p.master);
  {
    const char *got_icrnl = slave_text(p.slave);
    check("icrnl", !strcmp(got_icrnl, "cr\n"), "got '%s'", got_icrnl);
  }
  // A line is readable only once complete.
  write(p.master, "part", 4);
  master_text(p.master);
  struct pollfd pfd = {p.slave, POLLIN, 0};
  check("partial-not-readable", poll(&pfd, 1, 20) == 0, "revents %#x", pfd.revents);
  int avail = -1;
  check("fionread-partial", ioctl(p.slave, FIONREAD, &avail) == 0 && avail == 0, "%d", avail);
  write(p.master, "\n", 1);
  master_text(p.master);
  check("fionread-line", ioctl(p.slave, FIONREAD, &avail) == 0 && avail == 5, "%d", avail);
  check("line-readable", poll(&pfd, 1, 100) == 1 && (pfd.revents & POLLIN), "revents %#x", pfd.revents);
  slave_text(p.slave);
  // An interrupt character on nobody's controlling terminal: the line and the unread echo
  // flushed, the character echoed, no signal.
  write(p.master, "abc\x03", 4);
  {
    const char *got_intr_echo = master_text(p.master);
    check("intr-echo", !strcmp(got_intr_echo, "^C"), "got '%s'", got_intr_echo);
  }
  write(p.master, "def\n", 4);
  master_text(p.master);
  {
    const char *got_intr_flushed = slave_text(p.slave);
    check("intr-flushed", !strcmp(got_intr_flushed, "def\n"), "got '%s'", got_intr_flushed);
  }
  // Output processing.
  write(p.slave, "a\nb", 3);
  {
    const char *got_onlcr = master_text(p.master);
    check("onlcr", !strcmp(got_onlcr, "a\r\nb"), "got '%s'", got_onlcr);
  }
  struct termios t;
  tcgetattr(p.slave, &t);
  t.c_oflag &= ~(tcflag_t)OPOST;
  tcsetattr(p.slave, TCSANOW, &t);
  write(p.slave, "a\nb", 3);
  {
    const char *got_opost_off = master_text(p.master);
    check("opost-off", !strcmp(got_opost_off, "a\nb"), "got '%s'", got_opost_off);
  }
  close_pair(&p);
}

static void check_raw_and_window(void) {
  struct pair p;
  open_pair(&p);
  struct termios t;
  check("tcgetattr", tcgetattr(p.slave, &t) == 0 && (t.c_lflag & ICANON) && (t.c_lflag & ECHO), "lflag %#x",
        t.c_lflag);
  cfmakeraw(&t);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  check("tcsetattr-raw", tcsetattr(p.slave, TCSANOW, &t) == 0, "errno %s", strerrorname_np(errno));
  write(p.master, "x\r", 2);
  {
    const char *got_raw_read = slave_text(p.slave);
    check("raw-read", !strcmp(got_raw_read, "x\r"), "got '%s'", got_raw_read);
  }
  {
    const char *got_raw_no_echo = master_text(p.master);
    check("raw-no-echo", !strcmp(got_raw_no_echo, ""), "got '%s'", got_raw_no_echo);
  }
  write(p.master, "pending", 7);
  tcsetattr(p.slave, TCSAFLUSH, &t);
  int avail = -1;
  check("tcsaflush", ioctl(p.slave, FIONREAD, &avail) == 0 && avail == 0, "%d left", avail);
  struct winsize ws = {24, 80, 0, 0}, got = {0};
  check("tiocswinsz", ioctl(p.slave, TIOCSWINSZ, &ws) == 0, "errno %s", strerrorname_np(errno));
  check("tiocgwinsz-master", ioctl(p.master, TIOCGWINSZ, &got) == 0 && got.ws_row == 24 && got.ws_col == 80,
        "%ux%u", got.ws_row, got.ws_col);
  close_pair(&p);
}

static void check_hangup(void) {
  struct pair p;
  open_pair(&p);
  close(p.master);
  check("slave-read-after-master", read(p.slave, (char[8]){0}, 8) == 0, "not end of file");
  CHECK_FAILS_WITH("slave-write-after-master", write(p.slave, "x", 1), EIO);
  close(p.slave);
  open_pair(&p);
  close(p.slave);
  CHECK_FAILS_WITH("master-read-after-slave", read(p.master, (char[8]){0}, 8), EIO);
  close(p.master);
}

int main(void) {
  check_setup();
  check_canonical();
  check_raw_and_window();
  check_hangup();
  return check_exit_status();
}
