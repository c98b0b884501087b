// A bad iovec array must fail before any data moves. readv(fd, {{a, 16}, {b, 1 << 63}}, 2)
// returned EINVAL as Linux does, but Carbyne had read the first 16 bytes already and left
// the file offset at 16: it looked at each iovec only when its turn came. Linux imports the
// whole array first (import_iovec): EINVAL for too many iovecs or a length that is negative
// as an ssize_t, then EFAULT for one that reaches past user space, and only then moves
// data. Each vectored call is checked on a memfd, a file in the working directory, a pipe
// and a socket: the errno, the offset, and that nothing was read, written or sent.
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../check.h"

#define DATA_SIZE 64
#define KERNEL_ADDR ((void *)0xffff800000000000UL)

static char g_a[DATA_SIZE], g_b[DATA_SIZE];
static char g_data[DATA_SIZE];

enum kind { KIND_MEMFD, KIND_FILE, KIND_PIPE, KIND_SOCKET };
static const char *const k_kind_names[] = {"memfd", "file", "pipe", "socket"};

// One vectored call; `count` is passed as the kernel takes it (unsigned long or size_t).
enum call { READV, WRITEV, PREADV, PWRITEV, PREADV2, PWRITEV2, PREADV2_CUR, PWRITEV2_CUR, RECVMSG, SENDMSG };
static const char *const k_call_names[] = {"readv",  "writev",      "preadv",       "pwritev", "preadv2",
                                           "pwritev2", "preadv2-cur", "pwritev2-cur", "recvmsg", "sendmsg"};

static int writes(enum call c) {
  return c == WRITEV || c == PWRITEV || c == PWRITEV2 || c == PWRITEV2_CUR || c == SENDMSG;
}
static int positioned(enum call c) { return c == PREADV || c == PWRITEV || c == PREADV2 || c == PWRITEV2; }
static int seekable(enum kind k) { return k == KIND_MEMFD || k == KIND_FILE; }

static long vector_call(enum call c, int fd, const struct iovec *iov, unsigned long count) {
  struct msghdr msg = {0};
  msg.msg_iov = (struct iovec *)iov;
  msg.msg_iovlen = count;
  switch (c) {
  case READV: return syscall(SYS_readv, fd, iov, count);
  case WRITEV: return syscall(SYS_writev, fd, iov, count);
  case PREADV: return syscall(SYS_preadv, fd, iov, count, 0L, 0L);
  case PWRITEV: return syscall(SYS_pwritev, fd, iov, count, 0L, 0L);
  case PREADV2: return syscall(SYS_preadv2, fd, iov, count, 0L, 0L, 0);
  case PWRITEV2: return syscall(SYS_pwritev2, fd, iov, count, 0L, 0L, 0);
  case PREADV2_CUR: return syscall(SYS_preadv2, fd, iov, count, -1L, -1L, 0);
  case PWRITEV2_CUR: return syscall(SYS_pwritev2, fd, iov, count, -1L, -1L, 0);
  case RECVMSG: return syscall(SYS_recvmsg, fd, &msg, MSG_DONTWAIT);
  case SENDMSG: return syscall(SYS_sendmsg, fd, &msg, MSG_DONTWAIT);
  }
  return -1;
}

// An iovec array and what Linux answers for it.
struct bad_case {
  const char *name;
  struct iovec iov[2];
  unsigned long count;
  int bad_array;  // the array itself cannot be read
  int want;       // errno
};

static struct iovec g_many[IOV_MAX + 1];

