// Futex operations called directly: FUTEX_WAKE_OP with every operation and comparison
// (signed, with FUTEX_OP_OPARG_SHIFT, the old value's effects), its errors (EFAULT wakes
// nobody, ENOSYS for an unknown operation or comparison, EINVAL), the wake counts Linux
// gives (0 wakes one), REQUEUE and CMP_REQUEUE, and the address checks of shared futexes.
//
// The number of threads waiting on a word is read without disturbing them: FUTEX_REQUEUE
// of every waiter onto the same word wakes none and returns how many there are.
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static long futex(uint32_t *uaddr, int op, uint32_t val, uintptr_t val2, uint32_t *uaddr2,
                  uint32_t val3) {
  return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

// ---- waiters ------------------------------------------------------------------------------

struct waiter {
  pthread_t thread;
  uint32_t *word;
  uint32_t expected;
  long ret;
};

static int g_woken;  // waiters whose FUTEX_WAIT returned 0

static void *wait_on(void *arg) {
  struct waiter *w = arg;
  w->ret = futex(w->word, FUTEX_WAIT_PRIVATE, w->expected, 0, NULL, 0);
  if (w->ret == 0)
    __atomic_add_fetch(&g_woken, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static long count_waiters(uint32_t *word) {
  return futex(word, FUTEX_REQUEUE_PRIVATE, 0, INT_MAX, word, 0);
}

// Waits (up to 5 s) until `n` threads wait on `word`.
static int wait_for_waiters(uint32_t *word, long n) {
  for (int i = 0; i < 5000; i++) {
    if (count_waiters(word) == n)
      return 1;
    sleep_ms(1);
  }
  return 0;
}

static void start_waiters(struct waiter *ws, int n, uint32_t *word) {
  for (int i = 0; i < n; i++) {
    ws[i].word = word;
    ws[i].expected = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    pthread_create(&ws[i].thread, NULL, wait_on, &ws[i]);
  }
}

// Wakes whoever still waits on the words and joins the threads.
static void finish_waiters(struct waiter *ws, int n) {
  for (int i = 0; i < n; i++)
    futex(ws[i].word, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0);
  for (int i = 0; i < n; i++)
    pthread_join(ws[i].thread, NULL);
}

// ---- FUTEX_WAKE_OP ----------------------------------------------------------------------

static uint32_t g_a, g_b;

// The operation alone (nobody waits): the word's new value and the return of 0.
static void op_case(const char *name, uint32_t initial, int op, int oparg, uint32_t want) {
  g_b = initial;
  long r = futex(&g_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &g_b, FUTEX_OP(op, oparg, FUTEX_OP_CMP_EQ, 0));
  check(name, r == 0 && g_b == want, "returned %ld, word %#x, want 0 and %#x", r, g_b, want);
}

// One waiter on each word: the second is woken only when the comparison of the old value
// holds.
static void cmp_case(const char *name, int32_t old, int cmp, int cmparg, int holds) {
  struct waiter ws[2];
  g_a = 0;
  g_b = (uint32_t)old;
  g_woken = 0;
  start_waiters(&ws[0], 1, &g_a);
  start_waiters(&ws[1], 1, &g_b);
  int ready = wait_for_waiters(&g_a, 1) && wait_for_waiters(&g_b, 1);
  long r = futex(&g_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &g_b, FUTEX_OP(FUTEX_OP_ADD, 1, cmp, cmparg));
  long left_b = count_waiters(&g_b);
  finish_waiters(ws, 2);
  check(name, ready && r == 1 + holds && left_b == !holds && g_b == (uint32_t)old + 1,
        "waiters ready %d; returned %ld, want %d; %ld left on the second word; word %#x", ready, r,
        1 + holds, left_b, g_b);
}

static void wake_op_checks(void) {
  op_case("wake-op-set", 7, FUTEX_OP_SET, 5, 5);
  op_case("wake-op-set-negative", 7, FUTEX_OP_SET, -2, 0xfffffffe);
  op_case("wake-op-add", 7, FUTEX_OP_ADD, 5, 12);
  op_case("wake-op-add-negative", 7, FUTEX_OP_ADD, -9, 0xfffffffe);
  op_case("wake-op-or", 0x10, FUTEX_OP_OR, 0x3, 0x13);
  op_case("wake-op-andn", 0xff, FUTEX_OP_ANDN, 0x0f, 0xf0);
  op_case("wake-op-xor", 0xff, FUTEX_OP_XOR, 0x101, 0x1fe);
  op_case("wake-op-shift-set", 0, FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 20, 1u << 20);
  op_case("wake-op-shift-or", 1, FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 31, 0x80000001);
  op_case("wake-op-shift-andn", 0xff, FUTEX_OP_ANDN | FUTEX_OP_OPARG_SHIFT, 3, 0xf7);
  op_case("wake-op-shift-masked", 0, FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 35, 1u << 3);

  cmp_case("wake-op-cmp-eq-true", 5, FUTEX_OP_CMP_EQ, 5, 1);
  cmp_case("wake-op-cmp-eq-false", 5, FUTEX_OP_CMP_EQ, 6, 0);
  cmp_case("wake-op-cmp-ne-true", 5, FUTEX_OP_CMP_NE, 6, 1);
  cmp_case("wake-op-cmp-ne-false", 5, FUTEX_OP_CMP_NE, 5, 0);
  cmp_case("wake-op-cmp-lt-true", -5, FUTEX_OP_CMP_LT, -3, 1);  // signed
  cmp_case("wake-op-cmp-lt-false", 5, FUTEX_OP_CMP_LT, 5, 0);
  cmp_case("wake-op-cmp-le-true", 5, FUTEX_OP_CMP_LE, 5, 1);
  cmp_case("wake-op-cmp-le-false", 6, FUTEX_OP_CMP_LE, 5, 0);
  cmp_case("wake-op-cmp-gt-true", 6, FUTEX_OP_CMP_GT, 5, 1);
  cmp_case("wake-op-cmp-gt-false", -1, FUTEX_OP_CMP_GT, 0, 0);  // signed
  cmp_case("wake-op-cmp-ge-true", 5, FUTEX_OP_CMP_GE, 5, 1);
  cmp_case("wake-op-cmp-ge-false", 4, FUTEX_OP_CMP_GE, 5, 0);

  // Counts: 0 wakes one (Linux counts with a signed int and stops after the first);
  // a count of two wakes two of three.
  {
    struct waiter ws[3];
    g_a = 0;
    g_b = 0;
    start_waiters(ws, 3, &g_a);
    int ready = wait_for_waiters(&g_a, 3);
    long zero = futex(&g_a, FUTEX_WAKE_OP_PRIVATE, 0, 0, &g_b, FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0));
    long two = futex(&g_a, FUTEX_WAKE_OP_PRIVATE, 2, 0, &g_b, FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0));
    long left = count_waiters(&g_a);
    finish_waiters(ws, 3);
    check("wake-op-counts", ready && zero == 1 && two == 2 && left == 0,
          "ready %d; count 0 woke %ld (want 1), count 2 woke %ld (want 2), %ld left", ready, zero, two,
          left);
  }

  // Both words the same: the comparison's wake-ups come after the first count's.
  {
    struct waiter ws[3];
    g_a = 4;
    start_waiters(ws, 3, &g_a);
    int ready = wait_for_waiters(&g_a, 3);
    long r = futex(&g_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &g_a, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 4));
    long left = count_waiters(&g_a);
    finish_waiters(ws, 3);
    check("wake-op-same-word", ready && r == 2 && left == 1 && g_a == 5,
          "ready %d; returned %ld (want 2), %ld left (want 1), word %u (want 5)", ready, r, left, g_a);
  }

  // A word that cannot be written: EFAULT, and nobody on the first word is woken.
  {
    uint32_t *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, 4096);
    struct waiter w;
    g_a = 0;
    start_waiters(&w, 1, &g_a);
    int ready = wait_for_waiters(&g_a, 1);
    errno = 0;
    long r = futex(&g_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, gone, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0));
    int err = errno;
    long left = count_waiters(&g_a);
    finish_waiters(&w, 1);
    check("wake-op-efault-wakes-none", ready && r == -1 && err == EFAULT && left == 1,
          "ready %d; returned %ld (%s), %ld still waiting; want -1 (EFAULT) and 1", ready, r,
          r == -1 ? strerrorname_np(err) : "-", left);
    CHECK_FAILS_WITH("wake-op-null-efault",
                     futex(&g_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, NULL, FUTEX_OP(FUTEX_OP_SET, 1, 0, 0)), EFAULT);
  }

  // An unknown operation changes nothing; an unknown comparison comes after the operation.
  g_b = 3;
  CHECK_FAILS_WITH("wake-op-unknown-op", futex(&g_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &g_b, 5u << 28), ENOSYS);
  check("wake-op-unknown-op-unchanged", g_b == 3, "word %u, want 3", g_b);
  CHECK_FAILS_WITH("wake-op-unknown-cmp",
                   futex(&g_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &g_b, FUTEX_OP(FUTEX_OP_ADD, 1, 6, 0)), ENOSYS);
  check("wake-op-unknown-cmp-applied", g_b == 4, "word %u, want 4 (Linux applies the operation)", g_b);

  uint32_t pair[2] = {0, 0};
  CHECK_FAILS_WITH("wake-op-misaligned-first",
                   futex((uint32_t *)((char *)pair + 1), FUTEX_WAKE_OP_PRIVATE, 1, 1, &g_b, 0), EINVAL);
  CHECK_FAILS_WITH("wake-op-misaligned-second",
                   futex(&g_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, (uint32_t *)((char *)pair + 2), 0), EINVAL);
}

