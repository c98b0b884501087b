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

// These run on the application's thread and stack, called from its code. They only
// compute: the vDSO stores the answers into the application's buffers (vdso_table.h).
VdsoAnswer vdso_clock_ns(int clock) {
    auto ns = clock_now(clock);
    if (!ns.ok())
        return {-long(ns.error().code), 0};
    return {0, ns.value()};
}

VdsoAnswer vdso_clock_resolution_ns(int clock) {
    auto ns = clock_now(clock);  // validates the clock
    if (!ns.ok())
        return {-long(ns.error().code), 0};
    uint64_t res = 1;
    g_pal->time_resolution(clock == CLOCK_REALTIME_COARSE || clock == CLOCK_MONOTONIC_COARSE ? PAL_CLOCK_REALTIME
                                                                                             : PAL_CLOCK_MONOTONIC,
                           &res);
    return {0, res};
}

VdsoAnswer vdso_cpu() {
    uint32_t cpu = 0, node = 0;
    PalError e = g_pal->get_cpu(&cpu, &node);
    if (e != PAL_OK)
        return {-long(errno_from_pal(e).code), 0};
    return {0, uint64_t(cpu) | uint64_t(node) << 32};
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
    VdsoTable table = {vdso_clock_ns, vdso_clock_resolution_ns, vdso_cpu};
    static_assert(sizeof(table) == kVdsoTableSize, "the vDSO's call table and the LibOS's differ");
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
