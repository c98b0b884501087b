// Maps the LibOS vDSO for the application and points its call table at the LibOS.
#include <carbyne/string.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <linux/time.h>

#include "../mm/mm.h"
#include "../proc/timer.h"
#include "program.h"
#include "vdso_image.h"
#include "vdso_table.h"

namespace carbyne::libos {


namespace {

constexpr uint64_t kNsPerSec = 1000000000ull;

// These run on the application's thread and stack, called from its code: they touch its
// memory directly, as the kernel's vDSO does (a bad pointer faults in the application).
long vdso_clock_gettime(int clock, void* ts) {
    auto ns = clock_now(clock);
    if (!ns.ok())
        return -ns.error().code;
    auto* out = static_cast<struct __kernel_timespec*>(ts);
    out->tv_sec = long(ns.value() / kNsPerSec);
    out->tv_nsec = long(ns.value() % kNsPerSec);
    return 0;
}

long vdso_clock_getres(int clock, void* ts) {
    auto ns = clock_now(clock);  // validates the clock
    if (!ns.ok())
        return -ns.error().code;
    if (ts) {
        uint64_t res = 1;
        g_pal->time_resolution(clock == CLOCK_REALTIME_COARSE || clock == CLOCK_MONOTONIC_COARSE
                                   ? PAL_CLOCK_REALTIME
                                   : PAL_CLOCK_MONOTONIC,
                               &res);
        auto* out = static_cast<struct __kernel_timespec*>(ts);
        out->tv_sec = long(res / kNsPerSec);
        out->tv_nsec = long(res % kNsPerSec);
    }
    return 0;
}

long vdso_gettimeofday(void* tv, void* tz) {
    if (tv) {
        auto ns = clock_now(CLOCK_REALTIME);
        if (!ns.ok())
            return -ns.error().code;
        auto* out = static_cast<struct __kernel_old_timeval*>(tv);
        out->tv_sec = long(ns.value() / kNsPerSec);
        out->tv_usec = long((ns.value() % kNsPerSec) / 1000);
    }
    if (tz) {
        auto* out = static_cast<struct timezone*>(tz);
        out->tz_minuteswest = 0;
        out->tz_dsttime = 0;
    }
    return 0;
}

long vdso_time(long* t) {
    auto ns = clock_now(CLOCK_REALTIME);
    if (!ns.ok())
        return -ns.error().code;
    long secs = long(ns.value() / kNsPerSec);
    if (t)
        *t = secs;
    return secs;
}

long vdso_getcpu(unsigned* cpu, unsigned* node, void*) {
    uint32_t c = 0, n = 0;
    PalError e = g_pal->get_cpu(&c, &n);
    if (e != PAL_OK)
        return -errno_from_pal(e).code;
    if (cpu)
        *cpu = c;
    if (node)
        *node = n;
    return 0;
}

}  // namespace

uint64_t vdso_map() {
    size_t size = (kVdsoImageSize + 4095) & ~size_t{4095};
    void* p = nullptr;
    if (g_pal->memory_alloc(nullptr, size, PAL_PROT_READ | PAL_PROT_WRITE, 0, &p) != PAL_OK) {
        log_warning("cannot map the vDSO; the application will use system calls for time");
        return 0;
    }
    memcpy(p, kVdsoImage, kVdsoImageSize);
    VdsoTable table = {vdso_clock_gettime, vdso_clock_getres, vdso_gettimeofday, vdso_time, vdso_getcpu};
    memcpy(static_cast<uint8_t*>(p) + kVdsoTableOffset, &table, sizeof(table));
    g_pal->memory_protect(p, size, PAL_PROT_READ | PAL_PROT_EXEC);
    if (!mm::record(uint64_t(p), uint64_t(p) + size, PAL_PROT_READ | PAL_PROT_EXEC, mm::kVmaVdso | mm::kVmaAnonymous,
                    nullptr, 0)
             .ok()) {
        g_pal->memory_free(p, size);
        return 0;
    }
    return uint64_t(p);
}

}  // namespace carbyne::libos