// The object under test with DATA_SIZE bytes of g_data to read (read side) at offset 0,
// or empty (write side). fds[0] is used, fds[1] is the other end of a pipe or socket.
static int open_kind(enum kind k, int for_write, int fds[2]) {
  fds[1] = -1;
  switch (k) {
  case KIND_MEMFD:
    fds[0] = memfd_create("iov", MFD_CLOEXEC);
    break;
  case KIND_FILE: {
    char name[64];
    snprintf(name, sizeof(name), "iovec-checked-%d.tmp", (int)getpid());  // the runs may overlap
    fds[0] = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    unlink(name);
    break;
  }
  case KIND_PIPE: {
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
      return -1;
    fds[0] = for_write ? p[1] : p[0];
    fds[1] = for_write ? p[0] : p[1];
    break;
  }
  case KIND_SOCKET:
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds))
      return -1;
    break;
  }
  if (fds[0] < 0)
    return -1;
  if (!for_write) {
    int w = fds[1] >= 0 ? fds[1] : fds[0];
    if (write(w, g_data, DATA_SIZE) != DATA_SIZE)
      return -1;
    if (seekable(k))
      lseek(fds[0], 0, SEEK_SET);
  }
  return 0;
}

// After a failed call: the offset is still 0, the read side's data all still there and the
// buffers untouched, the write side's file or peer still empty.
static int nothing_moved(enum kind k, enum call c, int fds[2], char *why, size_t why_size) {
  if (seekable(k) && lseek(fds[0], 0, SEEK_CUR) != 0) {
    snprintf(why, why_size, "the offset moved");
    return 0;
  }
  for (int i = 0; i < DATA_SIZE; i++) {
    if (g_a[i] || g_b[i]) {
      snprintf(why, why_size, "data was read into the buffers");
      return 0;
    }
  }
  char got[DATA_SIZE + 1];
  if (writes(c)) {
    ssize_t n;
    if (seekable(k)) {
      struct stat st;
      fstat(fds[0], &st);
      n = st.st_size;
    } else {
      n = read(fds[1], got, sizeof(got));  // nonblocking: -1 when empty
    }
    if (n > 0) {
      snprintf(why, why_size, "data was written");
      return 0;
    }
    return 1;
  }
  ssize_t n = seekable(k) ? pread(fds[0], got, sizeof(got), 0) : read(fds[0], got, sizeof(got));
  if (n != DATA_SIZE || memcmp(got, g_data, DATA_SIZE)) {
    snprintf(why, why_size, "the data left is not all there");
    return 0;
  }
  return 1;
}

static int applies(enum kind k, enum call c) {
  if (c == RECVMSG || c == SENDMSG)
    return k == KIND_SOCKET;
  if (positioned(c))
    return seekable(k);  // a pipe or socket answers ESPIPE first
  return 1;
}

static void run_case(const struct bad_case *bc) {
  for (enum kind k = KIND_MEMFD; k <= KIND_SOCKET; k++) {
    for (enum call c = READV; c <= SENDMSG; c++) {
      if (!applies(k, c))
        continue;
      char name[160];
      snprintf(name, sizeof(name), "%s-%s-%s", k_call_names[c], k_kind_names[k], bc->name);
      int fds[2];
      if (open_kind(k, writes(c), fds)) {
        check(name, 0, "setup: %s", strerrorname_np(errno));
        continue;
      }
      memset(g_a, 0, sizeof(g_a));
      memset(g_b, 0, sizeof(g_b));
      const struct iovec *iov = bc->bad_array ? (const struct iovec *)8 : bc->iov;
      if (bc->count > 2 && bc->count <= IOV_MAX + 1)
        iov = g_many;
      errno = 0;
      long ret = vector_call(c, fds[0], iov, bc->count);
      int err = errno;
      int want = bc->want;
      if ((c == RECVMSG || c == SENDMSG) && bc->count > IOV_MAX)
        want = EMSGSIZE;  // msg_iovlen is checked as part of the msghdr
      char why[96] = "";
      int moved_ok = nothing_moved(k, c, fds, why, sizeof(why));
      if (ret == -1 && err == want && moved_ok)
        check(name, 1, "%s", "");
      else
        check(name, 0, "returned %ld, errno %s, want -1 and %s; %s", ret, ret == -1 ? strerrorname_np(err) : "-",
              strerrorname_np(want), moved_ok ? "nothing moved" : why);
      close(fds[0]);
      if (fds[1] >= 0)
        close(fds[1]);
    }
  }
}