// ---- FUTEX_WAKE and the requeue operations ---------------------------------------------------

static void wake_checks(void) {
  struct waiter ws[2];
  g_a = 0;
  g_woken = 0;
  start_waiters(ws, 2, &g_a);
  int ready = wait_for_waiters(&g_a, 2);
  long zero = futex(&g_a, FUTEX_WAKE_PRIVATE, 0, 0, NULL, 0);
  long rest = futex(&g_a, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0);
  finish_waiters(ws, 2);
  check("wake-zero-wakes-one", ready && zero == 1 && rest == 1 && g_woken == 2,
        "ready %d; count 0 woke %ld (want 1), then %ld (want 1); %d returned 0", ready, zero, rest,
        g_woken);

  CHECK_FAILS_WITH("wake-realtime-flag", futex(&g_a, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, 0, NULL, 0), ENOSYS);
  CHECK_FAILS_WITH("wait-realtime-flag", futex(&g_a, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, 0, NULL, 0), ENOSYS);
  CHECK_FAILS_WITH("wake-bitset-zero", futex(&g_a, FUTEX_WAKE_BITSET_PRIVATE, 1, 0, NULL, 0), EINVAL);
  // A private futex is only an address; a shared one must be mapped.
  uint32_t *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(gone, 4096);
  long r = futex(gone, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0);
  check("wake-private-unmapped", r == 0, "returned %ld, want 0", r);
  CHECK_FAILS_WITH("wake-shared-unmapped", futex(gone, FUTEX_WAKE, 1, 0, NULL, 0), EFAULT);

  // REQUEUE moves waiters: woken later from the second word.
  {
    struct waiter ws3[3];
    g_a = 0;
    g_b = 0;
    g_woken = 0;
    start_waiters(ws3, 3, &g_a);
    int ok3 = wait_for_waiters(&g_a, 3);
    long moved = futex(&g_a, FUTEX_REQUEUE_PRIVATE, 1, 1, &g_b, 0);
    long on_a = count_waiters(&g_a), on_b = count_waiters(&g_b);
    long from_b = futex(&g_b, FUTEX_WAKE_PRIVATE, INT_MAX, 0, NULL, 0);
    finish_waiters(ws3, 3);
    check("requeue-moves", ok3 && moved == 2 && on_a == 1 && on_b == 1 && from_b == 1,
          "ready %d; returned %ld (want 2), %ld left on the first word, %ld on the second, woke %ld "
          "there",
          ok3, moved, on_a, on_b, from_b);
  }
  CHECK_FAILS_WITH("cmp-requeue-eagain", futex(&g_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, &g_b, 99), EAGAIN);
  CHECK_FAILS_WITH("requeue-negative-count", futex(&g_a, FUTEX_CMP_REQUEUE_PRIVATE, 1, -1, &g_b, g_a),
                   EINVAL);
  CHECK_FAILS_WITH("unknown-futex-op", futex(&g_a, 20, 0, 0, NULL, 0), ENOSYS);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  wake_op_checks();
  wake_checks();
  return check_exit_status();
}
