// prctl(2) and the scheduler calls: thread names (PR_SET_NAME, /proc/self/comm,
// /proc/self/task/N/comm, inheritance by new threads), the recorded flags (PDEATHSIG,
// DUMPABLE, NO_NEW_PRIVS, KEEPCAPS, CHILD_SUBREAPER, TIMERSLACK), CPU affinity per thread,
// scheduling policies and parameters, nice values and I/O priorities, with their errors.
//
// What depends on privilege (SCHED_FIFO, lowering a nice value) is checked to give one of
// the answers Linux gives, not which; nothing checks the process's starting values.
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static const pid_t kNoSuchTid = 0x3ffffff0;

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

// The first line of a file, without its newline ("" when it cannot be read).
static void read_line(const char *path, char *out, size_t size) {
  out[0] = 0;
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return;
  ssize_t n = read(fd, out, size - 1);
  close(fd);
  out[n > 0 ? n : 0] = 0;
  char *nl = strchr(out, '\n');
  if (nl)
    *nl = 0;
}

static void task_comm(pid_t tid, char *out, size_t size) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
  read_line(path, out, size);
}

// Runs fn in a new thread and waits for it.
static void in_thread(void *(*fn)(void *), void *arg) {
  pthread_t t;
  pthread_create(&t, NULL, fn, arg);
  pthread_join(t, NULL);
}

// ---- names -----------------------------------------------------------------------------------

struct named {
  pid_t tid;
  char inherited[16];  // the name it started with
  char own[16];        // PR_GET_NAME after setting its own
  char comm_self[32];  // /proc/thread-self/comm
  int named;           // it has set its name; the main thread may look
  int done;            // the main thread has looked
};

static void *name_thread(void *arg) {
  struct named *n = arg;
  n->tid = gettid_();
  prctl(PR_GET_NAME, n->inherited);
  prctl(PR_SET_NAME, "worker-1");
  prctl(PR_GET_NAME, n->own);
  read_line("/proc/thread-self/comm", n->comm_self, sizeof(n->comm_self));
  __atomic_store_n(&n->named, 1, __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&n->done, __ATOMIC_SEQ_CST))
    usleep(1000);
  return NULL;
}

