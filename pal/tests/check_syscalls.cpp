// System-call interception: once it is on, a `syscall` instruction outside the PAL reaches
// the upcall with the caller's registers, and the host never runs it. Runs last.
#include <asm/unistd.h>

#include "../linux/pal_internal.h"  // the Tcb's selector byte, which run_host_call_guard opens
#include "pal_test.h"

namespace pal_test {

namespace {

// The register values pal_test_syscall loads (pal_test_asm.S): rdi, rsi, rdx, r10, r8, r9,
// then rbx, rbp, r12, r13, r14, r15.
constexpr int kRegs = 12;
constexpr uint64_t kRegMagic[kRegs] = {
    0x1111111111111101, 0x1111111111111102, 0x1111111111111103, 0x1111111111111104,
    0x1111111111111105, 0x1111111111111106, 0x2222222222222201, 0x2222222222222202,
    0x2222222222222203, 0x2222222222222204, 0x2222222222222205, 0x2222222222222206,
};
constexpr long kGetpid = __NR_getpid;
constexpr long kFakePid = 4242;
constexpr long kEnosys = -38;
constexpr size_t kThreadStackSize = 64 * 1024;

constexpr long kGetppid = __NR_getppid;
constexpr long kClockGettime = __NR_clock_gettime;

// Where an upcall resumes the caller when set (instead of after its `syscall`).
uint64_t g_upcall_resume;

// A `mov $imm32, %eax; syscall` in the host vDSO's code (a fallback of one of its clock
// functions), found with plain host calls before interception is on; 0 if none.
uint64_t find_host_vdso_syscall() {
    constexpr long kOpen = __NR_open, kRead = __NR_read, kClose = __NR_close;
    constexpr uint64_t kAtSysinfoEhdr = 33;
    uint64_t auxv[128] = {};
    long fd = pal_test_raw_syscall3(kOpen, long("/proc/self/auxv"), 0 /* O_RDONLY */, 0);
    if (fd < 0)
        return 0;
    long n = pal_test_raw_syscall3(kRead, fd, long(auxv), sizeof(auxv) - 16);
    pal_test_raw_syscall3(kClose, fd, 0, 0);
    uint64_t base = 0;
    for (long i = 0; n > 0 && i + 1 < n / 8; i += 2)
        if (auxv[i] == kAtSysinfoEhdr)
            base = auxv[i + 1];
    if (!base)
        return 0;
    // The ELF program headers of the image the kernel mapped: scan its executable part.
    const auto* image = reinterpret_cast<const uint8_t*>(base);
    uint64_t phoff = 0;
    uint16_t phentsize = 0, phnum = 0;
    memcpy(&phoff, image + 0x20, 8);
    memcpy(&phentsize, image + 0x36, 2);
    memcpy(&phnum, image + 0x38, 2);
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t* ph = image + phoff + i * phentsize;
        uint32_t type = 0, flags = 0;
        uint64_t vaddr = 0, memsz = 0;
        memcpy(&type, ph, 4);
        memcpy(&flags, ph + 4, 4);
        memcpy(&vaddr, ph + 16, 8);
        memcpy(&memsz, ph + 40, 8);
        if (type != 1 /* PT_LOAD */ || !(flags & 1 /* PF_X */))
            continue;
        for (uint64_t off = 0; off + 7 <= memsz; off++) {
            const uint8_t* p = image + off;
            if (p[0] == 0xb8 && p[5] == 0x0f && p[6] == 0x05)
                return base + off + 5;
        }
    }
    return 0;
}

// What the upcall saw on its last call.
struct Upcall {
    int count;
    uint64_t nr, rip, rsp;
    uint64_t args[6];
    PalTcbPublic* self;
    uint64_t ctx, frame;  // the context's address and the upcall's own frame
};
Upcall g_upcall;

Upcall last_upcall() {
    __atomic_load_n(&g_upcall.count, __ATOMIC_ACQUIRE);
    return g_upcall;
}

// regs[] holds what pal_test_syscall found after the instruction.
void expect_regs_kept(Check& c, const uint64_t* regs) {
    static const char* const kNames[kRegs] = {"rdi", "rsi", "rdx", "r10", "r8", "r9",
                                               "rbx", "rbp", "r12", "r13", "r14", "r15"};
    for (int i = 0; i < kRegs; i++)
        c.expect(regs[i] == kRegMagic[i], "%s is %#lx after the syscall, was %#lx", kNames[i], regs[i], kRegMagic[i]);
}

// The call the upcall last saw is the getpid that pal_test_syscall made on this thread.
void expect_upcall_for_getpid(Check& c, const Upcall& u) {
    c.expect(u.nr == uint64_t(kGetpid), "the upcall saw rax %lu, expected %ld", u.nr, kGetpid);
    c.expect(u.rip == uint64_t(pal_test_syscall_insn) + 2, "ctx->rip %#lx, expected %#lx (after the syscall)", u.rip,
             uint64_t(pal_test_syscall_insn) + 2);
    for (int i = 0; i < 6; i++)
        c.expect(u.args[i] == kRegMagic[i], "argument %d is %#lx in the context, was %#lx", i, u.args[i],
                 kRegMagic[i]);
    c.expect(u.self == gs_self(), "the upcall ran with %%gs:0 = %p, the caller's is %p", u.self, gs_self());
}

struct ThreadProbe {
    uint64_t stack_top;
    PalHandle* go;    // when set, waited for before the system call
    int32_t running;  // set once the thread runs its own code
    PalHandle* done;
    long result;
    int upcalls_before;
    Upcall upcall;
    PalTcbPublic* self;
    uint64_t regs[kRegs];
};

[[noreturn]] void probe_on_own_stack(void* arg) {
    auto* p = static_cast<ThreadProbe*>(arg);
    p->self = gs_self();
    __atomic_store_n(&p->running, 1, __ATOMIC_RELEASE);
    if (p->go)
        g_api->event_wait(p->go, kWaitLimitNs);
    p->upcalls_before = last_upcall().count;
    p->result = pal_test_syscall(kGetpid, p->regs);
    p->upcall = last_upcall();
    g_api->event_set(p->done);
    g_api->thread_exit(nullptr);
}

// Like the application's threads, it makes its system calls off the PAL stack: the upcall
// runs at the top of that stack.
void probe_thread(void* arg) {
    auto* p = static_cast<ThreadProbe*>(arg);
    pal_test_switch_stack(p->stack_top, probe_on_own_stack, p);
}

// Starts probe_thread on a stack of its own (not freed: the thread exits on it).
bool start_probe(Check& c, ThreadProbe* p, bool wait_for_go) {
    void* stack = alloc_pages(kThreadStackSize);
    if (!c.expect(stack != nullptr, "alloc_pages") || !c.expect_ok(g_api->event_create(0, 0, &p->done), "event_create"))
        return false;
    if (wait_for_go && !c.expect_ok(g_api->event_create(0, 0, &p->go), "event_create"))
        return false;
    p->stack_top = uint64_t(stack) + kThreadStackSize;
    return c.expect_ok(g_api->thread_create(probe_thread, p), "thread_create");
}

// The probe thread made one intercepted getpid.
void expect_probe_intercepted(Check& c, const ThreadProbe& p, long real_pid) {
    if (!c.expect_ok(g_api->event_wait(p.done, kWaitLimitNs), "event_wait"))
        return;
    c.expect(p.result == kFakePid, "getpid in the thread returned %ld (host pid %ld): not intercepted", p.result,
             real_pid);
    c.expect(p.upcall.count == p.upcalls_before + 1, "the upcall ran %d times", p.upcall.count - p.upcalls_before);
    if (p.upcall.count == p.upcalls_before + 1) {
        c.expect(p.upcall.self == p.self && p.self != gs_self(),
                 "the upcall ran with %%gs:0 = %p, the thread's is %p", p.upcall.self, p.self);
        c.expect(p.upcall.nr == uint64_t(kGetpid), "the upcall saw rax %lu", p.upcall.nr);
    }
    expect_regs_kept(c, p.regs);
}

}  // namespace

