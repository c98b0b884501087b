// The memory manager: the system calls' view of the VMA list (vma.h) and the host mappings
// behind it. Every change of the application's address space goes through here.
#pragma once

#include <libos/result.h>
#include <pal/pal.h>
#include <stdint.h>

#include "vma.h"

namespace carbyne::libos::mm {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kUserTop = 1ull << 47;

inline uint64_t page_up(uint64_t v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }
inline uint64_t page_down(uint64_t v) { return v & ~(kPageSize - 1); }
inline bool page_aligned(uint64_t v) { return (v & (kPageSize - 1)) == 0; }

// mmap(2) after argument checks: `len` page-aligned and nonzero; `map_flags` are MAP_*;
// `file` is null for anonymous mappings (the VMA takes its own reference).
Result<uint64_t> map(uint64_t addr, uint64_t len, int prot, uint32_t map_flags, fs::File* file, uint64_t offset);
Result<void> unmap(uint64_t addr, uint64_t len);
Result<void> protect(uint64_t addr, uint64_t len, int prot);
Result<uint64_t> remap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, uint32_t flags, uint64_t new_addr);
Result<void> advise(uint64_t addr, uint64_t len, int advice);
// mlock/munlock: marks [addr, addr + len) (page-aligned) locked or not; ENOMEM when part of
// it is not mapped, or when locking would pass `limit` bytes locked in all (the caller
// passes RLIMIT_MEMLOCK, or UINT64_MAX when privileged). Locking makes the pages resident
// (populate) unless `on_fault` (MLOCK_ONFAULT).
Result<void> lock(uint64_t addr, uint64_t len, bool locked, bool on_fault, uint64_t limit);
// mlockall(MCL_CURRENT) / munlockall: every mapping; `future` (MCL_FUTURE) makes later
// mappings locked too, until munlockall.
Result<void> lock_all(bool current, bool future, bool on_fault, uint64_t limit);
Result<void> unlock_all();
// Makes the pages of [addr, addr + len) resident, those the application may read
// (MAP_POPULATE, MAP_LOCKED, mlock): a fault on the way ends it quietly.
void populate(uint64_t addr, uint64_t len);
Result<void> sync(uint64_t addr, uint64_t len, int flags);
// mincore(2): one byte per page into LibOS memory `vec`.
Result<void> residency(uint64_t addr, uint64_t len, uint8_t* vec);

// NUMA policies of ranges (mbind): an encoded policy (sys/numa.cpp) per VMA, 0 for none.
// set_policy: EFAULT when [addr, addr + len) has an unmapped hole. policy_at: EFAULT when
// addr is not mapped. home_policy: whether every VMA in the range with a policy has one
// `accept` allows (set_mempolicy_home_node's check), the others untouched.
Result<void> set_policy(uint64_t addr, uint64_t len, uint32_t policy);
Result<uint32_t> policy_at(uint64_t addr);
Result<void> check_policies(uint64_t addr, uint64_t len, bool (*accept)(uint32_t policy));

// execve: unmaps every mapping of the application, forgets the heap and mlockall's
// MCL_FUTURE, and starts VmPeak anew.
void unmap_all();

// A copy of one VMA, for a checkpoint (the file gets its own reference).
struct VmaSnapshot {
    uint64_t start, end;
    int prot;
    uint32_t flags;
    fs::File* file;
    uint64_t offset;
    PalHandle* handle = nullptr;  // map_restored: the host object to map when `file` is null
};
// Calls `fn(snapshot, arg)` for every VMA in address order with the VMA lock held shared:
// nothing maps or unmaps meanwhile, as Linux holds the mm during fork. `fn` may read the
// memory and make PAL calls; a failure stops the walk and is returned.
Result<void> for_each_vma(Result<void> (*fn)(const VmaSnapshot& vma, void* arg), void* arg);
// Restores one VMA of a checkpoint at its address (nothing of the application's may be
// there): anonymous memory, or `file` mapped at `offset`, read-write until protect_restored
// gives it its own protection. The heap's bounds come with restore_heap.
Result<void> map_restored(const VmaSnapshot& vma);
Result<void> restore_heap(uint64_t start, uint64_t end, uint64_t limit, uint64_t mapped);
void heap_bounds(uint64_t* start, uint64_t* end, uint64_t* limit, uint64_t* mapped);

// Records a mapping made by the LibOS itself for the application (ELF segments, the
// stack, the vDSO, the heap reservation); `name` for areas without a file ("[stack]").
Result<void> record(uint64_t start, uint64_t end, int prot, uint32_t flags, fs::File* file, uint64_t offset);

// The heap: set up once at load, then moved by brk(2).
Result<void> heap_init(uint64_t start, uint64_t max_size);
uint64_t heap_brk(uint64_t want);

}  // namespace carbyne::libos::mm