static void name_checks(void) {
  char name[16], comm[32], task[32];
  check("set-name", prctl(PR_SET_NAME, "main-thread-name-too-long") == 0, "failed: %s", strerror(errno));
  memset(name, 'x', sizeof(name));
  prctl(PR_GET_NAME, name);
  check("get-name-truncated", strcmp(name, "main-thread-nam") == 0, "got \"%.16s\"", name);
  read_line("/proc/self/comm", comm, sizeof(comm));
  check("proc-self-comm", strcmp(comm, "main-thread-nam") == 0, "got \"%s\"", comm);
  task_comm(getpid(), task, sizeof(task));
  check("proc-task-main-comm", strcmp(task, "main-thread-nam") == 0, "got \"%s\"", task);

  struct named n = {0};
  pthread_t t;
  pthread_create(&t, NULL, name_thread, &n);
  while (!__atomic_load_n(&n.named, __ATOMIC_SEQ_CST))
    usleep(1000);
  task_comm(n.tid, task, sizeof(task));
  read_line("/proc/self/comm", comm, sizeof(comm));
  char via_glibc[16] = "";
  pthread_getname_np(t, via_glibc, sizeof(via_glibc));  // reads /proc/self/task/N/comm
  __atomic_store_n(&n.done, 1, __ATOMIC_SEQ_CST);
  pthread_join(t, NULL);
  check("thread-inherits-name", strcmp(n.inherited, "main-thread-nam") == 0, "got \"%s\"", n.inherited);
  check("thread-own-name", strcmp(n.own, "worker-1") == 0, "got \"%s\"", n.own);
  check("proc-thread-self-comm", strcmp(n.comm_self, "worker-1") == 0, "got \"%s\"", n.comm_self);
  check("proc-task-thread-comm", strcmp(task, "worker-1") == 0, "got \"%s\"", task);
  check("pthread-getname", strcmp(via_glibc, "worker-1") == 0, "got \"%s\"", via_glibc);
  check("proc-self-comm-is-main", strcmp(comm, "main-thread-nam") == 0, "got \"%s\"", comm);

  pthread_setname_np(pthread_self(), "regress-main");
  prctl(PR_GET_NAME, name);
  check("pthread-setname-self", strcmp(name, "regress-main") == 0, "got \"%s\"", name);
  prctl(PR_SET_NAME, "");
  read_line("/proc/self/comm", comm, sizeof(comm));
  check("set-name-empty", comm[0] == 0, "got \"%s\"", comm);
  prctl(PR_SET_NAME, "regress-main");
  CHECK_FAILS_WITH("set-name-efault", prctl(PR_SET_NAME, (char *)8), EFAULT);
  CHECK_FAILS_WITH("get-name-efault", prctl(PR_GET_NAME, (char *)8), EFAULT);

  // Writing /proc/self/comm names the thread: 15 bytes at most, a newline kept.
  int fd = open("/proc/self/comm", O_WRONLY);
  check("comm-write", fd >= 0 && write(fd, "by-write\n", 9) == 9, "errno %s", strerrorname_np(errno));
  close(fd);
  prctl(PR_GET_NAME, name);
  check("comm-write-name", strcmp(name, "by-write\n") == 0, "got \"%s\"", name);
  fd = open("/proc/self/comm", O_WRONLY);
  check("comm-write-long", fd >= 0 && write(fd, "0123456789abcdefghij", 20) == 20, "errno %s",
        strerrorname_np(errno));
  close(fd);
  prctl(PR_GET_NAME, name);
  check("comm-write-cut", strcmp(name, "0123456789abcde") == 0, "got \"%s\"", name);
  // Another thread's, as pthread_setname_np does it (through /proc/self/task/N/comm).
  struct named other = {0};
  pthread_create(&t, NULL, name_thread, &other);
  while (!__atomic_load_n(&other.named, __ATOMIC_SEQ_CST))
    usleep(1000);
  check("setname-other", pthread_setname_np(t, "renamed") == 0, "errno %s", strerrorname_np(errno));
  char got[16] = "";
  pthread_getname_np(t, got, sizeof(got));
  __atomic_store_n(&other.done, 1, __ATOMIC_SEQ_CST);
  pthread_join(t, NULL);
  check("setname-other-read", strcmp(got, "renamed") == 0, "got \"%s\"", got);
  prctl(PR_SET_NAME, "regress-main");
}

// ---- recorded flags --------------------------------------------------------------------------

struct new_thread_view {
  int pdeathsig;
  long slack, slack_after_reset;
  int no_new_privs;
};

static void *look_at_flags(void *arg) {
  struct new_thread_view *v = arg;
  v->pdeathsig = -1;
  prctl(PR_GET_PDEATHSIG, &v->pdeathsig);
  v->slack = prctl(PR_GET_TIMERSLACK);
  prctl(PR_SET_TIMERSLACK, 0);  // back to its default: its creator's slack at clone
  v->slack_after_reset = prctl(PR_GET_TIMERSLACK);
  v->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  return NULL;
}