// A single iovec longer than any transfer is cut to MAX_RW_COUNT, not refused: the read
// side gets its DATA_SIZE bytes.
static void single_long_case(void) {
  for (enum kind k = KIND_MEMFD; k <= KIND_SOCKET; k++) {
    for (enum call c = READV; c <= SENDMSG; c++) {
      if (!applies(k, c) || writes(c))
        continue;
      char name[160];
      snprintf(name, sizeof(name), "%s-%s-single-ssize-max-reads", k_call_names[c], k_kind_names[k]);
      int fds[2];
      if (open_kind(k, 0, fds)) {
        check(name, 0, "setup: %s", strerrorname_np(errno));
        continue;
      }
      memset(g_b, 0, sizeof(g_b));
      struct iovec iov = {g_b, SSIZE_MAX};
      errno = 0;
      long ret = vector_call(c, fds[0], &iov, 1);
      check(name, ret == DATA_SIZE && !memcmp(g_b, g_data, DATA_SIZE), "returned %ld, errno %s", ret,
            strerrorname_np(errno));
      close(fds[0]);
      if (fds[1] >= 0)
        close(fds[1]);
    }
  }
}

// readv and its kin take the count as an unsigned int (import_iovec's nr_segs): 2^32 + 1
// is one iovec. A msghdr's msg_iovlen is a size_t and too large.
static void count_width_case(void) {
  struct iovec iov = {g_a, 16};
  for (enum call c = READV; c <= SENDMSG; c++) {
    enum kind k = c == RECVMSG || c == SENDMSG ? KIND_SOCKET : KIND_MEMFD;
    char name[160];
    snprintf(name, sizeof(name), "%s-%s-count-past-32-bits", k_call_names[c], k_kind_names[k]);
    int fds[2];
    if (open_kind(k, writes(c), fds)) {
      check(name, 0, "setup: %s", strerrorname_np(errno));
      continue;
    }
    errno = 0;
    long ret = vector_call(c, fds[0], &iov, (1UL << 32) + 1);
    if (k == KIND_SOCKET)
      check_failed_with(name, ret, errno, EMSGSIZE);
    else
      check(name, ret == 16, "returned %ld, errno %s, want 16", ret, strerrorname_np(errno));
    close(fds[0]);
    if (fds[1] >= 0)
      close(fds[1]);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 0; i < DATA_SIZE; i++)
    g_data[i] = (char)('a' + i % 26);
  for (int i = 0; i < IOV_MAX + 1; i++)
    g_many[i] = (struct iovec){g_a, 1};

  const struct bad_case cases[] = {
      {"negative-second", {{g_a, 16}, {g_b, 1UL << 63}}, 2, 0, EINVAL},
      {"minus-one-second", {{g_a, 16}, {g_b, SIZE_MAX}}, 2, 0, EINVAL},
      // All lengths are looked at before any address.
      {"negative-after-bad-address", {{KERNEL_ADDR, 16}, {g_b, 1UL << 63}}, 2, 0, EINVAL},
      {"single-negative", {{g_b, 1UL << 63}}, 1, 0, EINVAL},
      // Non-negative lengths that reach past user space (the total past SSIZE_MAX too).
      {"ssize-max-second", {{g_a, 16}, {g_b, SSIZE_MAX}}, 2, 0, EFAULT},
      {"total-past-ssize-max", {{g_a, 1UL << 62}, {g_b, 1UL << 62}}, 2, 0, EFAULT},
      {"past-user-space-second", {{g_a, 16}, {g_b, 1UL << 57}}, 2, 0, EFAULT},  // 5-level paging too
      {"kernel-address-second", {{g_a, 16}, {KERNEL_ADDR, 16}}, 2, 0, EFAULT},
      {"unreadable-array", {{0, 0}}, 2, 1, EFAULT},
      {"count-iov-max-plus-one", {{0, 0}}, IOV_MAX + 1, 0, EINVAL},
      {"count-minus-one", {{0, 0}}, (unsigned long)-1L, 0, EINVAL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    run_case(&cases[i]);
  single_long_case();
  count_width_case();
  return check_exit_status();
}