void check_syscall_interception() {
    uint64_t regs[kRegs];
    long real_pid = pal_test_raw_syscall3(kGetpid, 0, 0, 0);
    uint64_t vdso_syscall = find_host_vdso_syscall();
    {
        Check c("syscall-host-before-interception");
        long pid = pal_test_syscall(kGetpid, regs);
        c.expect(pid > 0 && pid == real_pid, "getpid gave %ld, then %ld", real_pid, pid);
        c.expect(last_upcall().count == 0, "the upcall ran before interception was on");
        expect_regs_kept(c, regs);
    }
    {
        Check c("syscall-interception-null");
        c.expect_error(g_api->enable_syscall_interception(nullptr), PAL_E_INVAL, "a NULL upcall");
        long pid = pal_test_raw_syscall3(kGetpid, 0, 0, 0);
        c.expect(pid == real_pid, "getpid gave %ld after the rejected call", pid);
    }
    // A thread that exists before interception is turned on would keep making host system
    // calls: pal.h has the call refuse (PAL_E_BUSY) until the caller is the only thread.
    {
        Check c("syscall-thread-before-interception");
        static ThreadProbe early;  // outlives the check: the thread may still be leaving
        if (start_probe(c, &early, true) &&
            c.expect(wait_for_word(&early.running, 1), "the thread did not start running")) {
            c.expect_error(g_api->enable_syscall_interception(pal_test_syscall_upcall), PAL_E_BUSY,
                           "enable with another thread running");
            g_api->event_set(early.go);
            if (c.expect_ok(g_api->event_wait(early.done, kWaitLimitNs), "event_wait"))
                c.expect(early.result == real_pid, "getpid in the thread returned %ld, host pid %ld", early.result,
                         real_pid);
        }
    }
    bool on = false;
    {
        Check c("syscall-intercepted");
        // The probe thread of the previous check may still be on its way out.
        PalError e = PAL_E_BUSY;
        for (int tries = 0; e == PAL_E_BUSY && tries < 1000; tries++) {
            e = g_api->enable_syscall_interception(pal_test_syscall_upcall);
            if (e == PAL_E_BUSY)
                g_api->sleep(1000000, nullptr);
        }
        on = c.expect_ok(e, "enable_syscall_interception");
        for (int i = 0; on && i < 3; i++) {
            int before = last_upcall().count;
            long r = pal_test_syscall(kGetpid, regs);
            Upcall u = last_upcall();
            if (!c.expect(u.count == before + 1, "call %d: the upcall ran %d times", i, u.count - before))
                break;
            c.expect(r == kFakePid, "call %d: getpid returned %ld, the upcall's result is %ld (host pid %ld)", i, r,
                     kFakePid, real_pid);
            expect_upcall_for_getpid(c, u);
        }
        if (on) {
            long r = pal_test_syscall(100000, regs);
            Upcall u = last_upcall();
            c.expect(u.nr == 100000 && r == kEnosys, "syscall 100000: upcall saw %lu, returned %ld", u.nr, r);
        }
    }
    {
        Check c("syscall-registers-preserved");
        if (c.expect(on, "interception is off")) {
            pal_test_syscall(kGetpid, regs);
            expect_regs_kept(c, regs);
        }
    }
    {
        Check c("syscall-upcall-stack");
        if (c.expect(on, "interception is off")) {
            uint64_t here = uint64_t(__builtin_frame_address(0));
            pal_test_syscall(kGetpid, regs);
            Upcall u = last_upcall();
            c.expect(u.rsp < here && here - u.rsp < 4096, "ctx->rsp %#lx is not the caller's stack (near %#lx)", u.rsp,
                     here);
            // The upcall runs on the thread's PAL stack, just below the saved context.
            c.expect(u.frame < u.ctx && u.ctx - u.frame < 4096, "upcall frame %#lx, context at %#lx", u.frame, u.ctx);
            uint64_t apart = u.ctx > u.rsp ? u.ctx - u.rsp : u.rsp - u.ctx;
            c.expect(apart > 64 * 1024, "the context %#lx lies on the caller's stack (rsp %#lx)", u.ctx, u.rsp);
        }
    }
    {
        // The PAL's own system calls still reach the host.
        Check c("syscall-pal-calls-after-interception");
        if (c.expect(on, "interception is off")) {
            int before = last_upcall().count;
            uint64_t t0 = 0, t1 = 0;
            c.expect_ok(g_api->time_get(PAL_CLOCK_MONOTONIC, &t0), "time_get");
            c.expect_ok(g_api->sleep(2 * kMsec, nullptr), "sleep");
            c.expect_ok(g_api->time_get(PAL_CLOCK_MONOTONIC, &t1), "time_get");
            c.expect(t1 >= t0 + 2 * kMsec, "a 2 ms sleep took %lu ns", t1 - t0);
            void* p = alloc_pages(kPageSize);
            if (c.expect(p != nullptr, "memory_alloc"))
                c.expect_ok(g_api->memory_free(p, kPageSize), "memory_free");
            PalHandle* ev = nullptr;
            if (c.expect_ok(g_api->event_create(0, 1, &ev), "event_create")) {
                g_api->event_set(ev);
                c.expect_ok(g_api->event_wait(ev, kSec), "event_wait");
                g_api->stream_close(ev);
            }
            PalStreamAttr attr = {};
            c.expect_ok(g_api->stream_attributes_path(scratch_root(), "", &attr), "stream_attributes_path");
            uint32_t cpu = 0;
            c.expect_ok(g_api->get_cpu(&cpu, nullptr), "get_cpu");
            c.expect(last_upcall().count == before, "PAL calls reached the upcall %d times",
                     last_upcall().count - before);
        }
    }
    {
        // Clocks the host vDSO cannot read make it fall back to a `syscall` outside the PAL
        // text; the PAL runs those itself rather than sending them to the upcall.
        Check c("syscall-vdso-fallback");
        if (c.expect(on, "interception is off")) {
            int before = last_upcall().count;
            uint64_t process = 0, thread = 0;
            c.expect_ok(g_api->time_get(PAL_CLOCK_PROCESS_CPU, &process), "PROCESS_CPU");
            c.expect_ok(g_api->time_get(PAL_CLOCK_THREAD_CPU, &thread), "THREAD_CPU");
            c.expect(process > 0 && thread > 0 && process >= thread, "PROCESS_CPU %lu, THREAD_CPU %lu", process, thread);
            c.expect(last_upcall().count == before, "clock reads reached the upcall %d times",
                     last_upcall().count - before);
        }
    }
    {
        // The application may jump to any instruction, a `syscall` in the host vDSO too:
        // only the PAL's own vDSO calls reach the host from there; this one is the
        // application's and goes to the upcall, whatever its number.
        Check c("syscall-vdso-jump");
        if (c.expect(on, "interception is off") &&
            c.expect(vdso_syscall != 0, "no `mov $n, %%eax; syscall` found in the host vDSO")) {
            static uint64_t pad[512];
            for (uint64_t& slot : pad)
                slot = uint64_t(pal_test_jump_landing);
            uint64_t pad_middle = uint64_t(&pad[256]);
            uint64_t ts[2] = {};
            const long numbers[] = {kGetppid, kClockGettime};
            for (long nr : numbers) {
                int before = last_upcall().count;
                g_upcall_resume = uint64_t(pal_test_jump_landing);
                long r = pal_test_jump(vdso_syscall, nr, pad_middle, 0 /* CLOCK_REALTIME */, long(ts), 0);
                g_upcall_resume = 0;
                Upcall u = last_upcall();
                if (!c.expect(u.count == before + 1, "system call %ld at the host vDSO's %#lx ran on the host (%ld)", nr,
                              vdso_syscall, r))
                    continue;
                c.expect(u.nr == uint64_t(nr) && r == kEnosys, "the upcall saw %lu and returned %ld, expected %ld",
                         u.nr, r, nr);
                c.expect(u.rip == vdso_syscall + 2, "ctx->rip %#lx, expected %#lx", u.rip, vdso_syscall + 2);
            }
        }
    }
    {
        Check c("syscall-intercepted-new-thread");
        ThreadProbe p = {};
        if (c.expect(on, "interception is off") && start_probe(c, &p, false))
            expect_probe_intercepted(c, p, real_pid);
    }
}