static void flag_checks(void) {
  int sig = -1;
  check("set-pdeathsig", prctl(PR_SET_PDEATHSIG, SIGUSR1) == 0, "failed: %s", strerror(errno));
  prctl(PR_GET_PDEATHSIG, &sig);
  check("get-pdeathsig", sig == SIGUSR1, "got %d", sig);
  CHECK_FAILS_WITH("pdeathsig-invalid", prctl(PR_SET_PDEATHSIG, 65), EINVAL);
  CHECK_FAILS_WITH("get-pdeathsig-efault", prctl(PR_GET_PDEATHSIG, (int *)8), EFAULT);

  check("get-dumpable", prctl(PR_GET_DUMPABLE) == 1, "got %d", prctl(PR_GET_DUMPABLE));
  CHECK_FAILS_WITH("set-dumpable-2", prctl(PR_SET_DUMPABLE, 2), EINVAL);
  prctl(PR_SET_DUMPABLE, 0);
  int off = prctl(PR_GET_DUMPABLE);
  prctl(PR_SET_DUMPABLE, 1);
  check("set-dumpable", off == 0 && prctl(PR_GET_DUMPABLE) == 1, "after 0: %d", off);

  CHECK_FAILS_WITH("set-no-new-privs-0", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0), EINVAL);
  CHECK_FAILS_WITH("set-no-new-privs-args", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), EINVAL);
  CHECK_FAILS_WITH("get-no-new-privs-args", prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0), EINVAL);
  int set = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  check("no-new-privs", set == 0 && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "set %d, get %d", set,
        prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));

  // PR_GET_SECCOMP agrees with /proc/self/status.
  char status[8192] = "";
  int fd = open("/proc/self/status", O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, status, sizeof(status) - 1) : -1;
  if (fd >= 0)
    close(fd);
  status[n > 0 ? n : 0] = 0;
  const char *line = strstr(status, "\nSeccomp:");
  int mode = line ? atoi(line + strlen("\nSeccomp:")) : -1;
  int got = prctl(PR_GET_SECCOMP);
  check("get-seccomp", got == mode, "prctl %d, /proc/self/status %d", got, mode);

  int keep = prctl(PR_GET_KEEPCAPS);
  prctl(PR_SET_KEEPCAPS, 1);
  int keep_on = prctl(PR_GET_KEEPCAPS);
  int bits = prctl(PR_GET_SECUREBITS);
  prctl(PR_SET_KEEPCAPS, 0);
  check("keepcaps", keep == 0 && keep_on == 1 && (bits & (1 << 4)) && prctl(PR_GET_KEEPCAPS) == 0,
        "initially %d, set %d, securebits %#x, cleared %d", keep, keep_on, bits, prctl(PR_GET_KEEPCAPS));
  CHECK_FAILS_WITH("keepcaps-2", prctl(PR_SET_KEEPCAPS, 2), EINVAL);

  int reaper = -1, reaper_on = -1, reaper_off = -1;
  prctl(PR_GET_CHILD_SUBREAPER, &reaper);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  prctl(PR_GET_CHILD_SUBREAPER, &reaper_on);
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  prctl(PR_GET_CHILD_SUBREAPER, &reaper_off);
  check("child-subreaper", reaper == 0 && reaper_on == 1 && reaper_off == 0, "%d, %d, %d", reaper, reaper_on,
        reaper_off);
  CHECK_FAILS_WITH("get-child-subreaper-efault", prctl(PR_GET_CHILD_SUBREAPER, (int *)8), EFAULT);

  // Timer slack: per thread; a new thread's default is its creator's slack.
  long initial = prctl(PR_GET_TIMERSLACK);
  prctl(PR_SET_TIMERSLACK, 123456);
  long set_slack = prctl(PR_GET_TIMERSLACK);
  struct new_thread_view v;
  in_thread(look_at_flags, &v);
  prctl(PR_SET_TIMERSLACK, 0);
  long reset = prctl(PR_GET_TIMERSLACK);
  check("timerslack", set_slack == 123456 && reset == initial, "set %ld, reset %ld (initially %ld)", set_slack,
        reset, initial);
  check("timerslack-inherited", v.slack == 123456 && v.slack_after_reset == 123456,
        "new thread %ld, after its reset %ld; want 123456 both", v.slack, v.slack_after_reset);
  check("pdeathsig-not-inherited", v.pdeathsig == 0, "new thread has %d", v.pdeathsig);
  check("no-new-privs-inherited", v.no_new_privs == 1, "new thread has %d", v.no_new_privs);
  prctl(PR_SET_PDEATHSIG, 0);

  int cap0 = prctl(PR_CAPBSET_READ, 0);
  check("capbset-read", cap0 == 0 || cap0 == 1, "got %d", cap0);
  CHECK_FAILS_WITH("capbset-read-invalid", prctl(PR_CAPBSET_READ, 63), EINVAL);

  int *tid_address = NULL;
  int r = prctl(PR_GET_TID_ADDRESS, &tid_address);
  check("get-tid-address", r == 0 && tid_address && *tid_address == gettid_(), "returned %d", r);

  // Naming anonymous memory exists only with CONFIG_ANON_VMA_NAME: 0 or EINVAL.
  void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  errno = 0;
  r = prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, p, 4096, "regress");
  check("set-vma", r == 0 || errno == EINVAL, "returned %d (%s)", r, strerrorname_np(errno));
  munmap(p, 4096);
  CHECK_FAILS_WITH("unknown-option", prctl(12345, 0, 0, 0, 0), EINVAL);
}

