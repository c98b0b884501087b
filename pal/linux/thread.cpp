// PAL threads: one mapping per thread holds its stack, its alternate signal stack and its
// TCB; %gs points at the TCB.
#include <asm/errno.h>
#include <asm/prctl.h>
#include <asm/unistd.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <carbyne/string.h>
#include <linux/signal.h>

#include "pal_internal.h"

extern "C" long pal_clone(unsigned long flags, void* stack, int* parent_tid, int* child_tid, void* tls,
                          void (*start)(carbyne::pal::Tcb*), carbyne::pal::Tcb* tcb);

namespace carbyne::pal {

namespace {

constexpr size_t kGuardSize = kPageSize;
constexpr size_t kBlockSize = kGuardSize + kThreadStackSize + kAltStackSize + kPageSize;

Tcb* g_dead_threads;
volatile int g_dead_lock;

void lock_dead() {
    while (__atomic_exchange_n(&g_dead_lock, 1, __ATOMIC_ACQUIRE))
        asm volatile("pause");
}
void unlock_dead() { __atomic_store_n(&g_dead_lock, 0, __ATOMIC_RELEASE); }

// Thread blocks are slots of one reserved range; with a few pages for handles after them
// it is the PAL's memory region, which the LibOS keeps out of the application's reach.
constexpr size_t kMaxThreadBlocks = 16384;
constexpr size_t kMiscPages = 4096;  // handle pages
constexpr size_t kBlocksSize = kMaxThreadBlocks * kBlockSize;

uint32_t g_free_slots[kMaxThreadBlocks];  // slots given back (a stack)
size_t g_free_slot_count;
size_t g_next_slot;      // never used from here on
size_t g_next_misc_page;

// Blocks of finished threads kept for the next threads as they are (opening a fresh slot
// costs page faults on its stack).
constexpr int kCachedBlocks = 8;
Tcb* g_cached_blocks;
int g_cached_count;

// A fresh slot's address (0 when all are in use); under the dead lock.
uint64_t take_slot_locked() {
    size_t slot;
    if (g_free_slot_count)
        slot = g_free_slots[--g_free_slot_count];
    else if (g_next_slot < kMaxThreadBlocks)
        slot = g_next_slot++;
    else
        return 0;
    return g_pal.memory_start + slot * kBlockSize;
}

// Gives a block's memory back to the host and its slot back to the region.
void release_block_locked(void* block) {
    memory_advise(block, kBlockSize, PAL_ADVICE_DONTNEED);
    memory_protect(block, kBlockSize, PAL_PROT_NONE);
    g_free_slots[g_free_slot_count++] = uint32_t((uint64_t(block) - g_pal.memory_start) / kBlockSize);
}

// Takes the blocks of threads the host has finished with (exit_word cleared) off the dead
// list: cached for reuse, or given back.
void reap_dead_threads() {
    lock_dead();
    Tcb** link = &g_dead_threads;
    while (*link) {
        Tcb* t = *link;
        if (__atomic_load_n(&t->exit_word, __ATOMIC_ACQUIRE) == 0) {
            *link = t->next_dead;
            if (g_cached_count < kCachedBlocks) {
                t->next_dead = g_cached_blocks;
                g_cached_blocks = t;
                g_cached_count++;
            } else {
                release_block_locked(t->block);
            }
        } else {
            link = &t->next_dead;
        }
    }
    unlock_dead();
}

// A cached block's TCB, reset, or nullptr.
Tcb* take_cached_block() {
    lock_dead();
    Tcb* t = g_cached_blocks;
    if (t) {
        g_cached_blocks = t->next_dead;
        g_cached_count--;
    }
    unlock_dead();
    return t;
}

}  // namespace

void pal_memory_init() {
    void* p = nullptr;
    if (memory_alloc(nullptr, kBlocksSize + kMiscPages * kPageSize, PAL_PROT_NONE, PAL_MEM_NORESERVE, &p) != PAL_OK)
        pal_die("cannot reserve the PAL's memory region");
    g_pal.memory_start = uint64_t(p);
    g_pal.memory_end = g_pal.memory_start + kBlocksSize + kMiscPages * kPageSize;
}

void* pal_memory_page() {
    lock_dead();
    size_t i = g_next_misc_page < kMiscPages ? g_next_misc_page++ : kMiscPages;
    unlock_dead();
    if (i == kMiscPages)
        return nullptr;
    void* page = reinterpret_cast<void*>(g_pal.memory_start + kBlocksSize + i * kPageSize);
    if (memory_protect(page, kPageSize, PAL_PROT_READ | PAL_PROT_WRITE) != PAL_OK)
        return nullptr;
    return page;
}

namespace {

void thread_start(Tcb* tcb) {
    tcb_install(tcb);
    tcb->start_fn(tcb->start_arg);
    pal_die("thread start routine returned");
}

}  // namespace

Tcb* tcb_allocate() {
    void* block;
    if (Tcb* cached = take_cached_block()) {
        block = cached->block;
        memset(cached, 0, sizeof(Tcb));
    } else {
        lock_dead();
        block = reinterpret_cast<void*>(take_slot_locked());
        unlock_dead();
        if (!block)
            return nullptr;
        // The guard page below the stack stays closed.
        if (memory_protect(static_cast<uint8_t*>(block) + kGuardSize, kBlockSize - kGuardSize,
                           PAL_PROT_READ | PAL_PROT_WRITE) != PAL_OK) {
            lock_dead();
            release_block_locked(block);
            unlock_dead();
            return nullptr;
        }
    }
    auto* tcb = reinterpret_cast<Tcb*>(static_cast<uint8_t*>(block) + kBlockSize - kPageSize);
    tcb->pub.self = &tcb->pub;
    tcb->block = block;
    tcb->block_size = kBlockSize;
    uint64_t top = uint64_t(block) + kGuardSize + kThreadStackSize;
    tcb->stack_top = top;
    // The syscall upcall's register save area sits at the very top of the stack.
    tcb->syscall_ctx = reinterpret_cast<PalContext*>((top - sizeof(PalContext)) & ~uint64_t{15});
    tcb->sud_selector = 1;  // SYSCALL_DISPATCH_FILTER_BLOCK
    return tcb;
}

void tcb_install(Tcb* tcb) {
    if (g_pal.have_fsgsbase)
        asm volatile("wrgsbase %0" : : "r"(tcb) : "memory");
    else if (host_failed(host_syscall2(__NR_arch_prctl, ARCH_SET_GS, long(tcb))))
        pal_die("cannot set the thread's %%gs base");
    tcb->host_tid = int32_t(host_syscall0(__NR_gettid));
    struct {
        void* sp;
        int flags;
        size_t size;
    } ss = {reinterpret_cast<uint8_t*>(tcb->stack_top), 0, kAltStackSize};
    if (host_failed(host_syscall2(__NR_sigaltstack, long(&ss), 0)))
        pal_die("cannot install the alternate signal stack");
    if (g_pal.interception_on && enable_interception_for_current_thread() != PAL_OK)
        pal_die("cannot enable syscall interception in a new thread");
}

PalError thread_create(PalThreadFn fn, void* arg) {
    reap_dead_threads();
    Tcb* tcb = tcb_allocate();
    if (!tcb)
        return PAL_E_NOMEM;
    tcb->start_fn = fn;
    tcb->start_arg = arg;
    tcb->exit_word = 1;
    unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                          CLONE_CHILD_CLEARTID;
    void* stack = reinterpret_cast<void*>(uint64_t(tcb->syscall_ctx) & ~uint64_t{15});
    __atomic_add_fetch(&g_pal.live_threads, 1, __ATOMIC_ACQ_REL);
    long ret = pal_clone(flags, stack, nullptr, &tcb->exit_word, nullptr, thread_start, tcb);
    if (host_failed(ret)) {
        __atomic_sub_fetch(&g_pal.live_threads, 1, __ATOMIC_ACQ_REL);
        lock_dead();
        release_block_locked(tcb->block);
        unlock_dead();
        return error_from_host(ret);
    }
    return PAL_OK;
}

void thread_exit(int32_t* clear) {
    Tcb* tcb = current_tcb();
    if (clear)
        __atomic_store_n(clear, 0, __ATOMIC_RELEASE);
    __atomic_sub_fetch(&g_pal.live_threads, 1, __ATOMIC_ACQ_REL);
    lock_dead();
    tcb->next_dead = g_dead_threads;
    g_dead_threads = tcb;
    unlock_dead();
    // Nothing may touch the stack after this: the block can be unmapped once the host
    // clears exit_word.
    for (;;)
        host_syscall1(__NR_exit, 0);
}

void thread_yield() { host_syscall0(__NR_sched_yield); }

int64_t thread_id() { return current_tcb()->host_tid; }

PalError thread_interrupt(int64_t id) {
    if (id <= 0 || id > INT32_MAX)
        return PAL_E_INVAL;
    long ret = host_syscall3(__NR_tgkill, host_syscall0(__NR_getpid), long(id), kWakeSignal);
    return error_from_host(ret);
}

}  // namespace carbyne::pal
