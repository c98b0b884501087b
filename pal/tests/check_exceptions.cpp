// Exceptions: host faults and signals reach the exception upcall with the right kind, address
// and registers, and the upcall resumes execution by changing the context.
#include <asm/unistd.h>
#include <linux/signal.h>

#include "pal_test.h"

namespace pal_test {

namespace {

constexpr int kSegvMapErr = 1;  // si_code of a fault on an unmapped address
constexpr int kSegvAccErr = 2;  // si_code of a fault on a mapping without the access
constexpr uint64_t kPfWrite = 1u << 1;

Fault g_fault;

void exception_handler(const PalException* exc, PalContext* ctx) {
    // Each probe instruction has a landing label right after it.
    struct Fixup {
        const char* insn;
        const char* done;
    };
    const Fixup fixups[] = {
        {pal_test_load_insn, pal_test_load_done},
        {pal_test_store_insn, pal_test_store_done},
        {pal_test_ud2_insn, pal_test_ud2_done},
        {pal_test_divide_insn, pal_test_divide_done},
    };
    uint64_t fault_rip = ctx->rip;
    bool resumable = exc->kind == PAL_EXC_INTERRUPT || exc->kind == PAL_EXC_WAKE ||
                     (exc->kind == PAL_EXC_BREAKPOINT && fault_rip == uint64_t(pal_test_int3_done));
    for (const Fixup& fix : fixups) {
        if (fault_rip == uint64_t(fix.insn)) {
            ctx->rip = uint64_t(fix.done);
            resumable = true;
        }
    }
    // The handler interrupts the thread that reads g_fault, or is published to another
    // thread by an event: plain stores, then the count with release order.
    g_fault.exc = *exc;
    g_fault.rip = fault_rip;
    g_fault.self = gs_self();
    __atomic_store_n(&g_fault.count, g_fault.count + 1, __ATOMIC_RELEASE);
    if (!resumable) {
        log_line("FAIL exceptions: unexpected exception kind %d signal %d at rip %#lx, address %#lx", exc->kind,
                 exc->host_signal, fault_rip, exc->addr);
        g_api->process_exit(1);
    }
}

// A single fault was seen since `before`, and it matches the expectations.
void expect_fault(Check& c, const Fault& f, int before, PalExceptionKind kind, int sig, uint64_t rip) {
    if (!c.expect(f.count == before + 1, "%d exceptions reported, expected 1", f.count - before))
        return;
    c.expect(f.exc.kind == kind, "kind %d, expected %d", f.exc.kind, kind);
    c.expect(f.exc.host_signal == sig, "host signal %d, expected %d", f.exc.host_signal, sig);
    c.expect(f.rip == rip, "rip %#lx, expected %#lx", f.rip, rip);
    c.expect(f.self == gs_self(), "the handler ran with %%gs:0 = %p, the thread's is %p", f.self, gs_self());
}

}  // namespace

void install_exception_handler() { g_api->set_exception_upcall(exception_handler); }

Fault last_fault() {
    __atomic_load_n(&g_fault.count, __ATOMIC_ACQUIRE);
    asm volatile("" : : : "memory");  // the handler may have run since the last read
    return g_fault;
}

bool probe_load(const void* addr, Fault* out, uint64_t* value) {
    int before = last_fault().count;
    uint64_t v = pal_test_load(addr);
    if (value)
        *value = v;
    *out = last_fault();
    return out->count != before;
}

bool probe_store(void* addr, uint64_t value, Fault* out) {
    int before = last_fault().count;
    pal_test_store(addr, value);
    *out = last_fault();
    return out->count != before;
}

void check_exceptions() {
    install_exception_handler();
    void* page = nullptr;
    {
        Check c("exception-memfault-read");
        if (c.expect_ok(g_api->memory_alloc(nullptr, 2 * kPageSize, PAL_PROT_NONE, 0, &page), "memory_alloc")) {
            int before = last_fault().count;
            Fault f;
            uint64_t value = 1;
            bool faulted = probe_load(page, &f, &value);
            c.expect(faulted, "reading a PROT_NONE page did not fault (read %#lx)", value);
            expect_fault(c, f, before, PAL_EXC_MEMFAULT, SIGSEGV, uint64_t(pal_test_load_insn));
            c.expect(f.exc.addr == uint64_t(page), "addr %#lx, expected %p", f.exc.addr, page);
            c.expect(f.exc.code == kSegvAccErr, "si_code %d, expected SEGV_ACCERR", f.exc.code);
            c.expect(!(f.exc.error_code & kPfWrite), "error_code %#lx says write", f.exc.error_code);
            c.expect(value == 0, "execution did not continue after the load (rax %#lx)", value);
        }
    }
    {
        Check c("exception-memfault-address");
        if (c.expect(page != nullptr, "no page")) {
            const auto* inside = static_cast<const uint8_t*>(page) + kPageSize + 0x238;
            Fault f;
            c.expect(probe_load(inside, &f), "no fault");
            c.expect(f.exc.addr == uint64_t(inside), "addr %#lx, expected %p", f.exc.addr, inside);
        }
    }
    {
        Check c("exception-memfault-write");
        if (c.expect(page != nullptr, "no page")) {
            int before = last_fault().count;
            Fault f;
            c.expect(probe_store(page, 7, &f), "writing a PROT_NONE page did not fault");
            expect_fault(c, f, before, PAL_EXC_MEMFAULT, SIGSEGV, uint64_t(pal_test_store_insn));
            c.expect(f.exc.error_code & kPfWrite, "error_code %#lx lacks the write bit", f.exc.error_code);
            c.expect(f.exc.addr == uint64_t(page), "addr %#lx, expected %p", f.exc.addr, page);
        }
        if (page)
            g_api->memory_free(page, 2 * kPageSize);
    }
    {
        Check c("exception-unmapped");
        // A freed range, with no PAL call in between that could map it again.
        void* gone = nullptr;
        if (c.expect_ok(g_api->memory_alloc(nullptr, kPageSize, PAL_PROT_READ, 0, &gone), "memory_alloc") &&
            c.expect_ok(g_api->memory_free(gone, kPageSize), "memory_free")) {
            Fault f;
            c.expect(probe_load(gone, &f), "reading a freed page did not fault");
            c.expect(f.exc.code == kSegvMapErr, "si_code %d, expected SEGV_MAPERR", f.exc.code);
            c.expect(f.exc.addr == uint64_t(gone), "addr %#lx, expected %p", f.exc.addr, gone);
        }
    }
    {
        Check c("exception-illegal");
        int before = last_fault().count;
        pal_test_ud2();
        expect_fault(c, last_fault(), before, PAL_EXC_ILLEGAL, SIGILL, uint64_t(pal_test_ud2_insn));
    }
    {
        Check c("exception-arithmetic");
        int before = last_fault().count;
        uint64_t q = pal_test_divide(84, 2);
        c.expect(q == 42 && last_fault().count == before, "84 / 2 gave %lu", q);
        pal_test_divide(84, 0);
        expect_fault(c, last_fault(), before, PAL_EXC_ARITHMETIC, SIGFPE, uint64_t(pal_test_divide_insn));
    }
    {
        Check c("exception-breakpoint");
        int before = last_fault().count;
        pal_test_int3();
        expect_fault(c, last_fault(), before, PAL_EXC_BREAKPOINT, SIGTRAP, uint64_t(pal_test_int3_done));
    }
    {
        // A host-sent signal (the host runs this tgkill: interception is not on yet).
        Check c("exception-interrupt");
        int before = last_fault().count;
        long pid = pal_test_raw_syscall3(__NR_getpid, 0, 0, 0);
        long tid = pal_test_raw_syscall3(__NR_gettid, 0, 0, 0);
        long ret = pal_test_raw_syscall3(__NR_tgkill, pid, tid, SIGUSR1);
        c.expect(ret == 0, "tgkill: %ld", ret);
        Fault f = last_fault();
        if (c.expect(f.count == before + 1, "%d exceptions reported, expected 1", f.count - before)) {
            c.expect(f.exc.kind == PAL_EXC_INTERRUPT, "kind %d, expected PAL_EXC_INTERRUPT", f.exc.kind);
            c.expect(f.exc.host_signal == SIGUSR1, "host signal %d, expected SIGUSR1", f.exc.host_signal);
            c.expect(f.exc.addr == 0, "addr %#lx for a non-fault", f.exc.addr);
        }
    }
}

}  // namespace pal_test