// ---- CPU affinity --------------------------------------------------------------------------

struct affinity_view {
  cpu_set_t own, child;
  int set_ret;
  int first;
};

static void *child_affinity(void *arg) {
  cpu_set_t *out = arg;
  sched_getaffinity(0, sizeof(*out), out);
  return NULL;
}

static void *pin_self(void *arg) {
  struct affinity_view *v = arg;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(v->first, &one);
  v->set_ret = sched_setaffinity(0, sizeof(one), &one);
  sched_getaffinity(0, sizeof(v->own), &v->own);
  in_thread(child_affinity, &v->child);  // a new thread inherits its creator's mask
  return NULL;
}

static void affinity_checks(void) {
  cpu_set_t all, got;
  CPU_ZERO(&all);
  int r = sched_getaffinity(0, sizeof(all), &all);
  int count = CPU_COUNT(&all);
  check("getaffinity", r == 0 && count >= 1, "returned %d with %d CPUs", r, count);
  // The CPU the thread runs on is one of those it may run on.
  int outside = -1;
  for (int i = 0; i < 50 && outside < 0; i++) {
    int cpu = sched_getcpu();
    if (cpu < 0 || !CPU_ISSET(cpu, &all))
      outside = cpu;
  }
  check("getcpu-in-affinity", outside < 0, "sched_getcpu gave CPU %d, not in the affinity mask", outside);
  int first = 0;
  while (!CPU_ISSET(first, &all))
    first++;

  struct affinity_view v = {.first = first};
  in_thread(pin_self, &v);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  check("setaffinity-thread", v.set_ret == 0 && CPU_EQUAL(&v.own, &one), "returned %d, %d CPUs after",
        v.set_ret, CPU_COUNT(&v.own));
  check("affinity-inherited", CPU_EQUAL(&v.child, &one), "new thread has %d CPUs", CPU_COUNT(&v.child));
  sched_getaffinity(0, sizeof(got), &got);
  check("affinity-per-thread", CPU_EQUAL(&got, &all), "main thread has %d CPUs, want %d", CPU_COUNT(&got),
        count);

  // The process id names the first thread; CPUs it does not have are dropped, and a mask
  // with none of its CPUs is refused.
  r = sched_setaffinity(getpid(), sizeof(one), &one);
  sched_getaffinity(0, sizeof(got), &got);
  check("setaffinity-by-pid", r == 0 && CPU_EQUAL(&got, &one), "returned %d", r);
  cpu_set_t extra = one;
  CPU_SET(CPU_SETSIZE - 1, &extra);
  r = sched_setaffinity(0, sizeof(extra), &extra);
  sched_getaffinity(0, sizeof(got), &got);
  check("setaffinity-absent-cpu-dropped", r == 0 && CPU_EQUAL(&got, &one), "returned %d, %d CPUs", r,
        CPU_COUNT(&got));
  cpu_set_t none;
  CPU_ZERO(&none);
  CPU_SET(CPU_SETSIZE - 1, &none);
  CHECK_FAILS_WITH("setaffinity-no-cpu", sched_setaffinity(0, sizeof(none), &none), EINVAL);
  CPU_ZERO(&none);
  CHECK_FAILS_WITH("setaffinity-empty", sched_setaffinity(0, sizeof(none), &none), EINVAL);
  CHECK_FAILS_WITH("setaffinity-efault", syscall(SYS_sched_setaffinity, 0, sizeof(none), (void *)8), EFAULT);
  CHECK_FAILS_WITH("setaffinity-esrch", sched_setaffinity(kNoSuchTid, sizeof(one), &one), ESRCH);
  r = sched_setaffinity(0, sizeof(all), &all);
  sched_getaffinity(0, sizeof(got), &got);
  check("setaffinity-restore", r == 0 && CPU_EQUAL(&got, &all), "returned %d", r);

  unsigned char raw[CPU_SETSIZE / 8];
  CHECK_FAILS_WITH("getaffinity-short", syscall(SYS_sched_getaffinity, 0, 4, raw), EINVAL);
  CHECK_FAILS_WITH("getaffinity-unaligned", syscall(SYS_sched_getaffinity, 0, 12, raw), EINVAL);
  CHECK_FAILS_WITH("getaffinity-esrch", syscall(SYS_sched_getaffinity, kNoSuchTid, sizeof(raw), raw), ESRCH);
  CHECK_FAILS_WITH("getaffinity-efault", syscall(SYS_sched_getaffinity, 0, sizeof(raw), (void *)8), EFAULT);
  long bytes = syscall(SYS_sched_getaffinity, 0, sizeof(raw), raw);
  check("getaffinity-raw-size", bytes >= 8 && bytes % 8 == 0 && bytes <= (long)sizeof(raw), "returned %ld",
        bytes);
}

