// The LibOS's own list of the application's memory areas (VMAs): what mmap, munmap,
// mprotect, mremap and brk change, what /proc/self/maps shows, and what a checkpoint copies.
//
// Lock order (libos/LOCKING.md): the VMA lock is a sleeping reader-writer lock. PAL calls
// that change the host mappings are made while it is held, so that the list and the host
// never disagree; operations that only read the list (msync, madvise, mincore, maps) share
// it. Under it only spinlocks (the heap's) are taken.
#pragma once

#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos::fs {
class File;
}

namespace carbyne::libos::mm {

enum VmaFlags : uint32_t {
    kVmaShared = 1u << 0,     // MAP_SHARED
    kVmaAnonymous = 1u << 1,  // no file behind it
    kVmaStack = 1u << 2,      // the main thread's stack: "[stack]"
    kVmaHeap = 1u << 3,       // the brk area: "[heap]"
    kVmaVdso = 1u << 4,       // the LibOS vDSO: "[vdso]"
    kVmaGrowsDown = 1u << 5,  // MAP_GROWSDOWN
    kVmaReserved = 1u << 6,   // address space held inaccessible by the LibOS (brk, gaps)
    kVmaNoReserve = 1u << 7,  // MAP_NORESERVE
    kVmaLocked = 1u << 8,     // mlock, MAP_LOCKED, mlockall: "VmLck", "lo" in smaps
    kVmaWritten = 1u << 9,    // has been writable since it was mapped: a private file mapping
                              // without it still holds only the file's bytes (fork copies none)
};

// Formats the list as /proc/self/maps does and returns the length of the whole text (like
// snprintf: the output is cut at size-1 characters and NUL-terminated).
size_t format_maps(char* buf, size_t size);

struct Totals {
    uint64_t size;    // VmSize: every mapping except LibOS reservations
    uint64_t data;    // VmData: private writable, not stack
    uint64_t stack;   // VmStk
    uint64_t exec;    // VmExe: executable file mappings
    uint64_t locked;  // VmLck
    uint64_t peak;    // VmPeak: the most VmSize has been
};
Totals totals();

// The resident bytes of the mappings (the host's mincore over each): VmRSS and its parts.
// VmHWM is the most seen by any call so far (the LibOS sees no page faults to track it).
struct Residency {
    uint64_t anon;   // RssAnon: private anonymous memory
    uint64_t file;   // RssFile: file mappings
    uint64_t shmem;  // RssShmem: shared anonymous memory
    uint64_t hwm;    // VmHWM
    uint64_t total() const { return anon + file + shmem; }
};
Residency residency_totals();

// The machine's memory as the LibOS reports it (/proc/meminfo, sysinfo, hence sysconf's
// _SC_PHYS_PAGES): a fixed total of 8 GiB, the process's mappings counted as used. Bytes.
struct MemoryFigures {
    uint64_t total, free;
};
MemoryFigures memory_figures();

}  // namespace carbyne::libos::mm
