// mmap, mprotect, munmap, mremap, madvise, msync, mincore, brk
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <linux/resource.h>

#include "../fs/vfs.h"
#include "../mm/mm.h"
#include "../net/ioseq.h"
#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

using mm::page_aligned;
using mm::page_up;

namespace {

// MAP_SHARED anonymous memory is a file's, as on Linux (fs::shared_zero_open): shared with
// the children forked after the mmap.
Result<long> map_shared_anonymous(uint64_t addr, uint64_t len, int prot, uint32_t flags) {
    fs::File* zero = TRY(fs::shared_zero_open(len));
    auto mapped = mm::map(addr, len, prot, flags & ~uint32_t(MAP_ANONYMOUS), zero, 0);
    zero->unref();  // the mapping holds its own reference
    return long(TRY(mapped));
}

}  // namespace

Result<long> sys_mmap(const SyscallArgs& a) {
    uint64_t addr = a.u64(0);
    uint64_t size = a.u64(1);
    int prot = a.i32(2);
    uint32_t flags = a.u32(3);
    uint64_t offset = a.u64(5);
    if (!size)
        return Errno(EINVAL);
    uint64_t len = page_up(size);
    if (len < size || len > mm::kUserTop)
        return Errno(ENOMEM);
    if (!page_aligned(offset))
        return Errno(EINVAL);
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
        return Errno(EINVAL);
    uint32_t type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return Errno(EINVAL);
    if (type == MAP_SHARED_VALIDATE &&
        (flags & ~uint32_t(MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK |
                           MAP_STACK | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED |
                           MAP_FIXED_NOREPLACE | MAP_HUGETLB)))
        return Errno(EOPNOTSUPP);
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && !page_aligned(addr))
        return Errno(EINVAL);
    if (flags & MAP_HUGETLB)
        return Errno(EINVAL);  // no huge pages in the LibOS
    if ((flags & MAP_ANONYMOUS) && type != MAP_PRIVATE)
        return map_shared_anonymous(addr, len, prot, flags);
    if (flags & MAP_ANONYMOUS)
        return long(TRY(mm::map(addr, len, prot, flags, nullptr, 0)));
    FileRef f = TRY(g_process.fds.get(a.fd(4)));
    if (offset + len < offset || int64_t(offset + len) < 0)
        return Errno(EOVERFLOW);
    // The access checks come first, as in Linux's do_mmap; mm::map answers ENODEV for a
    // file that cannot be mapped.
    if (!f->readable())
        return Errno(EACCES);
    if (type != MAP_PRIVATE && (prot & PROT_WRITE) && (f->flags() & O_ACCMODE) != O_RDWR)
        return Errno(EACCES);
    if (f->maps_as_anonymous() && type != MAP_PRIVATE)
        return map_shared_anonymous(addr, len, prot, flags);
    if (f->maps_as_anonymous())
        return long(TRY(mm::map(addr, len, prot, flags | MAP_ANONYMOUS, nullptr, 0)));
    return long(TRY(mm::map(addr, len, prot, flags, f.get(), offset)));
}

Result<long> sys_mprotect(const SyscallArgs& a) {
    if (a.i32(2) & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP))
        return Errno(EINVAL);
    if (!page_aligned(a.u64(0)))
        return Errno(EINVAL);
    uint64_t len = page_up(a.u64(1));
    if (len < a.u64(1))
        return Errno(ENOMEM);
    TRY(mm::protect(a.u64(0), len, a.i32(2) & (PROT_READ | PROT_WRITE | PROT_EXEC)));
    return 0;
}

Result<long> sys_munmap(const SyscallArgs& a) {
    uint64_t len = page_up(a.u64(1));
    if (len < a.u64(1))
        return Errno(EINVAL);
    TRY(mm::unmap(a.u64(0), len));
    return 0;
}

Result<long> sys_mremap(const SyscallArgs& a) {
    uint64_t old_addr = a.u64(0);
    uint64_t old_len = page_up(a.u64(1));
    uint64_t new_len = page_up(a.u64(2));
    uint32_t flags = a.u32(3);
    if (!page_aligned(old_addr) || (flags & ~uint32_t(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)))
        return Errno(EINVAL);
    if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
        return Errno(EINVAL);
    if (flags & MREMAP_DONTUNMAP)
        return Errno(EINVAL);  // FIXME: needs the VMA to stay with fresh pages; rarely used
    if (!new_len || new_len < a.u64(2))
        return Errno(EINVAL);
    if (!old_len)
        return Errno(EINVAL);  // duplicating a shared mapping (old_size 0) is not supported
    if ((flags & MREMAP_FIXED) && !page_aligned(a.u64(4)))
        return Errno(EINVAL);
    return long(TRY(mm::remap(old_addr, old_len, new_len, flags, a.u64(4))));
}

