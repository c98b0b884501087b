// The table through which the LibOS vDSO calls into the LibOS. The LibOS side only computes:
// each entry returns its answer in registers and never touches the application's memory.
// The vDSO code itself stores the answer where the application asked, so that a bad pointer
// faults in the vDSO, i.e. in the application, as with Linux's vDSO (SIGSEGV), and never in
// the LibOS.
#pragma once

#include <stdint.h>

namespace carbyne {

// 0 and a value, or a negative errno (as the system call would return it). Sixteen bytes
// of integers: returned in rax:rdx.
struct VdsoAnswer {
    long error;
    uint64_t value;
};

struct VdsoTable {
    VdsoAnswer (*clock_ns)(int clock);             // the clock's time in ns
    VdsoAnswer (*clock_resolution_ns)(int clock);  // the clock's resolution in ns
    VdsoAnswer (*cpu)();                           // the cpu in the low 32 bits, the node in the high
};

}  // namespace carbyne
