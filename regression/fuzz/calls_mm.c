// The memory calls. Those that change mappings stay inside the arena (fuzz.h) and run
// under the mm lock; an address and length outside it is always one no kernel accepts.
#include "calls.h"

// --- memory (inside the arena only; see fuzz.h) ---

static const uint64_t kProts[] = {PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
                                  PROT_READ | PROT_WRITE | PROT_EXEC, PROT_WRITE, PROT_EXEC,
                                  PROT_READ | PROT_GROWSDOWN, PROT_READ | PROT_GROWSUP, 0x8 /* PROT_SEM */,
                                  0x10, 0xffffffff};

// An address and length no kernel accepts for munmap/mprotect/madvise: unaligned, in the
// kernel's half, or wrapping past the end of user space.
static void invalid_range(struct worker *w, uint64_t *addr, uint64_t *len) {
    switch (below(w, 4)) {
    case 0:
        // Unaligned (mlock, which rounds, gets a length inside the arena).
        *addr = (uint64_t)g_arena + 1 + below(w, PAGE - 1);
        *len = below(w, ARENA_PAGES * PAGE - PAGE);
        break;
    case 1:
        *addr = 0xffff800000000000ull + PAGE * below(w, 16);
        *len = gen_int(w);
        break;
    case 2:
        // Wraps around: end below start. (Not a length merely past the top of user space:
        // madvise and mprotect would walk every mapping above the arena.)
        *addr = (uint64_t)g_arena;
        *len = (uint64_t)-(int64_t)(PAGE * (1 + below(w, 4)));
        break;
    default:
        *addr = 0x0000800000000000ull;
        *len = PAGE;
        break;
    }
}

static void arena_or_invalid(struct worker *w, struct call *c) {
    if (chance(w, 90))
        arena_range(w, &A[0], &A[1]);
    else
        invalid_range(w, &A[0], &A[1]);
    c->mm_lo = A[0];
    c->mm_hi = A[0] + A[1] + PAGE;
}

static void g_mmap(struct worker *w, struct call *c) {
    static const uint64_t kTypes[] = {MAP_PRIVATE, MAP_PRIVATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED,
                                      MAP_SHARED_VALIDATE, 0, MAP_PRIVATE | MAP_SHARED};
    uint64_t flags = PICK(w, kTypes) | (chance(w, 60) ? MAP_ANONYMOUS : 0);
    if (chance(w, 50))
        flags |= gen_flags(w, MAP_ANONYMOUS | MAP_32BIT | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE |
                                  MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK |
                                  MAP_HUGETLB | MAP_SYNC | MAP_UNINITIALIZED);
    flags &= ~(uint64_t)(MAP_FIXED | MAP_FIXED_NOREPLACE);
    unsigned kind = (unsigned)below(w, 10);
    if (kind < 4) {
        // Replaces part of the arena.
        flags |= MAP_FIXED;
        arena_range(w, &A[0], &A[1]);
    } else if (kind < 5) {
        flags |= MAP_FIXED_NOREPLACE;
        if (chance(w, 50))
            arena_range(w, &A[0], &A[1]);
        else {
            A[0] = chance(w, 50) ? (uint64_t)rnd(w) & 0x7ffffffff000ull : bad_ptr(w);
            A[1] = PAGE * (1 + below(w, 4));
        }
    } else {
        // Anywhere the kernel likes; unmapped again right after (post_mm).
        A[0] = chance(w, 70) ? 0 : chance(w, 50) ? (uint64_t)g_arena : gen_int(w);
        static const uint64_t kLens[] = {0, 1, PAGE, 2 * PAGE, 1 << 20, 1ull << 40, 1ull << 47,
                                         (uint64_t)-1, (uint64_t)-4096, 3 * PAGE + 5};
        A[1] = chance(w, 70) ? PAGE * (1 + below(w, 16)) : PICK(w, kLens);
        if (A[1] >= (1ull << 40) && chance(w, 90))
            flags |= MAP_NORESERVE;  // without it the kernel logs each refusal
    }
    if (chance(w, 5))
        flags |= 1ull << below(w, 32);
    // The rules, after every bit is set:
    // - FIXED only inside the fuzzer's region;
    // - no huge pages with FIXED or NOREPLACE: the length is rounded up to a huge page,
    //   and a FIXED one that fails has unmapped all of it already, far past the region;
    // - populated or locked, at most 1 MiB (a populated TiB takes minutes and its page
    //   tables gigabytes).
    if ((flags & MAP_FIXED) && !in_region(A[0] & ~(PAGE - 1), (A[0] & (PAGE - 1)) + A[1]))
        flags &= ~(uint64_t)MAP_FIXED;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
        flags &= ~(uint64_t)(MAP_HUGETLB | (0x3full << 26));  // and MAP_HUGE_2MB, _1GB...
    if ((flags & (MAP_POPULATE | MAP_LOCKED)) && A[1] > (1 << 20))
        A[1] = 1 << 20;
    A[2] = PICK(w, kProts);
    A[3] = flags;
    A[4] = (flags & MAP_ANONYMOUS) && chance(w, 80) ? (uint64_t)-1 : (uint64_t)gen_fd_of(w, K_FILE);
    A[5] = chance(w, 80) ? 0 : chance(w, 50) ? PAGE * below(w, 4) : gen_offset(w);
    if (A[3] & MAP_FIXED) {
        c->mm_lo = A[0];
        c->mm_hi = A[0] + A[1] + PAGE;
    }
}