// ---- policies and parameters ----------------------------------------------------------------

struct sched_view {
  int batch, batch_policy, back, idle, leave_idle, fifo, fifo_policy, reset_flag;
  int nice_base, nice_up, nice_got, nice_down, nice_main;
};

static int g_main_nice;

static void *sched_thread(void *arg) {
  struct sched_view *v = arg;
  struct sched_param zero = {0}, one = {1};
  v->batch = sched_setscheduler(0, SCHED_BATCH, &zero);
  v->batch_policy = sched_getscheduler(0);
  v->back = sched_setscheduler(0, SCHED_OTHER, &zero);
  v->idle = sched_setscheduler(0, SCHED_IDLE, &zero);
  errno = 0;
  v->leave_idle = sched_setscheduler(0, SCHED_OTHER, &zero) == 0 ? 0 : errno;
  // Real time: 0 where the caller may (Linux with CAP_SYS_NICE), else EPERM.
  errno = 0;
  v->fifo = sched_setscheduler(0, SCHED_FIFO, &one) == 0 ? 0 : errno;
  v->fifo_policy = sched_getscheduler(0);
  sched_setscheduler(0, SCHED_OTHER, &zero);
  v->reset_flag = sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &zero) == 0
                      ? sched_getscheduler(0)
                      : -errno;

  // Nice values are per thread.
  errno = 0;
  v->nice_base = getpriority(PRIO_PROCESS, 0);
  int up = v->nice_base + 3 > 19 ? 19 : v->nice_base + 3;
  v->nice_up = setpriority(PRIO_PROCESS, 0, up);
  v->nice_got = getpriority(PRIO_PROCESS, gettid_()) == up;
  errno = 0;
  v->nice_down = setpriority(PRIO_PROCESS, 0, v->nice_base) == 0 ? 0 : errno;
  v->nice_main = getpriority(PRIO_PROCESS, getpid()) == g_main_nice;
  return NULL;
}

