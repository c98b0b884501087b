// /dev: the memory devices (null, zero, full, random, urandom) with their device numbers,
// the links to /proc/self/fd, writing through /dev/stdout, and /dev/shm.
// Run with stdin from /dev/null (run-test's default).
#define _GNU_SOURCE  // strerrorname_np() in check.h
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../check.h"

#define TMPFS_MAGIC 0x01021994

static void check_char_device(const char *name, const char *path, unsigned major_want, unsigned minor_want) {
  struct stat st;
  int ok = stat(path, &st) == 0;
  check(name, ok && S_ISCHR(st.st_mode) && major(st.st_rdev) == major_want && minor(st.st_rdev) == minor_want &&
                  (st.st_mode & 0666) == 0666,
        "%s: %s", path, ok ? "not a 0666 character device with the right number" : strerrorname_np(errno));
}

static void check_memory_devices(void) {
  check_char_device("stat-null", "/dev/null", 1, 3);
  check_char_device("stat-zero", "/dev/zero", 1, 5);
  check_char_device("stat-full", "/dev/full", 1, 7);
  check_char_device("stat-random", "/dev/random", 1, 8);
  check_char_device("stat-urandom", "/dev/urandom", 1, 9);

  char buf[4096];
  int fd = open("/dev/null", O_RDWR);
  check("open-null", fd >= 0, "open /dev/null: %s", strerrorname_np(errno));
  check("null-read-eof", read(fd, buf, sizeof(buf)) == 0, "read /dev/null is not EOF");
  check("null-write", write(fd, "hello", 5) == 5, "write /dev/null did not take 5 bytes");
  check("null-lseek", lseek(fd, 100, SEEK_SET) == 0, "lseek /dev/null is not 0");
  struct stat st;
  check("null-fstat", fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
        "fstat /dev/null is not 1,3");
  close(fd);

  fd = open("/dev/zero", O_RDWR);
  memset(buf, 0x55, sizeof(buf));
  int zeros = fd >= 0 && read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf);
  for (size_t i = 0; zeros && i < sizeof(buf); i++) zeros = buf[i] == 0;
  check("zero-reads-zeros", zeros, "read /dev/zero did not give 4096 zeros");
  check("zero-write", fd >= 0 && write(fd, "x", 1) == 1, "write /dev/zero failed");
  if (fd >= 0) close(fd);

  fd = open("/dev/full", O_RDWR);
  CHECK_FAILS_WITH("full-write-enospc", write(fd, "x", 1), ENOSPC);
  memset(buf, 0x55, 16);
  check("full-reads-zeros", fd >= 0 && read(fd, buf, 16) == 16 && buf[0] == 0 && buf[15] == 0,
        "read /dev/full did not give zeros");
  if (fd >= 0) close(fd);

  fd = open("/dev/urandom", O_RDONLY);
  memset(buf, 0, 64);
  int nonzero = 0;
  if (fd >= 0 && read(fd, buf, 64) == 64)
    for (int i = 0; i < 64; i++) nonzero += buf[i] != 0;
  check("urandom-nonzero", nonzero > 32, "64 bytes of /dev/urandom hold %d nonzero bytes", nonzero);
  if (fd >= 0) close(fd);
  fd = open("/dev/random", O_RDONLY);
  check("random-read", fd >= 0 && read(fd, buf, 16) == 16, "read /dev/random failed");
  if (fd >= 0) close(fd);

  CHECK_FAILS_WITH("missing-device", open("/dev/carbyne-no-such-device", O_RDONLY), ENOENT);
  CHECK_FAILS_WITH("null-not-dir", open("/dev/null", O_RDONLY | O_DIRECTORY), ENOTDIR);
  CHECK_FAILS_WITH("mkdir-existing", mkdir("/dev/null", 0755), EEXIST);
}