static void p_mmap(struct worker *w, struct call *c, long ret) {
    (void)w;
    if (ret < 0 && ret > -4096)
        return;
    uint64_t len = (A[1] + PAGE - 1) & ~(PAGE - 1);
    if (A[3] & MAP_HUGETLB) {
        // Whole huge pages: MAP_HUGE_* gives their size's log2, 0 the default (2 MiB).
        unsigned shift = (unsigned)((A[3] >> 26) & 0x3f);
        uint64_t huge = 1ull << (shift ? shift : 21);
        len = (A[1] + huge - 1) & ~(huge - 1);
    }
    if (!in_region((uint64_t)ret, len))
        syscall(SYS_munmap, ret, len);  // a new mapping outside the arena: not ours to keep
}

static void g_munmap(struct worker *w, struct call *c) { arena_or_invalid(w, c); }

static void g_mprotect(struct worker *w, struct call *c) {
    arena_or_invalid(w, c);
    A[2] = PICK(w, kProts);
}

static void g_pkey_mprotect(struct worker *w, struct call *c) {
    g_mprotect(w, c);
    A[3] = chance(w, 70) ? (uint64_t)-1 : gen_small(w, 16);
}

static void g_mremap(struct worker *w, struct call *c) {
    arena_or_invalid(w, c);
    uint64_t flags = gen_flags(w, MREMAP_MAYMOVE | MREMAP_FIXED | 4 /* MREMAP_DONTUNMAP */);
    static const uint64_t kLens[] = {0, PAGE, 2 * PAGE, 1 << 20, 1ull << 47, (uint64_t)-4096, 5};
    A[2] = chance(w, 80) ? PAGE * (1 + below(w, 8)) : PICK(w, kLens);
    A[4] = 0;
    if (flags & MREMAP_FIXED) {
        // The destination is replaced: only inside the arena.
        uint64_t len;
        arena_range(w, &A[4], &len);
        if (!in_region(A[4] & ~(PAGE - 1), (A[4] & (PAGE - 1)) + A[2]))
            A[2] = len;
        if (!in_region(A[4] & ~(PAGE - 1), (A[4] & (PAGE - 1)) + A[2]))
            flags &= ~(uint64_t)MREMAP_FIXED;
    }
    A[3] = flags;
}

static void p_mremap(struct worker *w, struct call *c, long ret) {
    (void)w;
    if (ret < 0 && ret > -4096)
        goto repair;
    uint64_t start = (uint64_t)ret, end = start + ((A[2] + PAGE - 1) & ~(PAGE - 1));
    // What lies outside the arena's region is newly created (moved or grown): unmap it.
    uint64_t rlo = (uint64_t)g_region, rhi = rlo + (ARENA_PAGES + 2 * ARENA_GUARD_PAGES) * PAGE;
    if (end <= rlo || start >= rhi) {
        syscall(SYS_munmap, start, end - start);
    } else {
        if (start < rlo)
            syscall(SYS_munmap, start, rlo - start);
        if (end > rhi)
            syscall(SYS_munmap, rhi, end - rhi);
    }
repair:
    if (A[3] & MREMAP_FIXED)
        arena_repair(A[4], A[4] + A[2] + PAGE);
}

static void g_madvise(struct worker *w, struct call *c) {
    arena_or_invalid(w, c);
    // Not MADV_HWPOISON (100) nor MADV_SOFT_OFFLINE (101).
    static const uint64_t kAdvice[] = {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
                                       MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK,
                                       MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
                                       MADV_DONTDUMP, MADV_DODUMP, MADV_WIPEONFORK, MADV_KEEPONFORK,
                                       MADV_COLD, MADV_PAGEOUT, 22 /* POPULATE_READ */, 23 /* POPULATE_WRITE */,
                                       24 /* DONTNEED_LOCKED */, 25 /* COLLAPSE */, 26, 99, 1000,
                                       (uint64_t)-1};
    A[2] = PICK(w, kAdvice);
}