static void sched_checks(void) {
  check("priority-max-fifo", sched_get_priority_max(SCHED_FIFO) == 99, "got %d", sched_get_priority_max(SCHED_FIFO));
  check("priority-min-rr", sched_get_priority_min(SCHED_RR) == 1, "got %d", sched_get_priority_min(SCHED_RR));
  check("priority-other", sched_get_priority_max(SCHED_OTHER) == 0 && sched_get_priority_min(SCHED_OTHER) == 0,
        "max %d, min %d", sched_get_priority_max(SCHED_OTHER), sched_get_priority_min(SCHED_OTHER));
  CHECK_FAILS_WITH("priority-max-invalid", sched_get_priority_max(4), EINVAL);
  CHECK_FAILS_WITH("priority-min-invalid", sched_get_priority_min(-1), EINVAL);

  check("getscheduler", sched_getscheduler(0) == SCHED_OTHER, "got %d", sched_getscheduler(0));
  struct sched_param param = {7};
  int r = sched_getparam(0, &param);
  check("getparam", r == 0 && param.sched_priority == 0, "returned %d, priority %d", r, param.sched_priority);
  param.sched_priority = 0;
  check("setparam", sched_setparam(0, &param) == 0, "failed: %s", strerror(errno));
  param.sched_priority = 1;
  CHECK_FAILS_WITH("setparam-priority-for-other", sched_setparam(0, &param), EINVAL);
  param.sched_priority = 0;
  CHECK_FAILS_WITH("setscheduler-invalid-policy", sched_setscheduler(0, 4, &param), EINVAL);
  CHECK_FAILS_WITH("setscheduler-negative-policy", syscall(SYS_sched_setscheduler, 0, -1, &param), EINVAL);
  CHECK_FAILS_WITH("setscheduler-fifo-priority-0", sched_setscheduler(0, SCHED_FIFO, &param), EINVAL);
  param.sched_priority = 100;
  CHECK_FAILS_WITH("setscheduler-priority-100", sched_setscheduler(0, SCHED_RR, &param), EINVAL);
  param.sched_priority = 0;
  CHECK_FAILS_WITH("setscheduler-null", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL), EINVAL);
  CHECK_FAILS_WITH("setscheduler-negative-pid", syscall(SYS_sched_setscheduler, -1, SCHED_OTHER, &param), EINVAL);
  CHECK_FAILS_WITH("setscheduler-efault", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8), EFAULT);
  CHECK_FAILS_WITH("setscheduler-esrch", sched_setscheduler(kNoSuchTid, SCHED_OTHER, &param), ESRCH);
  CHECK_FAILS_WITH("getscheduler-esrch", sched_getscheduler(kNoSuchTid), ESRCH);
  CHECK_FAILS_WITH("getscheduler-negative", sched_getscheduler(-1), EINVAL);
  CHECK_FAILS_WITH("getparam-null", syscall(SYS_sched_getparam, 0, NULL), EINVAL);
  CHECK_FAILS_WITH("getparam-efault", syscall(SYS_sched_getparam, 0, (void *)8), EFAULT);
  struct timespec slice = {-1, -1};
  r = sched_rr_get_interval(0, &slice);
  check("rr-get-interval", r == 0 && slice.tv_sec == 0 && slice.tv_nsec >= 0 && slice.tv_nsec < 1000000000,
        "returned %d", r);
  CHECK_FAILS_WITH("rr-get-interval-esrch", sched_rr_get_interval(kNoSuchTid, &slice), ESRCH);

  errno = 0;
  g_main_nice = getpriority(PRIO_PROCESS, 0);
  struct sched_view v;
  in_thread(sched_thread, &v);
  check("setscheduler-batch", v.batch == 0 && v.batch_policy == SCHED_BATCH && v.back == 0,
        "set %d, policy %d, back %d", v.batch, v.batch_policy, v.back);
  check("setscheduler-idle", v.idle == 0 && (v.leave_idle == 0 || v.leave_idle == EPERM), "set %d, leaving %s",
        v.idle, strerrorname_np(v.leave_idle));
  check("setscheduler-fifo", (v.fifo == 0 && v.fifo_policy == SCHED_FIFO) ||
                                 (v.fifo == EPERM && v.fifo_policy == SCHED_OTHER),
        "answer %s with policy %d", v.fifo ? strerrorname_np(v.fifo) : "0", v.fifo_policy);
  check("setscheduler-reset-on-fork", v.reset_flag == (SCHED_OTHER | SCHED_RESET_ON_FORK), "got %d",
        v.reset_flag);
  check("nice-raise", v.nice_up == 0 && v.nice_got, "set %d, read back %d", v.nice_up, v.nice_got);
  check("nice-lower", v.nice_down == 0 || v.nice_down == EACCES, "answer %s", strerrorname_np(v.nice_down));
  check("nice-per-thread", v.nice_main, "the main thread's nice changed");
  CHECK_FAILS_WITH("getpriority-esrch", getpriority(PRIO_PROCESS, kNoSuchTid), ESRCH);
  CHECK_FAILS_WITH("setpriority-esrch", setpriority(PRIO_PROCESS, kNoSuchTid, 0), ESRCH);
  CHECK_FAILS_WITH("getpriority-invalid", getpriority(7, 0), EINVAL);
  long raw = syscall(SYS_getpriority, PRIO_PROCESS, 0);
  check("getpriority-raw", raw == 20 - g_main_nice, "got %ld, want %d", raw, 20 - g_main_nice);
}

