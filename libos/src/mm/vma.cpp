// The VMA list (vma.h) and the memory manager's operations on it (mm.h).
//
// Lock order: g_vma_lock (vma.h), then the heap's lock (kmalloc may run under it). File
// references dropped by an operation are released after the lock.
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <libos/lock.h>
#include <libos/user.h>
#include <linux/mman.h>

#include "../fs/file.h"
#include "../fs/path.h"
#include "mm.h"

namespace carbyne::libos::mm {

namespace {

constexpr size_t kMaxVmas = 65530;  // vm.max_map_count

struct Vma {
    uint64_t start, end;
    int prot;
    uint32_t flags;
    fs::File* file;  // referenced; null for anonymous memory
    uint64_t offset;
    uint64_t dev, ino;
    uint32_t policy = 0;  // mbind's NUMA policy (sys/numa.cpp's encoding), 0: none
};

struct VmaList {
    Vma* v;
    size_t count;
    size_t capacity;
};

RwLock g_vma_lock{LockRank::Vma};
constinit VmaList g_list{};

struct Heap {
    uint64_t start, end, limit, mapped;
};
constinit Heap g_heap{};

// Files whose references an operation dropped; released once the lock is gone.
struct Released {
    fs::File* files[8];
    size_t count = 0;
    Released* spill = nullptr;
    ~Released() {
        for (size_t i = 0; i < count; i++)
            files[i]->unref();
        destroy(spill);
    }
    void add(fs::File* f) {
        if (!f)
            return;
        if (count < 8) {
            files[count++] = f;
            return;
        }
        if (!spill)
            spill = make<Released>();
        if (spill)
            spill->add(f);
        else
            f->unref();  // out of memory: drop it here (rare; the lock order allows it)
    }
};

// Index of the first VMA ending after addr (binary search).
size_t first_after(uint64_t addr) {
    size_t lo = 0, hi = g_list.count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g_list.v[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

Result<void> ensure_capacity(size_t extra) {
    if (g_list.count + extra <= g_list.capacity)
        return {};
    if (g_list.count + extra > kMaxVmas)
        return Errno(ENOMEM);
    size_t cap = g_list.capacity ? g_list.capacity * 2 : 64;
    while (cap < g_list.count + extra)
        cap *= 2;
    auto* v = static_cast<Vma*>(kmalloc(cap * sizeof(Vma)));
    if (!v)
        return Errno(ENOMEM);
    if (g_list.count)
        memcpy(v, g_list.v, g_list.count * sizeof(Vma));
    kfree(g_list.v);
    g_list.v = v;
    g_list.capacity = cap;
    return {};
}

void insert_at(size_t i, const Vma& vma) {
    memmove(&g_list.v[i + 1], &g_list.v[i], (g_list.count - i) * sizeof(Vma));
    g_list.v[i] = vma;
    g_list.count++;
}

void erase_at(size_t i) {
    memmove(&g_list.v[i], &g_list.v[i + 1], (g_list.count - i - 1) * sizeof(Vma));
    g_list.count--;
}

// Splits the VMA containing `addr` (strictly inside it) in two; needs one free slot.
void split_at(uint64_t addr) {
    size_t i = first_after(addr);
    if (i == g_list.count || g_list.v[i].start >= addr)
        return;
    Vma right = g_list.v[i];
    right.start = addr;
    if (right.file) {
        right.offset += addr - g_list.v[i].start;
        right.file->ref();
    }
    g_list.v[i].end = addr;
    insert_at(i + 1, right);
}

// Removes [start, end) from the list (not from the host).
Result<void> cut(uint64_t start, uint64_t end, Released& released) {
    TRY(ensure_capacity(2));
    split_at(start);
    split_at(end);
    size_t i = first_after(start);
    while (i < g_list.count && g_list.v[i].start < end) {
        released.add(g_list.v[i].file);
        erase_at(i);
    }
    return {};
}

// (kVmaWritten is history, not a property Linux would tell two areas apart by.)
bool mergeable(const Vma& a, const Vma& b) {
    return a.end == b.start && a.prot == b.prot && (a.flags | kVmaWritten) == (b.flags | kVmaWritten) &&
           a.file == b.file && a.policy == b.policy && (!a.file || a.offset + (a.end - a.start) == b.offset);
}

// Joins the VMA at i with its neighbours where they continue each other.
void merge_around(size_t i, Released& released) {
    if (i + 1 < g_list.count && mergeable(g_list.v[i], g_list.v[i + 1])) {
        g_list.v[i].end = g_list.v[i + 1].end;
        g_list.v[i].flags |= g_list.v[i + 1].flags & kVmaWritten;
        released.add(g_list.v[i + 1].file);
        erase_at(i + 1);
    }
    if (i > 0 && mergeable(g_list.v[i - 1], g_list.v[i])) {
        g_list.v[i - 1].end = g_list.v[i].end;
        g_list.v[i - 1].flags |= g_list.v[i].flags & kVmaWritten;
        released.add(g_list.v[i].file);
        erase_at(i);
    }
}

uint64_t g_peak_size;  // VmPeak, under g_vma_lock
uint64_t g_peak_rss;   // VmHWM as far as seen (atomic)

// The mapped bytes now (VmSize): every mapping but the LibOS's reservations.
uint64_t mapped_size_locked() {
    uint64_t size = 0;
    for (size_t i = 0; i < g_list.count; i++)
        if (!(g_list.v[i].flags & kVmaReserved))
            size += g_list.v[i].end - g_list.v[i].start;
    return size;
}

Result<void> add(const Vma& vma, Released& released) {
    TRY(ensure_capacity(1));
    size_t i = first_after(vma.start);
    insert_at(i, vma);
    if (vma.file)
        vma.file->ref();
    merge_around(i, released);
    // Every mapping grows through here: the peak is only ever reached here.
    if (!(vma.flags & kVmaReserved)) {
        uint64_t size = mapped_size_locked();
        if (size > g_peak_size)
            g_peak_size = size;
    }
    return {};
}

// Applies `change` to every VMA of [start, end), split at both ends first (two free slots
// needed: ensure_capacity), then joins the edges with their neighbours where they match.
template <typename F>
void change_range(uint64_t start, uint64_t end, Released& released, F change) {
    split_at(start);
    split_at(end);
    for (size_t i = first_after(start); i < g_list.count && g_list.v[i].start < end; i++)
        change(g_list.v[i]);
    size_t last = first_after(end - 1);
    merge_around(last, released);
    size_t first = first_after(start);
    if (first < g_list.count)
        merge_around(first, released);
}

// True when [start, end) is covered by VMAs without a gap.
bool covered(uint64_t start, uint64_t end) {
    uint64_t at = start;
    for (size_t i = first_after(start); i < g_list.count && at < end; i++) {
        if (g_list.v[i].start > at)
            return false;
        at = g_list.v[i].end;
    }
    return at >= end;
}

bool overlaps_any(uint64_t start, uint64_t end) {
    size_t i = first_after(start);
    return i < g_list.count && g_list.v[i].start < end;
}

// The device and inode /proc/self/maps shows for a file: asked before the VMA lock, since
// a file's stat may call the PAL or take sleeping locks.
struct FileIds {
    uint64_t dev = 0, ino = 0;
    explicit FileIds(fs::File* file) {
        fs::Stat st;
        if (file && file->stat(&st).ok()) {
            dev = st.dev;
            ino = st.ino;
        }
    }
};

Vma make_vma(uint64_t start, uint64_t end, int prot, uint32_t flags, fs::File* file, uint64_t offset,
             const FileIds& ids) {
    return Vma{start, end, prot, flags, file, offset, ids.dev, ids.ino};
}

// The host side of an unmap: only ranges the list knows are the application's.
void host_unmap_known(uint64_t start, uint64_t end) {
    for (size_t i = first_after(start); i < g_list.count && g_list.v[i].start < end; i++) {
        uint64_t s = g_list.v[i].start > start ? g_list.v[i].start : start;
        uint64_t e = g_list.v[i].end < end ? g_list.v[i].end : end;
        g_pal->memory_free(reinterpret_cast<void*>(s), e - s);
    }
}

}  // namespace

namespace {

// mlockall(MCL_FUTURE): new mappings are locked (and populated, unless MCL_ONFAULT).
bool g_lock_future;
bool g_lock_future_on_fault;

Result<uint64_t> map_vma(uint64_t addr, uint64_t len, int prot, uint32_t map_flags, fs::File* file,
                         uint64_t offset) {
    bool fixed = (map_flags & MAP_FIXED) != 0;
    bool noreplace = (map_flags & MAP_FIXED_NOREPLACE) != 0;
    bool shared = (map_flags & MAP_TYPE) != MAP_PRIVATE;
    uint32_t flags = (shared ? uint32_t(kVmaShared) : 0u) | (file ? 0u : uint32_t(kVmaAnonymous)) |
                     ((map_flags & MAP_GROWSDOWN) ? uint32_t(kVmaGrowsDown) : 0u) |
                     ((map_flags & MAP_NORESERVE) ? uint32_t(kVmaNoReserve) : 0u) |
                     ((prot & PROT_WRITE) ? uint32_t(kVmaWritten) : 0u) |
                     ((map_flags & MAP_LOCKED) || __atomic_load_n(&g_lock_future, __ATOMIC_RELAXED)
                          ? uint32_t(kVmaLocked)
                          : 0u);
    // Before the VMA lock: a tmpfs file moves its data to host memory here (PAL calls,
    // sleeping locks).
    PalHandle* handle = file ? TRY(file->map_handle()) : nullptr;
    FileIds ids(file);
    Released released;
    LockGuard g(g_vma_lock);
    if ((fixed || noreplace) && !user_range_ok(addr, len))
        return Errno(fixed ? EINVAL : ENOMEM);
    if (noreplace && overlaps_any(addr, addr + len))
        return Errno(EEXIST);
    TRY(ensure_capacity(3));
    if (fixed) {
        // Replace what the application had there; whatever else is there (LibOS memory)
        // is not the application's to replace: the host call below then fails.
        host_unmap_known(addr, addr + len);
        TRY(cut(addr, addr + len, released));
    }
    uint32_t pal_flags = (fixed || noreplace ? PAL_MEM_NOREPLACE : 0) |
                         ((map_flags & MAP_NORESERVE) ? PAL_MEM_NORESERVE : 0) | (shared && file ? PAL_MEM_SHARED : 0);
    void* hint = (fixed || noreplace || user_range_ok(addr, len)) ? reinterpret_cast<void*>(addr) : nullptr;
    void* out = nullptr;
    PalError e = file ? g_pal->file_map(handle, hint, len, offset, prot, pal_flags, &out)
                      : g_pal->memory_alloc(hint, len, prot, pal_flags, &out);
    if (e == PAL_E_EXISTS)
        return Errno(fixed ? ENOMEM : EEXIST);
    TRY(pal_result(e));
    uint64_t start = uint64_t(out);
    auto added = add(make_vma(start, start + len, prot, flags, file, offset, ids), released);
    if (!added.ok()) {
        g_pal->memory_free(out, len);
        return added.error();
    }
    return start;
}

}  // namespace

Result<uint64_t> map(uint64_t addr, uint64_t len, int prot, uint32_t map_flags, fs::File* file, uint64_t offset) {
    uint64_t start = TRY(map_vma(addr, len, prot, map_flags, file, offset));
    bool locked = (map_flags & MAP_LOCKED) ||
                  (__atomic_load_n(&g_lock_future, __ATOMIC_RELAXED) && !g_lock_future_on_fault);
    if ((map_flags & MAP_POPULATE) || locked)
        populate(start, len);  // after the VMA lock: it touches the application's pages
    return start;
}

void populate(uint64_t addr, uint64_t len) {
    for (uint64_t page = addr; page < addr + len; page += kPageSize) {
        uint8_t byte;
        if (!copy_from_user(&byte, page, 1).ok())
            return;  // unreadable (PROT_NONE, or unmapped meanwhile): nothing more to make resident
    }
}

Result<void> lock(uint64_t addr, uint64_t len, bool locked, bool on_fault, uint64_t limit) {
    if (addr >= kUserTop || len > kUserTop - addr)
        return Errno(ENOMEM);
    if (!len)
        return {};
    uint64_t end = addr + len;
    {
        Released released;
        LockGuard g(g_vma_lock);
        if (!covered(addr, end))
            return Errno(ENOMEM);
        if (locked) {
            uint64_t already = 0, adding = 0;
            for (size_t i = 0; i < g_list.count; i++) {
                const Vma& v = g_list.v[i];
                if (v.flags & kVmaLocked)
                    already += v.end - v.start;
                else if (v.start < end && v.end > addr)
                    adding += (v.end < end ? v.end : end) - (v.start > addr ? v.start : addr);
            }
            if (already + adding > limit)
                return Errno(ENOMEM);
        }
        TRY(ensure_capacity(2));
        change_range(addr, end, released,
                     [locked](Vma& v) { v.flags = locked ? v.flags | kVmaLocked : v.flags & ~kVmaLocked; });
    }
    if (locked && !on_fault)
        populate(addr, len);
    return {};
}

Result<void> lock_all(bool current, bool future, bool on_fault, uint64_t limit) {
    if (current) {
        uint64_t total = 0;
        {
            LockGuard g(g_vma_lock);
            for (size_t i = 0; i < g_list.count; i++)
                if (!(g_list.v[i].flags & kVmaReserved))
                    total += g_list.v[i].end - g_list.v[i].start;
            if (total > limit)
                return Errno(ENOMEM);
            for (size_t i = 0; i < g_list.count; i++)
                if (!(g_list.v[i].flags & kVmaReserved))
                    g_list.v[i].flags |= kVmaLocked;
        }
        if (!on_fault) {
            // Each mapping as it is now; one unmapped meanwhile just stops its own populate.
            for (size_t i = 0;; i++) {
                uint64_t start, end;
                {
                    LockGuard g(g_vma_lock);
                    if (i >= g_list.count)
                        break;
                    start = g_list.v[i].start;
                    end = g_list.v[i].end;
                    if (g_list.v[i].flags & kVmaReserved)
                        continue;
                }
                populate(start, end - start);
            }
        }
    }
    LockGuard g(g_vma_lock);
    __atomic_store_n(&g_lock_future, future, __ATOMIC_RELAXED);
    g_lock_future_on_fault = future && on_fault;
    return {};
}

Result<void> unlock_all() {
    Released released;
    LockGuard g(g_vma_lock);
    for (size_t i = 0; i < g_list.count; i++)
        g_list.v[i].flags &= ~kVmaLocked;
    // Neighbours that differed only by the lock are one VMA again (from the end: a merge
    // removes entries at or after i).
    for (size_t i = g_list.count; i-- > 0;)
        if (i < g_list.count)
            merge_around(i, released);
    __atomic_store_n(&g_lock_future, false, __ATOMIC_RELAXED);
    g_lock_future_on_fault = false;
    return {};
}

Result<void> record(uint64_t start, uint64_t end, int prot, uint32_t flags, fs::File* file, uint64_t offset) {
    if (prot & PROT_WRITE)
        flags |= kVmaWritten;
    FileIds ids(file);
    Released released;
    LockGuard g(g_vma_lock);
    TRY(cut(start, end, released));
    return add(make_vma(start, end, prot, flags, file, offset, ids), released);
}

Result<void> for_each_vma(Result<void> (*fn)(const VmaSnapshot& vma, void* arg), void* arg) {
    SharedGuard g(g_vma_lock);
    for (size_t i = 0; i < g_list.count; i++) {
        const Vma& v = g_list.v[i];
        TRY(fn(VmaSnapshot{v.start, v.end, v.prot, v.flags, v.file, v.offset}, arg));
    }
    return {};
}

Result<void> map_restored(const VmaSnapshot& vma) {
    uint64_t len = vma.end - vma.start;
    if (!page_aligned(vma.start) || !page_aligned(vma.end) || vma.end <= vma.start || !user_range_ok(vma.start, len))
        return Errno(EINVAL);
    bool shared = (vma.flags & kVmaShared) != 0;
    PalHandle* handle = vma.file ? TRY(vma.file->map_handle()) : vma.handle;
    FileIds ids(vma.file);
    Released released;
    LockGuard g(g_vma_lock);
    if (overlaps_any(vma.start, vma.end))
        return Errno(EINVAL);
    TRY(ensure_capacity(3));
    // Writable while the pages arrive (a shared file mapping gets nothing: the file has it).
    int prot = shared && handle ? vma.prot : vma.prot | PROT_READ | PROT_WRITE;
    if (vma.prot == PROT_NONE)
        prot = PROT_NONE;
    uint32_t pal_flags = PAL_MEM_NOREPLACE | ((vma.flags & kVmaNoReserve) ? PAL_MEM_NORESERVE : 0) |
                         (shared && handle ? PAL_MEM_SHARED : 0);
    void* out = nullptr;
    PalError e = handle ? g_pal->file_map(handle, reinterpret_cast<void*>(vma.start), len, vma.offset, prot,
                                            pal_flags, &out)
                          : g_pal->memory_alloc(reinterpret_cast<void*>(vma.start), len, prot, pal_flags, &out);
    TRY(pal_result(e));
    if (vma.file)
        vma.file->ref();
    auto added = add(make_vma(vma.start, vma.end, vma.prot, vma.flags, vma.file, vma.offset, ids), released);
    if (!added.ok()) {
        g_pal->memory_free(out, len);
        if (vma.file)
            released.add(vma.file);
        return added.error();
    }
    return {};
}

Result<void> restore_heap(uint64_t start, uint64_t end, uint64_t limit, uint64_t mapped) {
    if (start > end || end > limit || mapped < start || mapped > limit)
        return Errno(EINVAL);
    LockGuard g(g_vma_lock);
    g_heap = Heap{start, end, limit, mapped};
    return {};
}

void heap_bounds(uint64_t* start, uint64_t* end, uint64_t* limit, uint64_t* mapped) {
    SharedGuard g(g_vma_lock);
    *start = g_heap.start;
    *end = g_heap.end;
    *limit = g_heap.limit;
    *mapped = g_heap.mapped;
}

void unmap_all() {
    Released released;
    LockGuard g(g_vma_lock);
    for (size_t i = 0; i < g_list.count; i++) {
        const Vma& v = g_list.v[i];
        g_pal->memory_free(reinterpret_cast<void*>(v.start), v.end - v.start);
        released.add(v.file);
    }
    g_list.count = 0;
    g_heap = Heap{};
    g_lock_future = g_lock_future_on_fault = false;
    g_peak_size = 0;
    __atomic_store_n(&g_peak_rss, 0, __ATOMIC_RELAXED);
}

Result<void> unmap(uint64_t addr, uint64_t len) {
    if (!page_aligned(addr) || !len || addr >= kUserTop || len > kUserTop - addr)
        return Errno(EINVAL);
    Released released;
    LockGuard g(g_vma_lock);
    host_unmap_known(addr, addr + len);
    return cut(addr, addr + len, released);
}

Result<void> protect(uint64_t addr, uint64_t len, int prot) {
    if (!page_aligned(addr) || addr >= kUserTop || len > kUserTop - addr)
        return Errno(EINVAL);
    if (!len)
        return {};
    uint64_t end = addr + len;
    Released released;
    LockGuard g(g_vma_lock);
    if (!covered(addr, end))
        return Errno(ENOMEM);
    for (size_t i = first_after(addr); i < g_list.count && g_list.v[i].start < end; i++) {
        const Vma& v = g_list.v[i];
        if ((v.flags & kVmaShared) && v.file && (prot & PROT_WRITE) && !v.file->writable())
            return Errno(EACCES);
    }
    TRY(ensure_capacity(2));
    TRY(pal_result(g_pal->memory_protect(reinterpret_cast<void*>(addr), len, prot)));
    change_range(addr, end, released, [prot](Vma& v) {
        v.prot = prot;
        if (prot & PROT_WRITE)
            v.flags |= kVmaWritten;
    });
    return {};
}

Result<uint64_t> remap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, uint32_t flags, uint64_t new_addr) {
    Released released;
    LockGuard g(g_vma_lock);
    size_t i = first_after(old_addr);
    if (i == g_list.count || g_list.v[i].start > old_addr || g_list.v[i].end < old_addr + old_len)
        return Errno(EFAULT);  // the old range must lie in one mapping
    Vma vma = g_list.v[i];
    if (flags & MREMAP_FIXED) {
        if (!user_range_ok(new_addr, new_len) ||
            (new_addr < old_addr + old_len && old_addr < new_addr + new_len))
            return Errno(EINVAL);
        host_unmap_known(new_addr, new_addr + new_len);
        TRY(cut(new_addr, new_addr + new_len, released));
    } else if (new_len > old_len && !(flags & MREMAP_MAYMOVE) && overlaps_any(old_addr + old_len, old_addr + new_len)) {
        return Errno(ENOMEM);
    }
    TRY(ensure_capacity(3));
    uint32_t pal_flags = ((flags & MREMAP_MAYMOVE) ? PAL_REMAP_MAYMOVE : 0) | ((flags & MREMAP_FIXED) ? PAL_REMAP_FIXED : 0);
    void* out = nullptr;
    PalError e = g_pal->memory_remap(reinterpret_cast<void*>(old_addr), old_len, new_len, pal_flags,
                                     reinterpret_cast<void*>(new_addr), &out);
    if (e != PAL_OK)
        return e == PAL_E_NOMEM || e == PAL_E_EXISTS ? Errno(ENOMEM) : errno_from_pal(e);
    uint64_t start = uint64_t(out);
    vma.offset += old_addr - vma.start;
    vma.start = start;
    vma.end = start + new_len;
    if (vma.file)
        vma.file->ref();  // the cut below releases the old piece's reference
    TRY(cut(old_addr, old_addr + old_len, released));
    TRY(cut(start, start + new_len, released));
    auto added = add(vma, released);
    if (vma.file)
        vma.file->unref();  // add() took its own
    TRY(added);
    return start;
}

Result<void> advise(uint64_t addr, uint64_t len, int advice) {
    if (!page_aligned(addr))
        return Errno(EINVAL);
    len = page_up(len);
    if (!len)
        return {};
    SharedGuard g(g_vma_lock);
    if (!covered(addr, addr + len))
        return Errno(ENOMEM);
    switch (advice) {
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
    case MADV_WILLNEED:
    case MADV_DONTNEED:
    case MADV_FREE:
        return pal_result(g_pal->memory_advise(reinterpret_cast<void*>(addr), len, advice));
    case MADV_DONTFORK:
    case MADV_DOFORK:
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE:
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
    case MADV_COLD:
    case MADV_PAGEOUT:
        return {};  // hints without an effect the application can observe here
    default:
        return Errno(EINVAL);
    }
}

Result<void> sync(uint64_t addr, uint64_t len, int flags) {
    if (!page_aligned(addr) || (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return Errno(EINVAL);
    len = page_up(len);
    if (!len)
        return {};
    SharedGuard g(g_vma_lock);
    if (!covered(addr, addr + len))
        return Errno(ENOMEM);
    if (flags & MS_INVALIDATE) {
        // Locked pages cannot be invalidated (msync(2): EBUSY).
        for (size_t i = first_after(addr); i < g_list.count && g_list.v[i].start < addr + len; i++)
            if (g_list.v[i].flags & kVmaLocked)
                return Errno(EBUSY);
    }
    int pal_flags = ((flags & MS_ASYNC) ? PAL_SYNC_ASYNC : 0) | ((flags & MS_INVALIDATE) ? PAL_SYNC_INVALIDATE : 0) |
                    ((flags & MS_SYNC) ? PAL_SYNC_SYNC : 0);
    return pal_result(g_pal->memory_sync(reinterpret_cast<void*>(addr), len, pal_flags));
}

Result<void> set_policy(uint64_t addr, uint64_t len, uint32_t policy) {
    Released released;
    LockGuard g(g_vma_lock);
    if (!covered(addr, addr + len))
        return Errno(EFAULT);
    TRY(ensure_capacity(2));
    change_range(addr, addr + len, released, [policy](Vma& v) { v.policy = policy; });
    return {};
}

Result<uint32_t> policy_at(uint64_t addr) {
    SharedGuard g(g_vma_lock);
    size_t i = first_after(addr);
    if (i == g_list.count || g_list.v[i].start > addr || (g_list.v[i].flags & kVmaReserved))
        return Errno(EFAULT);
    return g_list.v[i].policy;
}

Result<void> check_policies(uint64_t addr, uint64_t len, bool (*accept)(uint32_t policy)) {
    SharedGuard g(g_vma_lock);
    for (size_t i = first_after(addr); i < g_list.count && g_list.v[i].start < addr + len; i++)
        if (g_list.v[i].policy && !accept(g_list.v[i].policy))
            return Errno(EOPNOTSUPP);
    return {};
}

Result<void> residency(uint64_t addr, uint64_t len, uint8_t* vec) {
    if (!page_aligned(addr))
        return Errno(EINVAL);
    len = page_up(len);
    SharedGuard g(g_vma_lock);
    if (!covered(addr, addr + len))
        return Errno(ENOMEM);
    return pal_result(g_pal->memory_residency(reinterpret_cast<void*>(addr), len, vec));
}

Result<void> heap_init(uint64_t start, uint64_t max_size) {
    void* p = nullptr;
    if (g_pal->memory_alloc(reinterpret_cast<void*>(start), max_size, PAL_PROT_NONE,
                            PAL_MEM_NOREPLACE | PAL_MEM_NORESERVE, &p) != PAL_OK) {
        // Something is mapped right after the program: put the heap elsewhere.
        TRY(pal_result(g_pal->memory_alloc(nullptr, max_size, PAL_PROT_NONE, PAL_MEM_NORESERVE, &p)));
        start = uint64_t(p);
    }
    if (max_size)
        TRY(record(start, start + max_size, PROT_NONE, kVmaReserved | kVmaAnonymous | kVmaNoReserve, nullptr, 0));
    LockGuard g(g_vma_lock);
    g_heap = Heap{start, start, start + max_size, start};
    return {};
}

uint64_t heap_brk(uint64_t want) {
    Released released;
    LockGuard g(g_vma_lock);
    Heap& h = g_heap;
    if (want < h.start || want > h.limit)
        return h.end;
    uint64_t need = page_up(want);
    if (need != h.mapped && !ensure_capacity(3).ok())
        return h.end;
    void* out;
    if (need > h.mapped) {
        if (g_pal->memory_alloc(reinterpret_cast<void*>(h.mapped), need - h.mapped, PAL_PROT_READ | PAL_PROT_WRITE,
                                PAL_MEM_FIXED, &out) != PAL_OK)
            return h.end;
    } else if (need < h.mapped) {
        // Give the pages back: the next growth must see zeros, as on Linux.
        if (g_pal->memory_alloc(reinterpret_cast<void*>(need), h.mapped - need, PAL_PROT_NONE,
                                PAL_MEM_FIXED | PAL_MEM_NORESERVE, &out) != PAL_OK)
            return h.end;
    }
    if (need != h.mapped) {
        (void)cut(h.start, h.limit, released);
        if (need > h.start)
            (void)add(Vma{h.start, need, PROT_READ | PROT_WRITE, kVmaHeap | kVmaAnonymous, nullptr, 0, 0, 0}, released);
        if (need < h.limit)
            (void)add(Vma{need, h.limit, PROT_NONE, kVmaReserved | kVmaAnonymous | kVmaNoReserve, nullptr, 0, 0, 0},
                      released);
        h.mapped = need;
    }
    h.end = want;
    return want;
}

size_t format_maps(char* buf, size_t size) {
    size_t n = 0;
    auto* path = static_cast<char*>(kmalloc(fs::kPathMax + 10));  // a file's, " (deleted)"
    HeapGuard path_guard{path};
    auto room = [&]() { return n < size ? size - n : 0; };
    SharedGuard g(g_vma_lock);
    for (size_t i = 0; i < g_list.count; i++) {
        const Vma& v = g_list.v[i];
        if (v.flags & kVmaReserved)
            continue;
        bool deleted = false;
        bool named = v.file && path && v.file->path(path, fs::kPathMax, &deleted).ok();
        if (named && deleted)
            strlcpy(path + strlen(path), " (deleted)", 11);
        const char* name = named                    ? path
                           : (v.flags & kVmaHeap)   ? "[heap]"
                           : (v.flags & kVmaStack)  ? "[stack]"
                           : (v.flags & kVmaVdso)   ? "[vdso]"
                                                    : "";
        uint64_t dev = v.dev;
        size_t line_start = n;
        n += format(buf + (n < size ? n : size), room(), "%08lx-%08lx %c%c%c%c %08lx %02lx:%02lx %lu ", v.start, v.end,
                    (v.prot & PROT_READ) ? 'r' : '-', (v.prot & PROT_WRITE) ? 'w' : '-',
                    (v.prot & PROT_EXEC) ? 'x' : '-', (v.flags & kVmaShared) ? 's' : 'p', v.file ? v.offset : 0,
                    (dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00), v.ino);
        if (name[0]) {
            // Linux pads the fixed part to 72 columns, then a space, then the name.
            int pad = int(72 - (n - line_start));
            n += format(buf + (n < size ? n : size), room(), "%*s %s", pad > 0 ? pad : 0, "", name);
        }
        n += format(buf + (n < size ? n : size), room(), "\n");
    }
    if (size)
        buf[n < size ? n : size - 1] = '\0';
    return n;
}

Totals totals() {
    Totals t{};
    SharedGuard g(g_vma_lock);
    for (size_t i = 0; i < g_list.count; i++) {
        const Vma& v = g_list.v[i];
        uint64_t len = v.end - v.start;
        if (v.flags & kVmaReserved)
            continue;
        t.size += len;
        if (v.flags & kVmaStack)
            t.stack += len;
        else if ((v.prot & PROT_WRITE) && !(v.flags & kVmaShared))
            t.data += len;
        if (v.file && (v.prot & PROT_EXEC))
            t.exec += len;
        if (v.flags & kVmaLocked)
            t.locked += len;
    }
    t.peak = g_peak_size > t.size ? g_peak_size : t.size;
    return t;
}

Residency residency_totals() {
    Residency r{};
    constexpr size_t kBatch = 4096;  // pages per host call
    uint8_t vec[kBatch];
    {
        SharedGuard g(g_vma_lock);
        for (size_t i = 0; i < g_list.count; i++) {
            const Vma& v = g_list.v[i];
            if (v.flags & kVmaReserved)
                continue;
            uint64_t* kind = v.file ? &r.file : (v.flags & kVmaShared) ? &r.shmem : &r.anon;
            for (uint64_t at = v.start; at < v.end; at += kBatch * kPageSize) {
                uint64_t len = v.end - at < kBatch * kPageSize ? v.end - at : kBatch * kPageSize;
                if (g_pal->memory_residency(reinterpret_cast<void*>(at), len, vec) != PAL_OK)
                    continue;
                for (size_t p = 0; p < len / kPageSize; p++)
                    *kind += (vec[p] & 1) ? kPageSize : 0;
            }
        }
    }
    uint64_t total = r.total();
    uint64_t seen = __atomic_load_n(&g_peak_rss, __ATOMIC_RELAXED);
    while (total > seen && !__atomic_compare_exchange_n(&g_peak_rss, &seen, total, true, __ATOMIC_RELAXED,
                                                        __ATOMIC_RELAXED)) {
    }
    r.hwm = total > seen ? total : seen;
    return r;
}

MemoryFigures memory_figures() {
    constexpr uint64_t kTotal = 8ull << 30;
    uint64_t used = totals().size;
    return {kTotal, used < kTotal ? kTotal - used : 0};
}

}  // namespace carbyne::libos::mm
