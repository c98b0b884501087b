// futex_waitv(2): waiting on several futexes at once. A wake of any one ends the wait
// with its index; a value that differs is EAGAIN; the absolute timeout on CLOCK_MONOTONIC
// and CLOCK_REALTIME; and the argument checks (flags, count, entry flags, reserved field,
// alignment, clock), in Linux's order.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

enum { k_size_u32 = 2, k_private = 128, k_waitv_max = 128 };

struct waitv {  // struct futex_waitv
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

static long futex_waitv(struct waitv *w, unsigned count, unsigned flags, struct timespec *timeout, int clock) {
  return syscall(SYS_futex_waitv, w, count, flags, timeout, clock);
}

static void set(struct waitv *w, uint32_t *word, uint32_t val) {
  *w = (struct waitv){.val = val, .uaddr = (uintptr_t)word, .flags = k_size_u32 | k_private};
}

static struct timespec after_ms(int clock, long ms) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  ts.tv_nsec += (ms % 1000) * 1000000;
  ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
  ts.tv_nsec %= 1000000000;
  return ts;
}

static uint32_t g_words[3];

// Wakes g_words[index] once the main thread waits (a few tries: the wake must find it).
static void *waker(void *arg) {
  long index = (long)arg;
  for (int i = 0; i < 2000; i++) {
    usleep(1000);
    if (syscall(SYS_futex, &g_words[index], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 1)
      return (void *)1;
  }
  return NULL;
}

static void check_wake_index(long index) {
  struct waitv w[3];
  for (int i = 0; i < 3; i++) set(&w[i], &g_words[i], 0);
  pthread_t t;
  pthread_create(&t, NULL, waker, (void *)index);
  long r = futex_waitv(w, 3, 0, NULL, 0);
  void *woke;
  pthread_join(t, &woke);
  char name[64];
  snprintf(name, sizeof(name), "woken-index-%ld", index);
  check(name, r == index && woke, "returned %ld (errno %s), waker %s", r, strerrorname_np(errno),
        woke ? "woke one" : "woke none");
}

int main(void) {
  check_wake_index(0);
  check_wake_index(2);

  struct waitv w[k_waitv_max + 1];
  uint32_t word = 5, other = 7;
  set(&w[0], &word, 5);
  set(&w[1], &other, 8);  // differs
  CHECK_FAILS_WITH("value-differs-eagain", futex_waitv(w, 2, 0, NULL, 0), EAGAIN);

  set(&w[1], &other, 7);
  struct timespec ts = after_ms(CLOCK_MONOTONIC, 30);
  CHECK_FAILS_WITH("timeout-monotonic", futex_waitv(w, 2, 0, &ts, CLOCK_MONOTONIC), ETIMEDOUT);
  ts = after_ms(CLOCK_REALTIME, 30);
  CHECK_FAILS_WITH("timeout-realtime", futex_waitv(w, 2, 0, &ts, CLOCK_REALTIME), ETIMEDOUT);
  struct timespec past = {0, 0};
  CHECK_FAILS_WITH("timeout-in-the-past", futex_waitv(w, 1, 0, &past, CLOCK_MONOTONIC), ETIMEDOUT);
  CHECK_FAILS_WITH("bad-clock", futex_waitv(w, 1, 0, &ts, CLOCK_BOOTTIME), EINVAL);
  struct timespec bad_ns = {0, 1000000000};
  CHECK_FAILS_WITH("bad-timespec", futex_waitv(w, 1, 0, &bad_ns, CLOCK_MONOTONIC), EINVAL);
  CHECK_FAILS_WITH("timeout-efault", futex_waitv(w, 1, 0, (struct timespec *)1, CLOCK_MONOTONIC), EFAULT);

  CHECK_FAILS_WITH("flags-einval", futex_waitv(w, 1, 1, NULL, 0), EINVAL);
  CHECK_FAILS_WITH("zero-count-einval", futex_waitv(w, 0, 0, NULL, 0), EINVAL);
  CHECK_FAILS_WITH("null-waiters-einval", futex_waitv(NULL, 1, 0, NULL, 0), EINVAL);
  CHECK_FAILS_WITH("too-many-einval", futex_waitv(w, k_waitv_max + 1, 0, NULL, 0), EINVAL);
  CHECK_FAILS_WITH("waiters-efault", futex_waitv((struct waitv *)1, 1, 0, NULL, 0), EFAULT);

  struct waitv bad = w[0];
  bad.flags = 1 | k_private;  // FUTEX2_SIZE_U16
  CHECK_FAILS_WITH("size-u16-einval", futex_waitv(&bad, 1, 0, NULL, 0), EINVAL);
  bad = w[0];
  bad.flags |= 0x10000;
  CHECK_FAILS_WITH("unknown-flag-einval", futex_waitv(&bad, 1, 0, NULL, 0), EINVAL);
  bad = w[0];
  bad.reserved = 1;
  CHECK_FAILS_WITH("reserved-einval", futex_waitv(&bad, 1, 0, NULL, 0), EINVAL);
  bad = w[0];
  bad.val = 1ull << 32;
  CHECK_FAILS_WITH("value-past-u32-einval", futex_waitv(&bad, 1, 0, NULL, 0), EINVAL);
  bad = w[0];
  bad.uaddr += 1;
  CHECK_FAILS_WITH("misaligned-einval", futex_waitv(&bad, 1, 0, NULL, 0), EINVAL);
  bad = w[0];
  bad.uaddr = 4096;
  bad.flags = k_size_u32;  // shared: the page must be mapped
  CHECK_FAILS_WITH("unmapped-shared-efault", futex_waitv(&bad, 1, 0, NULL, 0), EFAULT);
  return check_exit_status();
}
