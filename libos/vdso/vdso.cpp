// The LibOS vDSO: the functions glibc and musl look up in AT_SYSINFO_EHDR. Each one jumps
// through a table the LibOS fills when it maps the image, so that time is answered by the
// LibOS (without a trap) and never by the host's vDSO.
#include <stdint.h>

#include "vdso_table.h"

extern "C" {

__attribute__((visibility("hidden"))) carbyne::VdsoTable carbyne_vdso_table = {};
extern carbyne::VdsoTable carbyne_vdso_table_export
    __attribute__((alias("carbyne_vdso_table"), visibility("default")));

long __vdso_clock_gettime(int clock, void* ts) { return carbyne_vdso_table.clock_gettime(clock, ts); }
long __vdso_clock_getres(int clock, void* ts) { return carbyne_vdso_table.clock_getres(clock, ts); }
long __vdso_gettimeofday(void* tv, void* tz) { return carbyne_vdso_table.gettimeofday(tv, tz); }
long __vdso_time(long* t) { return carbyne_vdso_table.time(t); }
long __vdso_getcpu(unsigned* cpu, unsigned* node, void* cache) { return carbyne_vdso_table.getcpu(cpu, node, cache); }

long clock_gettime(int, void*) __attribute__((weak, alias("__vdso_clock_gettime")));
long clock_getres(int, void*) __attribute__((weak, alias("__vdso_clock_getres")));
long gettimeofday(void*, void*) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long*) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned*, unsigned*, void*) __attribute__((weak, alias("__vdso_getcpu")));
}
