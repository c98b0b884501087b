// The LibOS's page arena (see arena.h): a bump pointer over the reservation and a sorted,
// coalescing list of the ranges given back.
#include "arena.h"

#include <libos/log.h>
#include <libos/pal.h>
#include <libos/lock.h>

namespace carbyne::libos::mm {

namespace {

// Address space only (no memory is committed until used); the LibOS's heap, its tmpfs
// data and its caches all live here.
constexpr size_t kArenaSize = size_t{64} << 30;
constexpr size_t kPage = 4096;
constexpr size_t kMaxFreeRanges = 4096;

struct Range {
    uint64_t start, end;
};

struct Arena {
    Spinlock lock{LockRank::Arena};
    uint64_t start, end;  // the reservation
    uint64_t bump;        // never used beyond this
    Range free[kMaxFreeRanges];  // sorted by start, never adjacent
    size_t free_count;
};

constinit Arena g_arena = {};

// A free range of at least `size` bytes (first fit), taken from its front; 0 when none.
uint64_t take_free_locked(size_t size) {
    for (size_t i = 0; i < g_arena.free_count; i++) {
        Range& r = g_arena.free[i];
        if (r.end - r.start < size)
            continue;
        uint64_t p = r.start;
        r.start += size;
        if (r.start == r.end) {
            for (size_t j = i + 1; j < g_arena.free_count; j++)
                g_arena.free[j - 1] = g_arena.free[j];
            g_arena.free_count--;
        }
        return p;
    }
    return 0;
}

// Puts [start, end) back, merging with its neighbours; false when the list is full (the
// range then stays reserved but unused).
bool give_back_locked(uint64_t start, uint64_t end) {
    if (end == g_arena.bump) {
        g_arena.bump = start;  // the top of the used part: simply lower it
        if (g_arena.free_count && g_arena.free[g_arena.free_count - 1].end == start) {
            g_arena.bump = g_arena.free[g_arena.free_count - 1].start;
            g_arena.free_count--;
        }
        return true;
    }
    size_t i = 0;
    while (i < g_arena.free_count && g_arena.free[i].start < start)
        i++;
    bool joins_prev = i > 0 && g_arena.free[i - 1].end == start;
    bool joins_next = i < g_arena.free_count && g_arena.free[i].start == end;
    if (joins_prev && joins_next) {
        g_arena.free[i - 1].end = g_arena.free[i].end;
        for (size_t j = i + 1; j < g_arena.free_count; j++)
            g_arena.free[j - 1] = g_arena.free[j];
        g_arena.free_count--;
    } else if (joins_prev) {
        g_arena.free[i - 1].end = end;
    } else if (joins_next) {
        g_arena.free[i].start = start;
    } else {
        if (g_arena.free_count == kMaxFreeRanges)
            return false;
        for (size_t j = g_arena.free_count; j > i; j--)
            g_arena.free[j] = g_arena.free[j - 1];
        g_arena.free[i] = Range{start, end};
        g_arena.free_count++;
    }
    return true;
}

}  // namespace

Result<void> arena_init() {
    void* p = nullptr;
    TRY(pal_result(g_pal->memory_alloc(nullptr, kArenaSize, PAL_PROT_NONE, PAL_MEM_NORESERVE, &p)));
    g_arena.start = g_arena.bump = uint64_t(p);
    g_arena.end = g_arena.start + kArenaSize;
    return {};
}

void* arena_alloc(size_t size) {
    size = (size + kPage - 1) & ~(kPage - 1);
    if (!size)
        return nullptr;
    uint64_t p;
    {
        SpinGuard g(g_arena.lock);
        p = take_free_locked(size);
        if (!p && g_arena.end - g_arena.bump >= size) {
            p = g_arena.bump;
            g_arena.bump += size;
        }
    }
    if (!p) {
        log_warning("the LibOS arena (%lu GiB) is full", uint64_t(kArenaSize >> 30));
        return nullptr;
    }
    // The pages are the LibOS's alone from here: no lock is needed to open them.
    if (g_pal->memory_protect(reinterpret_cast<void*>(p), size, PAL_PROT_READ | PAL_PROT_WRITE) != PAL_OK) {
        arena_free(reinterpret_cast<void*>(p), size);
        return nullptr;
    }
    return reinterpret_cast<void*>(p);
}

void arena_free(void* p, size_t size) {
    size = (size + kPage - 1) & ~(kPage - 1);
    if (!p || !size)
        return;
    // Back to the host (they read as zeros when used again), and closed.
    g_pal->memory_advise(p, size, PAL_ADVICE_DONTNEED);
    g_pal->memory_protect(p, size, PAL_PROT_NONE);
    uint64_t start = uint64_t(p);
    SpinGuard g(g_arena.lock);
    (void)give_back_locked(start, start + size);
}

bool arena_overlaps(uint64_t addr, size_t size) {
    return addr < g_arena.end && addr + size > g_arena.start;
}

}  // namespace carbyne::libos::mm
