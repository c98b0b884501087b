// tmpfs page store: a pool of 4 KiB pages carved from large PAL mappings, and the radix
// tree that maps a file's page numbers to them. The pool lock is a leaf.
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/lock.h>

#include "../mm/arena.h"
#include "tmpfs_node.h"

namespace carbyne::libos::fs::tmpfs {

namespace {

// Fresh pages are handed out from the newest chunk untouched (the host maps them zeroed and
// only commits what is written). Freed pages are kept for reuse, in two kinds:
//  - pages that may hold data go on a list linked through the pages themselves (they are
//    committed already) and are zeroed when reused;
//  - pages that hold only zeros, most never touched (fallocated and not written), must not
//    be touched by freeing, or freeing a large fallocate would commit all of it: they are
//    kept as runs of neighbouring pages in an array on the LibOS heap, and reused as they are.
// FIXME: freed pages are kept for reuse and never returned to the host, as with the heap.
constexpr size_t kChunkSize = 1u << 20;
constexpr size_t kMinZeroRuns = 64;

struct FreePage {
    FreePage* next;
};

struct ZeroRun {
    uintptr_t start;
    uint64_t pages;
};

struct Pool {
    FreePage* free;
    ZeroRun* zero;  // kmalloc'ed, `zero_room` long
    size_t zero_count;
    size_t zero_room;
    uint8_t* bump;
    uint8_t* bump_end;
};

Guarded<Pool> g_pool{LockRank::TmpfsPages};

// Adds a page to the last zero run when it borders on it, else starts a run if there is
// room; false when there is none.
bool add_zero_locked(Pool& pool, uintptr_t page) {
    if (pool.zero_count) {
        ZeroRun& last = pool.zero[pool.zero_count - 1];
        if (last.start + last.pages * kPageSize == page) {
            last.pages++;
            return true;
        }
        if (page + kPageSize == last.start) {
            last.start = page;
            last.pages++;
            return true;
        }
    }
    if (pool.zero_count == pool.zero_room)
        return false;
    pool.zero[pool.zero_count++] = ZeroRun{page, 1};
    return true;
}

}  // namespace

void* page_alloc() {
    for (;;) {
        bool recycled = false;
        void* p = g_pool.with([&](Pool& pool) -> void* {
            if (FreePage* f = pool.free) {
                pool.free = f->next;
                recycled = true;
                return f;
            }
            if (pool.zero_count) {
                ZeroRun& last = pool.zero[pool.zero_count - 1];
                last.pages--;
                if (!last.pages)
                    pool.zero_count--;
                return reinterpret_cast<void*>(last.start + last.pages * kPageSize);
            }
            if (pool.bump != pool.bump_end) {
                void* q = pool.bump;
                pool.bump += kPageSize;
                return q;
            }
            return nullptr;
        });
        if (p) {
            if (recycled)
                memset(p, 0, kPageSize);
            return p;
        }
        // Refill outside the lock; if another thread refilled meanwhile, give ours back.
        void* chunk = mm::arena_alloc(kChunkSize);
        if (!chunk)
            return nullptr;
        bool used = g_pool.with([&](Pool& pool) {
            if (pool.free || pool.bump != pool.bump_end)
                return false;
            pool.bump = static_cast<uint8_t*>(chunk);
            pool.bump_end = pool.bump + kChunkSize;
            return true;
        });
        if (!used)
            mm::arena_free(chunk, kChunkSize);
    }
}

void page_free(void* page) {
    if (!page)
        return;
    auto* f = static_cast<FreePage*>(page);
    g_pool.with([&](Pool& pool) {
        f->next = pool.free;
        pool.free = f;
    });
}

void page_free_zero(void* page) {
    if (!page)
        return;
    auto at = reinterpret_cast<uintptr_t>(page);
    for (;;) {
        size_t room = 0;
        bool added = g_pool.with([&](Pool& pool) {
            room = pool.zero_room;
            return add_zero_locked(pool, at);
        });
        if (added)
            return;
        // The array is full: a larger one, made outside the lock. Without one, the page
        // joins the other list after all (writing to it).
        size_t want = room ? room * 2 : kMinZeroRuns;
        auto* bigger = static_cast<ZeroRun*>(kmalloc(want * sizeof(ZeroRun)));
        if (!bigger) {
            page_free(page);
            return;
        }
        ZeroRun* unused = g_pool.with([&](Pool& pool) {
            if (pool.zero_room >= want)
                return bigger;  // another thread grew it meanwhile
            if (pool.zero_count)
                memcpy(bigger, pool.zero, pool.zero_count * sizeof(ZeroRun));
            ZeroRun* old = pool.zero;
            pool.zero = bigger;
            pool.zero_room = want;
            return old;
        });
        kfree(unused);
    }
}

uintptr_t PageTree::get(uint64_t index) const {
    if (!m_root || index >= capacity_of(m_height))
        return 0;
    auto* slots = static_cast<const uintptr_t*>(m_root);
    for (unsigned h = m_height; h > 1; h--) {
        uintptr_t child = slots[(index >> (kBits * (h - 1))) & (kFanout - 1)];
        if (!child)
            return 0;
        slots = reinterpret_cast<const uintptr_t*>(child);
    }
    return slots[index & (kFanout - 1)];
}

uintptr_t* PageTree::slot(uint64_t index) {
    if (!m_root) {
        m_root = page_alloc();
        if (!m_root)
            return nullptr;
        m_height = 1;
    }
    while (index >= capacity_of(m_height)) {
        auto* top = static_cast<uintptr_t*>(page_alloc());
        if (!top)
            return nullptr;
        top[0] = reinterpret_cast<uintptr_t>(m_root);
        m_root = top;
        m_height++;
    }
    auto* slots = static_cast<uintptr_t*>(m_root);
    for (unsigned h = m_height; h > 1; h--) {
        uintptr_t& child = slots[(index >> (kBits * (h - 1))) & (kFanout - 1)];
        if (!child) {
            void* node = page_alloc();
            if (!node)
                return nullptr;
            child = reinterpret_cast<uintptr_t>(node);
        }
        slots = reinterpret_cast<uintptr_t*>(child);
    }
    return &slots[index & (kFanout - 1)];
}

uint64_t PageTree::remove_in(void* node, unsigned height, uint64_t base, uint64_t first, uint64_t last,
                             uintptr_t only_flag, bool* now_empty) {
    auto* slots = static_cast<uintptr_t*>(node);
    uint64_t span = capacity_of(height - 1);
    uint64_t lo = (first - base) / span, hi = (last - base) / span;
    uint64_t freed = 0;
    for (uint64_t i = lo; i <= hi; i++) {
        if (!slots[i])
            continue;
        if (height == 1) {
            if (only_flag && !(slots[i] & only_flag))
                continue;
            if (slots[i] & kZero)
                page_free_zero(page_of(slots[i]));
            else
                page_free(page_of(slots[i]));
            slots[i] = 0;
            freed++;
            continue;
        }
        uint64_t child_base = base + i * span;
        uint64_t f = first > child_base ? first : child_base;
        uint64_t l = last < child_base + span - 1 ? last : child_base + span - 1;
        bool child_empty = false;
        freed += remove_in(reinterpret_cast<void*>(slots[i]), height - 1, child_base, f, l, only_flag, &child_empty);
        if (child_empty) {
            page_free(reinterpret_cast<void*>(slots[i]));
            slots[i] = 0;
        }
    }
    bool empty = true;
    for (uint64_t i = 0; i < kFanout && empty; i++)
        empty = slots[i] == 0;
    *now_empty = empty;
    return freed;
}

uint64_t PageTree::remove(uint64_t first, uint64_t last, uintptr_t only_flag) {
    if (!m_root)
        return 0;
    uint64_t top = capacity_of(m_height) - 1;
    if (first > top || first > last)
        return 0;
    bool empty = false;
    uint64_t freed = remove_in(m_root, m_height, 0, first, last < top ? last : top, only_flag, &empty);
    if (empty) {
        page_free(m_root);
        m_root = nullptr;
        m_height = 0;
    }
    return freed;
}

}  // namespace carbyne::libos::fs::tmpfs
