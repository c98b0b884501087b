// The table through which the LibOS vDSO calls into the LibOS. Each entry returns 0 or a
// negative errno, as the system call would.
#pragma once

namespace carbyne {

struct VdsoTable {
    long (*clock_gettime)(int clock, void* ts);
    long (*clock_getres)(int clock, void* ts);
    long (*gettimeofday)(void* tv, void* tz);
    long (*time)(long* t);
    long (*getcpu)(unsigned* cpu, unsigned* node, void* cache);
};

}  // namespace carbyne
