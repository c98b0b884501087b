// The LibOS vDSO: the functions glibc and musl look up in AT_SYSINFO_EHDR. Each one asks the
// LibOS through a table the LibOS fills when it maps the image, so that time is answered by
// the LibOS (without a trap) and never by the host's vDSO. The stores into the caller's
// buffers happen here, in the application's address range: a bad pointer is the
// application's fault (SIGSEGV), as with Linux's vDSO.
#include <stdint.h>

#include "vdso_table.h"

namespace {

constexpr uint64_t kNsPerSec = 1000000000ull;

struct Timespec {
    long sec, nsec;
};
struct Timeval {
    long sec, usec;
};
struct Timezone {
    int minuteswest, dsttime;
};

constexpr int kClockRealtime = 0;

}  // namespace

extern "C" {

__attribute__((visibility("hidden"))) carbyne::VdsoTable carbyne_vdso_table = {};
extern carbyne::VdsoTable carbyne_vdso_table_export
    __attribute__((alias("carbyne_vdso_table"), visibility("default")));

long __vdso_clock_gettime(int clock, Timespec* ts) {
    carbyne::VdsoAnswer a = carbyne_vdso_table.clock_ns(clock);
    if (a.error)
        return a.error;
    ts->sec = long(a.value / kNsPerSec);
    ts->nsec = long(a.value % kNsPerSec);
    return 0;
}

long __vdso_clock_getres(int clock, Timespec* ts) {
    carbyne::VdsoAnswer a = carbyne_vdso_table.clock_resolution_ns(clock);
    if (a.error)
        return a.error;
    if (ts) {
        ts->sec = long(a.value / kNsPerSec);
        ts->nsec = long(a.value % kNsPerSec);
    }
    return 0;
}

long __vdso_gettimeofday(Timeval* tv, Timezone* tz) {
    if (tv) {
        carbyne::VdsoAnswer a = carbyne_vdso_table.clock_ns(kClockRealtime);
        if (a.error)
            return a.error;
        tv->sec = long(a.value / kNsPerSec);
        tv->usec = long(a.value % kNsPerSec / 1000);
    }
    if (tz) {
        tz->minuteswest = 0;
        tz->dsttime = 0;
    }
    return 0;
}

long __vdso_time(long* t) {
    carbyne::VdsoAnswer a = carbyne_vdso_table.clock_ns(kClockRealtime);
    if (a.error)
        return a.error;
    long secs = long(a.value / kNsPerSec);
    if (t)
        *t = secs;
    return secs;
}

long __vdso_getcpu(unsigned* cpu, unsigned* node, void*) {
    carbyne::VdsoAnswer a = carbyne_vdso_table.cpu();
    if (a.error)
        return a.error;
    if (cpu)
        *cpu = unsigned(a.value);
    if (node)
        *node = unsigned(a.value >> 32);
    return 0;
}

long clock_gettime(int, Timespec*) __attribute__((weak, alias("__vdso_clock_gettime")));
long clock_getres(int, Timespec*) __attribute__((weak, alias("__vdso_clock_getres")));
long gettimeofday(Timeval*, Timezone*) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long*) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned*, unsigned*, void*) __attribute__((weak, alias("__vdso_getcpu")));
}
