// A bad pointer given to a vDSO function (clock_gettime, gettimeofday, time, getcpu) is the
// application's fault: SIGSEGV at that address, which a handler can catch, as with Linux's
// vDSO, and never a failure of the system under it.
#define _GNU_SOURCE
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static sigjmp_buf g_jump;
static volatile sig_atomic_t g_faults;
static void* volatile g_fault_addr;
static volatile int g_fault_code;

static void on_segv(int sig, siginfo_t* info, void* uc) {
  (void)sig;
  (void)uc;
  g_faults++;
  g_fault_addr = info->si_addr;
  g_fault_code = info->si_code;
  siglongjmp(g_jump, 1);
}

enum Call { kClockGettime, kGettimeofday, kTime, kGetcpu };

// Makes the call with `bad` as its output pointer; true when it faulted exactly there.
static void expect_fault(const char* name, enum Call call, void* bad, int code) {
  int before = g_faults;
  if (sigsetjmp(g_jump, 1) == 0) {
    switch (call) {
    case kClockGettime: clock_gettime(CLOCK_MONOTONIC, bad); break;
    case kGettimeofday: gettimeofday(bad, NULL); break;
    case kTime: time(bad); break;
    case kGetcpu: getcpu(bad, NULL); break;
    }
  }
  int faulted = g_faults == before + 1;
  check(name, faulted && g_fault_addr == bad && g_fault_code == code,
        "faulted %d, at the pointer %d, si_code %d (want %d)", faulted, g_fault_addr == bad, g_fault_code, code);
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);

  long page = sysconf(_SC_PAGESIZE);
  char* unmapped = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char* readonly = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (unmapped == MAP_FAILED || readonly == MAP_FAILED || munmap(unmapped, page) != 0) {
    check("setup", 0, "mmap failed");
    return check_exit_status();
  }

  expect_fault("clock_gettime-unmapped", kClockGettime, unmapped, SEGV_MAPERR);
  expect_fault("clock_gettime-readonly", kClockGettime, readonly, SEGV_ACCERR);
  expect_fault("gettimeofday-unmapped", kGettimeofday, unmapped + 8, SEGV_MAPERR);
  expect_fault("time-unmapped", kTime, unmapped + 16, SEGV_MAPERR);
  expect_fault("getcpu-readonly", kGetcpu, readonly + 4, SEGV_ACCERR);

  // The process goes on: the clocks still work with good pointers.
  struct timespec a, b;
  struct timeval tv;
  unsigned cpu = ~0u;
  check("clocks-after-faults",
        clock_gettime(CLOCK_MONOTONIC, &a) == 0 && clock_gettime(CLOCK_MONOTONIC, &b) == 0 &&
            (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec)) &&
            gettimeofday(&tv, NULL) == 0 && tv.tv_sec > 0 && time(NULL) > 0 && getcpu(&cpu, NULL) == 0 &&
            cpu != ~0u,
        "a clock read failed or went backwards");
  // A null pointer where one is allowed is not a fault.
  struct timeval* volatile no_tv = NULL;
  check("null-allowed", gettimeofday(no_tv, NULL) == 0 && time(NULL) > 0 && getcpu(NULL, NULL) == 0 && g_faults == 5,
        "faults %d", (int)g_faults);
  return check_exit_status();
}