// ---- I/O priorities ----------------------------------------------------------------------

enum { kWhoProcess = 1, kClassRt = 1, kClassBe = 2, kClassIdle = 3, kClassShift = 13 };

static long ioprio_set(int which, int who, int prio) { return syscall(SYS_ioprio_set, which, who, prio); }
static long ioprio_get(int which, int who) { return syscall(SYS_ioprio_get, which, who); }

struct ioprio_view {
  long be, be_got, idle_got, none, none_got;
};

static void *ioprio_thread(void *arg) {
  struct ioprio_view *v = arg;
  v->be = ioprio_set(kWhoProcess, 0, (kClassBe << kClassShift) | 3);
  v->be_got = ioprio_get(kWhoProcess, gettid_());
  ioprio_set(kWhoProcess, 0, kClassIdle << kClassShift);
  v->idle_got = ioprio_get(kWhoProcess, 0);
  v->none = ioprio_set(kWhoProcess, 0, 0);
  v->none_got = ioprio_get(kWhoProcess, 0);
  return NULL;
}

static void ioprio_checks(void) {
  struct ioprio_view v;
  in_thread(ioprio_thread, &v);
  check("ioprio-be", v.be == 0 && v.be_got == ((kClassBe << kClassShift) | 3), "set %ld, got %#lx", v.be,
        v.be_got);
  check("ioprio-idle", v.idle_got == (kClassIdle << kClassShift), "got %#lx", v.idle_got);
  check("ioprio-none", v.none == 0 && v.none_got == 0, "set %ld, got %#lx", v.none, v.none_got);
  CHECK_FAILS_WITH("ioprio-none-with-level", ioprio_set(kWhoProcess, 0, 1), EINVAL);
  CHECK_FAILS_WITH("ioprio-invalid-class", ioprio_set(kWhoProcess, 0, 7 << kClassShift), EINVAL);
  CHECK_FAILS_WITH("ioprio-invalid-which", ioprio_get(0, 0), EINVAL);
  CHECK_FAILS_WITH("ioprio-esrch", ioprio_get(kWhoProcess, kNoSuchTid), ESRCH);
  long rt = ioprio_set(kWhoProcess, 0, (kClassRt << kClassShift) | 1);
  check("ioprio-rt", rt == 0 || errno == EPERM, "returned %ld (%s)", rt, strerrorname_np(errno));
  ioprio_set(kWhoProcess, 0, 0);
}