static void check_links(void) {
  char buf[PATH_MAX];
  const char *links[][2] = {{"/dev/stdin", "/proc/self/fd/0"},
                            {"/dev/stdout", "/proc/self/fd/1"},
                            {"/dev/stderr", "/proc/self/fd/2"},
                            {"/dev/fd", "/proc/self/fd"}};
  for (int i = 0; i < 4; i++) {
    ssize_t n = readlink(links[i][0], buf, sizeof(buf) - 1);
    if (n >= 0) buf[n] = '\0';
    char name[32];
    snprintf(name, sizeof(name), "link%s", links[i][0] + 4);
    check(name, n >= 0 && strcmp(buf, links[i][1]) == 0, "%s does not point to %s", links[i][0], links[i][1]);
  }
  // stdin is /dev/null in both runs: its link names it, and /dev/stdin reaches it.
  ssize_t n = readlink("/proc/self/fd/0", buf, sizeof(buf) - 1);
  if (n >= 0) buf[n] = '\0';
  check("stdin-is-dev-null", n >= 0 && strcmp(buf, "/dev/null") == 0, "fd 0 does not link to /dev/null");
  struct stat st;
  check("stat-dev-stdin", stat("/dev/stdin", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
        "stat /dev/stdin is not /dev/null");
  check("stat-dev-fd-0", stat("/dev/fd/0", &st) == 0 && S_ISCHR(st.st_mode), "stat /dev/fd/0 failed");

  // Writing through /dev/stdout lands in the same stream as printf.
  fflush(stdout);
  int fd = open("/dev/stdout", O_WRONLY);
  const char line[] = "ok write-through-dev-stdout\n";
  if (fd < 0 || write(fd, line, sizeof(line) - 1) != (ssize_t)sizeof(line) - 1)
    check("write-through-dev-stdout", 0, "open or write /dev/stdout: %s", strerrorname_np(errno));
  if (fd >= 0) close(fd);
}

static void check_shm(void) {
  struct statfs sf;
  check("shm-is-tmpfs", statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC, "/dev/shm is not a tmpfs");
  struct stat st;
  check("shm-sticky", stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 01777) == 01777,
        "/dev/shm is not a 1777 directory");
  char path[64];
  snprintf(path, sizeof(path), "/dev/shm/carbyne-dev-test-%d", getpid());
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  check("shm-create", fd >= 0, "create in /dev/shm: %s", strerrorname_np(errno));
  if (fd < 0) return;
  char buf[8] = {0};
  check("shm-write-read", write(fd, "shared", 6) == 6 && pread(fd, buf, 6, 0) == 6 && strcmp(buf, "shared") == 0,
        "write and read back in /dev/shm failed");
  close(fd);
  check("shm-unlink", unlink(path) == 0, "unlink in /dev/shm: %s", strerrorname_np(errno));
}

// mmap of /dev/zero: zeroed anonymous memory, private or shared (it was ENODEV).
static void check_zero_mmap(void) {
  int fd = open("/dev/zero", O_RDWR);
  char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int ok = p != MAP_FAILED && p[0] == 0 && p[8191] == 0;
  if (ok) {
    p[100] = 'x';
    ok = p[100] == 'x';
    munmap(p, 8192);
  }
  check("mmap-dev-zero-private", ok, "%s", strerrorname_np(errno));
  char *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ok = s != MAP_FAILED && s[0] == 0;
  if (ok) {
    s[1] = 'y';
    ok = s[1] == 'y';
    munmap(s, 4096);
  }
  check("mmap-dev-zero-shared", ok, "%s", strerrorname_np(errno));
  // Reading /dev/zero afterwards still gives zeros: the mappings wrote nothing into it.
  char c = 1;
  check("dev-zero-still-zero", read(fd, &c, 1) == 1 && c == 0, "read %d", c);
  close(fd);
}

int main(void) {
  check_memory_devices();
  check_zero_mmap();
  check_links();
  check_shm();
  return check_exit_status();
}