void run_host_call_guard() {
    if (g_api->enable_syscall_interception(pal_test_syscall_upcall) != PAL_OK) {
        log_line("FAIL host-call-guard: enable_syscall_interception");
        return;
    }
    // A selector left at ALLOW lets this thread's system calls past Syscall User Dispatch:
    // the PAL's seccomp guard must stop the next one, made outside the PAL, and end the
    // process with a report.
    auto* tcb = reinterpret_cast<carbyne::pal::Tcb*>(gs_self());
    __atomic_store_n(&tcb->sud_selector, uint8_t(0) /* SYSCALL_DISPATCH_FILTER_ALLOW */, __ATOMIC_SEQ_CST);
    long r = pal_test_raw_syscall3(kGetppid, 0, 0, 0);
    tcb->sud_selector = 1;
    log_line("FAIL host-call-guard: getppid from outside the PAL reached the host (returned %ld)", r);
}

}  // namespace pal_test

using pal_test::g_upcall;

// Called by pal_test_syscall_upcall on the trapping thread; sets the call's result.
void pal_test_handle_syscall(PalContext* ctx) {
    g_upcall.nr = ctx->rax;
    g_upcall.rip = ctx->rip;
    g_upcall.rsp = ctx->rsp;
    const uint64_t args[6] = {ctx->rdi, ctx->rsi, ctx->rdx, ctx->r10, ctx->r8, ctx->r9};
    for (int i = 0; i < 6; i++)
        g_upcall.args[i] = args[i];
    g_upcall.self = pal_test::gs_self();
    g_upcall.ctx = uint64_t(ctx);
    g_upcall.frame = uint64_t(__builtin_frame_address(0));
    ctx->rax = uint64_t(ctx->rax == uint64_t(pal_test::kGetpid) ? pal_test::kFakePid : pal_test::kEnosys);
    if (pal_test::g_upcall_resume)
        ctx->rip = pal_test::g_upcall_resume;
    __atomic_store_n(&g_upcall.count, g_upcall.count + 1, __ATOMIC_RELEASE);
}
