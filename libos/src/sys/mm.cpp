// mmap, mprotect, munmap, brk, madvise
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/mman.h>

#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kUserTop = 1ull << 47;

uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

bool aligned(uint64_t v) { return (v & (kPage - 1)) == 0; }

// The application may only change its own memory: ranges touching the PAL or libos.so
// images are refused. FIXME: the LibOS heap and stacks need the VMA list to be protected.
Result<void> check_range(uint64_t addr, uint64_t size) {
    if (!aligned(addr))
        return Errno(EINVAL);
    if (!size || size > kUserTop || addr > kUserTop - size)
        return Errno(size ? ENOMEM : EINVAL);
    if (!user_range_ok(addr, size))
        return Errno(EINVAL);
    return {};
}

}  // namespace

Result<long> sys_mmap(const SyscallArgs& a) {
    uint64_t addr = a.u64(0);
    uint64_t size = a.u64(1);
    int prot = a.i32(2);
    uint32_t flags = a.u32(3);
    int fd = a.fd(4);
    uint64_t offset = a.u64(5);
    if (!size)
        return Errno(EINVAL);
    uint64_t len = page_up(size);
    if (len < size || len > kUserTop)
        return Errno(ENOMEM);
    if (!aligned(offset) || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
        return Errno(EINVAL);
    uint32_t type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return Errno(EINVAL);
    bool fixed = (flags & MAP_FIXED) != 0;
    bool noreplace = (flags & MAP_FIXED_NOREPLACE) != 0;
    if ((fixed || noreplace) && !aligned(addr))
        return Errno(EINVAL);
    if (fixed || noreplace)
        TRY(check_range(addr, len));
    uint32_t pal_flags = (fixed ? PAL_MEM_FIXED : noreplace ? PAL_MEM_NOREPLACE : 0) |
                         ((flags & MAP_NORESERVE) ? PAL_MEM_NORESERVE : 0);
    void* hint = (fixed || noreplace || user_range_ok(addr, len)) ? reinterpret_cast<void*>(addr & ~(kPage - 1))
                                                                   : nullptr;
    void* out = nullptr;
    if (flags & MAP_ANONYMOUS) {
        // FIXME: MAP_SHARED anonymous memory is shared with nobody until fork exists.
        TRY(pal_result(g_pal->memory_alloc(hint, len, prot, pal_flags, &out)));
        return long(out);
    }
    FileRef f = TRY(g_process.fds.get(fd));
    if (int64_t(offset) < 0 || offset + len < offset)
        return Errno(EOVERFLOW);
    PalHandle* h = f->pal_file();
    if (!h)
        return Errno(ENODEV);
    if (!f->readable())
        return Errno(EACCES);
    bool shared = type != MAP_PRIVATE;
    if (shared && (prot & PROT_WRITE) && (f->flags() & O_ACCMODE) != O_RDWR)
        return Errno(EACCES);
    if (shared)
        pal_flags |= PAL_MEM_SHARED;
    TRY(pal_result(g_pal->file_map(h, hint, len, offset, prot, pal_flags, &out)));
    return long(out);
}

Result<long> sys_mprotect(const SyscallArgs& a) {
    if (a.i32(2) & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP))
        return Errno(EINVAL);
    if (!a.u64(1))
        return aligned(a.u64(0)) ? Result<long>(0) : Result<long>(Errno(EINVAL));
    TRY(check_range(a.u64(0), page_up(a.u64(1))));
    TRY(pal_result(g_pal->memory_protect(reinterpret_cast<void*>(a.u64(0)), page_up(a.u64(1)),
                                         a.i32(2) & (PROT_READ | PROT_WRITE | PROT_EXEC))));
    return 0;
}

Result<long> sys_munmap(const SyscallArgs& a) {
    TRY(check_range(a.u64(0), page_up(a.u64(1))));
    TRY(pal_result(g_pal->memory_free(reinterpret_cast<void*>(a.u64(0)), page_up(a.u64(1)))));
    return 0;
}

Result<long> sys_madvise(const SyscallArgs& a) {
    uint64_t addr = a.u64(0);
    if (!aligned(addr))
        return Errno(EINVAL);
    if (!a.u64(1))
        return 0;
    uint64_t len = page_up(a.u64(1));
    TRY(check_range(addr, len));
    if (a.i32(2) == MADV_DONTNEED) {
        // Anonymous private memory reads back as zeros: map fresh zero pages over it.
        // FIXME: for file mappings this must re-read the file (needs the VMA list).
        return Errno(EINVAL);
    }
    return 0;
}

// The heap: [start, limit) is reserved inaccessible at load; the break maps pages in.
Result<long> sys_brk(const SyscallArgs& a) {
    uint64_t want = a.u64(0);
    SpinGuard g(g_process.lock);
    Brk& b = g_process.brk;
    if (want < b.start || want > b.limit)
        return long(b.end);
    uint64_t need = page_up(want);
    if (need > b.mapped) {
        void* out;
        if (g_pal->memory_alloc(reinterpret_cast<void*>(b.mapped), need - b.mapped, PAL_PROT_READ | PAL_PROT_WRITE,
                                PAL_MEM_FIXED, &out) != PAL_OK)
            return long(b.end);
        b.mapped = need;
    } else if (need < b.mapped) {
        void* out;
        // Give the pages back: the next growth must see zeros, as on Linux.
        if (g_pal->memory_alloc(reinterpret_cast<void*>(need), b.mapped - need, PAL_PROT_NONE,
                                PAL_MEM_FIXED | PAL_MEM_NORESERVE, &out) == PAL_OK)
            b.mapped = need;
    }
    b.end = want;
    return long(want);
}

}  // namespace carbyne::libos
