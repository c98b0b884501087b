// Host memory: anonymous mappings, protection, file mappings; the PAL's handle allocator.
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/mman.h>

#include "pal_internal.h"

namespace carbyne::pal {

namespace {

bool page_aligned(uint64_t v) { return (v & (kPageSize - 1)) == 0; }

long mmap_flags(uint32_t pal_flags) {
    long flags = 0;
    if (pal_flags & PAL_MEM_FIXED)
        flags |= MAP_FIXED;
    else if (pal_flags & PAL_MEM_NOREPLACE)
        flags |= MAP_FIXED_NOREPLACE;
    if (pal_flags & PAL_MEM_NORESERVE)
        flags |= MAP_NORESERVE;
    return flags;
}

PalError do_mmap(void* addr, size_t size, int prot, long flags, int fd, uint64_t offset, void** out) {
    if (!size || !page_aligned(size) || !page_aligned(uint64_t(addr)) || !page_aligned(offset))
        return PAL_E_INVAL;
    long ret = host_syscall6(__NR_mmap, long(addr), long(size), prot, flags, fd, long(offset));
    if (host_failed(ret))
        return error_from_host(ret);
    if ((flags & MAP_FIXED_NOREPLACE) && ret != long(addr)) {
        // Kernels before 4.17 treat the flag as a hint: undo and report the collision.
        host_syscall2(__NR_munmap, ret, long(size));
        return PAL_E_EXISTS;
    }
    *out = reinterpret_cast<void*>(ret);
    return PAL_OK;
}

}  // namespace

PalError memory_alloc(void* addr, size_t size, int prot, uint32_t flags, void** out) {
    return do_mmap(addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | mmap_flags(flags), -1, 0, out);
}

PalError memory_free(void* addr, size_t size) {
    if (!page_aligned(uint64_t(addr)) || !page_aligned(size))
        return PAL_E_INVAL;
    return error_from_host(host_syscall2(__NR_munmap, long(addr), long(size)));
}

PalError memory_protect(void* addr, size_t size, int prot) {
    if (!page_aligned(uint64_t(addr)))
        return PAL_E_INVAL;
    return error_from_host(host_syscall3(__NR_mprotect, long(addr), long(size), prot));
}

PalError memory_remap(void* addr, size_t old_size, size_t new_size, uint32_t flags, void* new_addr, void** out) {
    if (!page_aligned(uint64_t(addr)) || !new_size)
        return PAL_E_INVAL;
    long host_flags = ((flags & PAL_REMAP_MAYMOVE) ? MREMAP_MAYMOVE : 0) | ((flags & PAL_REMAP_FIXED) ? MREMAP_FIXED : 0);
    long ret = host_syscall5(__NR_mremap, long(addr), long(old_size), long(new_size), host_flags, long(new_addr));
    if (host_failed(ret))
        return error_from_host(ret);
    *out = reinterpret_cast<void*>(ret);
    return PAL_OK;
}

PalError memory_advise(void* addr, size_t size, int advice) {
    switch (advice) {
    case PAL_ADVICE_NORMAL:
    case PAL_ADVICE_RANDOM:
    case PAL_ADVICE_SEQUENTIAL:
    case PAL_ADVICE_WILLNEED:
    case PAL_ADVICE_DONTNEED:
    case PAL_ADVICE_FREE:
        break;
    default:
        return PAL_E_INVAL;
    }
    return error_from_host(host_syscall3(__NR_madvise, long(addr), long(size), advice));
}

PalError memory_residency(void* addr, size_t size, uint8_t* vec) {
    return error_from_host(host_syscall3(__NR_mincore, long(addr), long(size), long(vec)));
}

PalError memory_sync(void* addr, size_t size, int flags) {
    long host_flags = ((flags & PAL_SYNC_ASYNC) ? MS_ASYNC : 0) | ((flags & PAL_SYNC_INVALIDATE) ? MS_INVALIDATE : 0) |
                      ((flags & PAL_SYNC_SYNC) ? MS_SYNC : 0);
    return error_from_host(host_syscall3(__NR_msync, long(addr), long(size), host_flags));
}

PalError file_map(PalHandle* file, void* addr, size_t size, uint64_t offset, int prot, uint32_t flags,
                  void** out) {
    if (!file || file->type != PAL_TYPE_FILE)
        return PAL_E_BADHANDLE;
    long share = (flags & PAL_MEM_SHARED) ? MAP_SHARED : MAP_PRIVATE;
    return do_mmap(addr, size, prot, share | mmap_flags(flags), file->fd, offset, out);
}

PalError shm_create(size_t size, PalHandle** out) {
    constexpr long kMfdCloexec = 1;  // MFD_CLOEXEC
    long fd = host_syscall2(__NR_memfd_create, long("carbyne-shm"), kMfdCloexec);
    if (host_failed(fd))
        return error_from_host(fd);
    long ret = host_syscall2(__NR_ftruncate, fd, long(size));
    PalHandle* h = host_failed(ret) ? nullptr : handle_alloc(PAL_TYPE_FILE, int(fd));
    if (!h) {
        host_syscall1(__NR_close, fd);
        return host_failed(ret) ? error_from_host(ret) : PAL_E_NOMEM;
    }
    *out = h;
    return PAL_OK;
}

// Handles come from a free list refilled a page at a time from the PAL's region; they are
// never given back.
namespace {
PalHandle* g_free_handles;
volatile int g_handle_lock;

void lock_handles() {
    while (__atomic_exchange_n(&g_handle_lock, 1, __ATOMIC_ACQUIRE))
        asm volatile("pause");
}
void unlock_handles() { __atomic_store_n(&g_handle_lock, 0, __ATOMIC_RELEASE); }
}  // namespace

PalHandle* handle_alloc(PalStreamType type, int fd) {
    lock_handles();
    if (!g_free_handles) {
        void* page = pal_memory_page();
        if (!page) {
            unlock_handles();
            return nullptr;
        }
        auto* hs = static_cast<PalHandle*>(page);
        for (size_t i = 0; i < kPageSize / sizeof(PalHandle); i++) {
            hs[i].next_free = g_free_handles;
            g_free_handles = &hs[i];
        }
    }
    PalHandle* h = g_free_handles;
    g_free_handles = h->next_free;
    unlock_handles();
    *h = PalHandle{type, fd, false, nullptr};
    return h;
}

void handle_free(PalHandle* h) {
    lock_handles();
    h->type = PAL_TYPE_UNKNOWN;
    h->fd = -1;
    h->next_free = g_free_handles;
    g_free_handles = h;
    unlock_handles();
}

}  // namespace carbyne::pal