// sched_getattr and sched_setattr: the fair policy and nice value, the size handshake
// (E2BIG with the kernel's size written back), and the argument checks.
struct sched_attr_v1 {
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
  uint32_t util_min, util_max;
};

static void check_sched_attr(void) {
  struct sched_attr_v1 attr;
  memset(&attr, 0xff, sizeof(attr));
  long r = syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0);
  int nice = getpriority(PRIO_PROCESS, 0);
  check("getattr", r == 0 && attr.size == 56 && attr.policy == SCHED_OTHER && attr.nice == nice && attr.priority == 0,
        "r %ld size %u policy %u nice %d (getpriority %d)", r, attr.size, attr.policy, attr.nice, nice);
  memset(&attr, 0, sizeof(attr));
  check("getattr-ver0", syscall(SYS_sched_getattr, 0, &attr, 48, 0) == 0 && attr.size == 48, "size %u", attr.size);
  CHECK_FAILS_WITH("getattr-small", syscall(SYS_sched_getattr, 0, &attr, 40, 0), EINVAL);
  CHECK_FAILS_WITH("getattr-flags", syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 1), EINVAL);
  CHECK_FAILS_WITH("getattr-negative-pid", syscall(SYS_sched_getattr, -1, &attr, sizeof(attr), 0), EINVAL);
  CHECK_FAILS_WITH("getattr-no-such-pid", syscall(SYS_sched_getattr, 0x3fffffff, &attr, sizeof(attr), 0), ESRCH);
  CHECK_FAILS_WITH("getattr-efault", syscall(SYS_sched_getattr, 0, (void *)8, sizeof(attr), 0), EFAULT);
  CHECK_FAILS_WITH("setattr-efault", syscall(SYS_sched_setattr, 0, (void *)8, 0), EFAULT);

  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.policy = SCHED_OTHER;
  attr.nice = nice + 1;  // a lower priority: anyone may
  check("setattr-nice", syscall(SYS_sched_setattr, 0, &attr, 0) == 0 && getpriority(PRIO_PROCESS, 0) == nice + 1,
        "errno %s, nice %d", strerrorname_np(errno), getpriority(PRIO_PROCESS, 0));
  attr.size = 20;
  CHECK_FAILS_WITH("setattr-size-e2big", syscall(SYS_sched_setattr, 0, &attr, 0), E2BIG);
  check("setattr-size-written", attr.size == 56, "size %u", attr.size);
  attr.policy = (uint32_t)-1;
  CHECK_FAILS_WITH("setattr-bad-policy", syscall(SYS_sched_setattr, 0, &attr, 0), EINVAL);
  attr.policy = SCHED_OTHER;
  CHECK_FAILS_WITH("setattr-flags-arg", syscall(SYS_sched_setattr, 0, &attr, 1), EINVAL);
  attr.flags = 0x1000;
  CHECK_FAILS_WITH("setattr-unknown-flag", syscall(SYS_sched_setattr, 0, &attr, 0), EINVAL);
  attr.flags = 0;
  attr.policy = 6;  // SCHED_DEADLINE with a runtime past its deadline
  attr.runtime = 2000000;
  attr.deadline = 1000000;
  CHECK_FAILS_WITH("setattr-deadline-params", syscall(SYS_sched_setattr, 0, &attr, 0), EINVAL);
  CHECK_FAILS_WITH("setattr-null", syscall(SYS_sched_setattr, 0, NULL, 0), EINVAL);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  name_checks();
  flag_checks();
  affinity_checks();
  sched_checks();
  ioprio_checks();
  check_sched_attr();
  return check_exit_status();
}