Result<long> sys_madvise(const SyscallArgs& a) {
    TRY(mm::advise(a.u64(0), a.u64(1), a.i32(2)));
    return 0;
}

Result<long> sys_msync(const SyscallArgs& a) {
    TRY(mm::sync(a.u64(0), a.u64(1), a.i32(2)));
    return 0;
}

Result<long> sys_mincore(const SyscallArgs& a) {
    if (!page_aligned(a.u64(0)))
        return Errno(EINVAL);
    uint64_t pages = page_up(a.u64(1)) / mm::kPageSize;
    if (!user_range_ok(a.u64(2), pages ? pages : 1))
        return Errno(EFAULT);
    constexpr uint64_t kChunk = 4096;  // pages per round
    uint8_t vec[kChunk];
    for (uint64_t done = 0; done < pages;) {
        uint64_t n = pages - done < kChunk ? pages - done : kChunk;
        TRY(mm::residency(a.u64(0) + done * mm::kPageSize, n * mm::kPageSize, vec));
        TRY(copy_to_user(a.u64(2) + done, vec, n));
        done += n;
    }
    return 0;
}

Result<long> sys_brk(const SyscallArgs& a) { return long(mm::heap_brk(a.u64(0))); }

namespace {

// process_vm_readv/writev between the caller's own buffers (one process for now): the data
// moves from `from` to `to` through a LibOS buffer, up to the shorter total. A fault ends the
// transfer: the bytes moved before it, or EFAULT when none were.
Result<long> process_vm_copy(const SyscallArgs& a, bool write) {
    if (a.u64(5) != 0)
        return Errno(EINVAL);
    net::IoSegs local_segs, remote_segs;
    net::IoSeq local = TRY(local_segs.import(a.u64(1), a.u64(2)));
    net::IoSeq remote = TRY(remote_segs.import(a.u64(3), a.u64(4)));
    if (a.i32(0) != g_process.pid)
        return Errno(ESRCH);
    const net::IoSeq& from = write ? local : remote;
    const net::IoSeq& to = write ? remote : local;
    size_t total = from.total() < to.total() ? from.total() : to.total();
    // Pieces end at every iovec's end on either side, so that a fault in one iovec keeps
    // what the ones before it moved.
    constexpr size_t kChunk = 4096;
    uint8_t buf[kChunk];
    size_t done = 0, fi = 0, f_off = 0, ti = 0, t_off = 0;
    while (done < total) {
        while (f_off == from.segs()[fi].size) {
            fi++;
            f_off = 0;
        }
        while (t_off == to.segs()[ti].size) {
            ti++;
            t_off = 0;
        }
        size_t n = total - done < kChunk ? total - done : kChunk;
        n = from.segs()[fi].size - f_off < n ? from.segs()[fi].size - f_off : n;
        n = to.segs()[ti].size - t_off < n ? to.segs()[ti].size - t_off : n;
        if (!from.copy_in(buf, done, n).ok() || !to.copy_out(done, buf, n).ok())
            break;
        done += n;
        f_off += n;
        t_off += n;
    }
    if (done == 0 && total != 0)
        return Errno(EFAULT);
    return long(done);
}

}  // namespace

Result<long> sys_process_vm_readv(const SyscallArgs& a) { return process_vm_copy(a, false); }
Result<long> sys_process_vm_writev(const SyscallArgs& a) { return process_vm_copy(a, true); }

namespace {

enum : uint32_t {
    kMembarrierQuery = 0,
    kMembarrierGlobal = 1,
    kMembarrierGlobalExpedited = 2,
    kMembarrierRegisterGlobalExpedited = 4,
    kMembarrierPrivateExpedited = 8,
    kMembarrierRegisterPrivateExpedited = 16,
    kMembarrierGetRegistrations = 512,
};
constexpr uint32_t kMembarrierSupported = kMembarrierGlobal | kMembarrierGlobalExpedited |
                                          kMembarrierRegisterGlobalExpedited | kMembarrierPrivateExpedited |
                                          kMembarrierRegisterPrivateExpedited | kMembarrierGetRegistrations;

uint32_t g_barrier_registered;  // the REGISTER_* commands made

// Every thread of the process passes a full memory barrier: taking write access away from
// a present page of the process makes the host flush the TLB of every CPU running one of
// its threads, an interrupt on each (the classic fallback of membarrier). Each call has a
// page of its own, so that concurrent calls need no lock.
Result<void> barrier_all_threads() {
    void* block = kmalloc(2 * mm::kPageSize);  // the whole aligned page inside is this call's
    HeapGuard guard(block);
    if (!block)
        return Errno(ENOMEM);
    auto* page = reinterpret_cast<uint8_t*>((uintptr_t(block) + mm::kPageSize - 1) & ~(mm::kPageSize - 1));
    __atomic_store_n(page, uint8_t(1), __ATOMIC_SEQ_CST);  // present in the page tables
    TRY(pal_result(g_pal->memory_protect(page, mm::kPageSize, PAL_PROT_READ)));
    return pal_result(g_pal->memory_protect(page, mm::kPageSize, PAL_PROT_READ | PAL_PROT_WRITE));
}

}  // namespace