static void g_msync(struct worker *w, struct call *c) {
    arena_or_invalid(w, c);
    A[2] = gen_flags(w, MS_ASYNC | MS_INVALIDATE | MS_SYNC);
}

static void g_mincore(struct worker *w, struct call *c) {
    arena_or_invalid(w, c);
    A[2] = gen_out(w, A[1] / PAGE + 1 < BUF_SIZE / 2 ? A[1] / PAGE + 1 : 64);
}

static void g_mlock(struct worker *w, struct call *c) { arena_or_invalid(w, c); }

static void g_mlock2(struct worker *w, struct call *c) {
    g_mlock(w, c);
    A[2] = gen_flags(w, 1 /* MLOCK_ONFAULT */);
}

static void g_brk(struct worker *w, struct call *c) {
    // Queries, values the kernel refuses (below the heap, kernel addresses), and growth
    // that post_brk gives back: malloc's heap is never shrunk under it.
    uint64_t cur = (uint64_t)syscall(SYS_brk, 0);
    switch (below(w, 5)) {
    case 0: A[0] = 0; break;
    case 1: A[0] = cur; break;
    case 2: A[0] = PICK(w, ((const uint64_t[]){1, PAGE, 0xffff800000000000ull, (uint64_t)-1, 1ull << 47})); break;
    default: A[0] = cur + 1 + below(w, 64 * PAGE); break;
    }
    c->mm_lo = cur;  // the break to return to
}

static void p_brk(struct worker *w, struct call *c, long ret) {
    (void)w;
    if ((uint64_t)ret > c->mm_lo)
        syscall(SYS_brk, c->mm_lo);
    c->mm_lo = c->mm_hi = 0;
}

static void g_process_vm(struct worker *w, struct call *c, int writes) {
    A[0] = chance(w, 80) ? (uint64_t)g_pid : (uint64_t)gen_pid_self(w);
    A[1] = gen_iovec(w, &A[2], !writes);
    // The remote side is this process too: for writes, only scratch memory.
    A[3] = gen_iovec(w, &A[4], writes);
    if (!writes && chance(w, 20)) {
        struct iovec *iov = scratch(w, sizeof(*iov));
        iov->iov_base = (void *)(chance(w, 50) ? (uint64_t)&g_opt : rnd(w) & 0x7fffffffffffull);
        iov->iov_len = below(w, 256);
        A[3] = (uint64_t)iov;
        A[4] = 1;
    }
    A[5] = chance(w, 90) ? 0 : gen_int(w);
}

static void g_process_vm_readv(struct worker *w, struct call *c) { g_process_vm(w, c, 0); }
static void g_process_vm_writev(struct worker *w, struct call *c) { g_process_vm(w, c, 1); }

static void g_membarrier(struct worker *w, struct call *c) {
    static const uint64_t kCmds[] = {MEMBARRIER_CMD_QUERY, MEMBARRIER_CMD_GLOBAL,
                                     MEMBARRIER_CMD_PRIVATE_EXPEDITED,
                                     MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 1 << 7, 1 << 8, 3, 1000};
    A[0] = PICK(w, kCmds);
    A[1] = chance(w, 90) ? 0 : gen_int(w);
    A[2] = gen_small(w, 4);
}

const struct sysdef g_calls_mm[] = {
    // memory
    S(mmap, 25, F_MM, g_mmap, p_mmap),
    S(munmap, 15, F_MM, g_munmap, NULL),
    S(mprotect, 15, F_MM, g_mprotect, NULL),
    S(pkey_mprotect, 3, F_MM, g_pkey_mprotect, NULL),
    S(mremap, 10, F_MM, g_mremap, p_mremap),
    S(madvise, 10, F_MM, g_madvise, NULL),
    S(msync, 5, F_MM, g_msync, NULL),
    S(mincore, 5, 0, g_mincore, NULL),
    S(mlock, 3, F_MM, g_mlock, NULL),
    S(munlock, 3, F_MM, g_mlock, NULL),
    S(mlock2, 3, F_MM, g_mlock2, NULL),
    S(brk, 5, F_MM, g_brk, p_brk),
    S(process_vm_readv, 3, 0, g_process_vm_readv, NULL),
    S(process_vm_writev, 3, 0, g_process_vm_writev, NULL),
    S(membarrier, 3, 0, g_membarrier, NULL),
};
const int g_ncalls_mm = (int)(sizeof(g_calls_mm) / sizeof(g_calls_mm[0]));