// membarrier(2) for one process: the global kinds and the private expedited kinds all make
// every thread of the process pass a barrier (there is no other process to reach); private
// expedited needs its registration first (EPERM), as on Linux.
Result<long> sys_membarrier(const SyscallArgs& a) {
    uint32_t cmd = a.u32(0), flags = a.u32(1);
    if (flags != 0)
        return Errno(EINVAL);
    switch (cmd) {
    case kMembarrierQuery: return long(kMembarrierSupported);
    case kMembarrierGetRegistrations: return long(__atomic_load_n(&g_barrier_registered, __ATOMIC_ACQUIRE));
    case kMembarrierRegisterGlobalExpedited:
    case kMembarrierRegisterPrivateExpedited:
        __atomic_or_fetch(&g_barrier_registered, cmd, __ATOMIC_ACQ_REL);
        return 0;
    case kMembarrierPrivateExpedited:
        if (!(__atomic_load_n(&g_barrier_registered, __ATOMIC_ACQUIRE) & kMembarrierRegisterPrivateExpedited))
            return Errno(EPERM);
        TRY(barrier_all_threads());
        return 0;
    case kMembarrierGlobal:
    case kMembarrierGlobalExpedited:
        TRY(barrier_all_threads());
        return 0;
    default: return Errno(EINVAL);
    }
}

namespace {

constexpr uint32_t kMlockOnFault = 1;                                   // MLOCK_ONFAULT
constexpr uint32_t kMclCurrent = 1, kMclFuture = 2, kMclOnFault = 4;    // MCL_*

// RLIMIT_MEMLOCK for this caller: none with CAP_IPC_LOCK (root); EPERM with a limit of 0.
Result<uint64_t> memlock_limit() {
    if (process_creds().privileged())
        return UINT64_MAX;
    uint64_t limit = process_rlimit(RLIMIT_MEMLOCK).cur;
    if (limit == 0)
        return Errno(EPERM);
    return limit;
}

// mlock, mlock2 and munlock: the range grows to whole pages around [addr, addr + len).
Result<long> lock_range(uint64_t addr, uint64_t len, bool locked, bool on_fault) {
    uint64_t start = mm::page_down(addr);
    uint64_t end = addr + len;
    if (end < addr)
        return Errno(EINVAL);
    end = mm::page_up(end);
    if (end < start)
        return Errno(ENOMEM);
    uint64_t limit = locked ? TRY(memlock_limit()) : UINT64_MAX;
    TRY(mm::lock(start, end - start, locked, on_fault, limit));
    return 0;
}

}  // namespace

Result<long> sys_mlock(const SyscallArgs& a) { return lock_range(a.u64(0), a.u64(1), true, false); }

Result<long> sys_mlock2(const SyscallArgs& a) {
    if (a.u32(2) & ~kMlockOnFault)
        return Errno(EINVAL);
    return lock_range(a.u64(0), a.u64(1), true, (a.u32(2) & kMlockOnFault) != 0);
}

Result<long> sys_munlock(const SyscallArgs& a) { return lock_range(a.u64(0), a.u64(1), false, false); }

Result<long> sys_mlockall(const SyscallArgs& a) {
    uint32_t flags = a.u32(0);
    if (!flags || (flags & ~(kMclCurrent | kMclFuture | kMclOnFault)) || flags == kMclOnFault)
        return Errno(EINVAL);
    uint64_t limit = TRY(memlock_limit());
    TRY(mm::lock_all((flags & kMclCurrent) != 0, (flags & kMclFuture) != 0, (flags & kMclOnFault) != 0, limit));
    return 0;
}

Result<long> sys_munlockall(const SyscallArgs&) {
    TRY(mm::unlock_all());
    return 0;
}

}  // namespace carbyne::libos
