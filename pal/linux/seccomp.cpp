// The host-call guard: a seccomp filter that lets a host system call run only when its
// instruction is the PAL's. Syscall User Dispatch already sends every application system
// call to the LibOS; the guard makes sure that one that got past it (a thread without
// interception, a selector left open) stops the process with a report instead of reaching
// the host kernel as itself (DESIGN.md section 9, invariant 5).
//
// With the sandbox on (sys.sandbox), the PAL's own instructions are held to the system
// calls the PAL makes, by number, and clone to threads (no new namespaces, no new
// process): an application that jumps to a `syscall` in the PAL text gets no execve, no
// ptrace, no mount, nothing the PAL would not do itself.
#include <asm/unistd.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <stddef.h>

#include "pal_internal.h"

namespace carbyne::pal {

namespace {

constexpr uint32_t kIpLow = offsetof(struct seccomp_data, instruction_pointer);
constexpr uint32_t kIpHigh = kIpLow + 4;
constexpr uint32_t kNr = offsetof(struct seccomp_data, nr);
constexpr uint32_t kArch = offsetof(struct seccomp_data, arch);

// A classic-BPF program with forward jumps to labels, resolved when a label is placed.
class Program {
public:
    static constexpr int kMaxInsns = 256;
    static constexpr int kMaxLabels = 32;

    int new_label() { return m_labels++; }
    void place(int label) { m_target[label] = m_count; }

    void load(uint32_t offset) { emit(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)); }
    void ret(uint32_t action) { emit(BPF_STMT(BPF_RET | BPF_K, action)); }
    // if (A <op> k) goto yes; else goto no  (-1: the next instruction). Forward only.
    void jump(uint16_t op, uint32_t k, int yes, int no) {
        m_fix[m_count] = {yes, no};
        emit(BPF_JUMP(BPF_JMP | op | BPF_K, k, 0, 0));
    }

    // Goes to `in` when lo <= instruction pointer < hi, else falls through to the next
    // instruction. 64-bit compares from 32-bit halves: high words first.
    void ip_in_range(uint64_t lo, uint64_t hi, int in) {
        uint32_t lo_h = uint32_t(lo >> 32), lo_l = uint32_t(lo), hi_h = uint32_t(hi >> 32), hi_l = uint32_t(hi);
        int out = new_label(), above_lo = new_label(), check_hi_low = new_label(), check_lo_low = new_label();
        load(kIpHigh);
        jump(BPF_JGT, lo_h, above_lo, -1);
        jump(BPF_JEQ, lo_h, check_lo_low, out);
        place(check_lo_low);
        load(kIpLow);
        jump(BPF_JGE, lo_l, above_lo, out);
        place(above_lo);
        load(kIpHigh);
        jump(BPF_JGE, hi_h, -1, in);  // high word below hi's: inside
        jump(BPF_JEQ, hi_h, check_hi_low, out);
        place(check_hi_low);
        load(kIpLow);
        jump(BPF_JGE, hi_l, out, in);
        place(out);
    }

    // Resolves the jumps; false when the program does not fit or a jump is too long.
    bool finish(sock_fprog* out) {
        if (m_count > kMaxInsns || m_labels > kMaxLabels)
            return false;
        for (int i = 0; i < m_count; i++) {
            if (BPF_CLASS(m_insns[i].code) != BPF_JMP)
                continue;
            int targets[2] = {m_fix[i].yes, m_fix[i].no};
            uint8_t offsets[2];
            for (int t = 0; t < 2; t++) {
                int to = targets[t] < 0 ? i + 1 : m_target[targets[t]];
                if (to <= i || to - i - 1 > 255)
                    return false;
                offsets[t] = uint8_t(to - i - 1);
            }
            m_insns[i].jt = offsets[0];
            m_insns[i].jf = offsets[1];
        }
        out->len = uint16_t(m_count);
        out->filter = m_insns;
        return true;
    }

private:
    void emit(sock_filter insn) {
        if (m_count < kMaxInsns)
            m_insns[m_count] = insn;
        m_count++;
    }

    struct Fix {
        int yes, no;
    };
    sock_filter m_insns[kMaxInsns] = {};
    Fix m_fix[kMaxInsns] = {};
    int m_target[kMaxLabels] = {};
    int m_count = 0;
    int m_labels = 0;
};

constexpr uint32_t kArg0Low = offsetof(struct seccomp_data, args[0]);
constexpr uint32_t kArg0High = kArg0Low + 4;
constexpr long kNrFchmodat2 = 452;  // Linux 6.6; not in older uapi headers
constexpr long kNrRtSigreturn = 15;
constexpr long kNrClone = 56;
constexpr uint32_t kArg1Low = offsetof(struct seccomp_data, args[1]);
constexpr uint32_t kSiocInq = 0x541b, kSiocOutq = 0x5411;  // the only ioctls the PAL makes (socket.cpp)

// Every host system call the PAL makes (`host_syscall*`, start.S, the host vDSO
// fallbacks it runs itself), but clone and ioctl, which have their own checks. A call the PAL starts to
// make must be added here, or the sandbox stops the process at its first use.
constexpr long kPalCalls[] = {
    __NR_read, __NR_write, __NR_close, __NR_fstat, __NR_newfstatat, __NR_lseek, __NR_pread64, __NR_pwrite64,
    __NR_openat, __NR_openat2, __NR_getdents64, __NR_readlinkat, __NR_ftruncate, __NR_fallocate, __NR_fsync,
    __NR_fdatasync, __NR_syncfs, __NR_fstatfs, __NR_mkdirat, __NR_mknodat, __NR_unlinkat,
    __NR_renameat2, __NR_linkat, __NR_symlinkat, __NR_fchmod, __NR_fchmodat, kNrFchmodat2, __NR_fchownat,
    __NR_utimensat, __NR_umask, __NR_mmap, __NR_munmap, __NR_mprotect, __NR_mremap, __NR_madvise, __NR_msync,
    __NR_mincore, __NR_memfd_create, __NR_socket, __NR_bind, __NR_listen, __NR_accept4, __NR_connect,
    __NR_shutdown, __NR_sendmsg, __NR_recvmsg, __NR_getsockname, __NR_getpeername, __NR_getsockopt,
    __NR_setsockopt, __NR_epoll_create1, __NR_epoll_ctl, __NR_epoll_pwait, __NR_epoll_pwait2, __NR_ppoll,
    __NR_eventfd2, __NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigtimedwait, kNrRtSigreturn, __NR_sigaltstack, __NR_kill,
    __NR_tgkill, __NR_getpid, __NR_gettid, __NR_getuid, __NR_getgid, __NR_set_tid_address, __NR_arch_prctl,
    __NR_prctl, __NR_seccomp, __NR_exit, __NR_exit_group, __NR_sched_yield, __NR_sched_getaffinity,
    __NR_nanosleep, __NR_clock_gettime, __NR_clock_getres, __NR_getcpu, __NR_getrusage, __NR_getrandom,
    __NR_prlimit64, __NR_landlock_create_ruleset, __NR_landlock_add_rule, __NR_landlock_restrict_self,
    __NR_getxattr, __NR_setxattr, __NR_listxattr, __NR_removexattr, __NR_fgetxattr, __NR_fsetxattr,
    __NR_flistxattr, __NR_fremovexattr, 463 /* setxattrat */, 464 /* getxattrat */, 465 /* listxattrat */,
    466 /* removexattrat */, __NR_waitid, __NR_pidfd_send_signal, __NR_pipe2,
};

// process_create's calls, each with its arguments checked: the vfork clone, the exec of
// carbyne-pal (the fd opened at boot, which Landlock lets alone be executed), the socket
// pair, and F_SETFD in the child.
constexpr uint64_t kSpawnClone = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | 17 /* SIGCHLD */;
constexpr uint32_t kAtEmptyPath = 0x1000, kFSetfd = 2, kFDupfdCloexec = 1030, kAfUnix = 1;
constexpr uint32_t kArg4Low = offsetof(struct seccomp_data, args[4]);
constexpr long kNrPersonality = 135;
constexpr uint32_t kPersonaQuery = 0xffffffff;

// The clone flags that would leave the process or its namespaces: the PAL makes threads only.
constexpr uint64_t kCloneRefused = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                   CLONE_NEWPID | CLONE_NEWNET | CLONE_VFORK | CLONE_PTRACE | CLONE_UNTRACED;

// From the PAL text: the allow-list; anything else traps (reported by the SIGSYS handler).
// Jumps are forward only: the refusals are placed here, before `allow`.
void allow_pal_calls(Program& p, int allow) {
    int clone = p.new_label(), ioctl = p.new_label(), trap = p.new_label(), execveat = p.new_label(),
        fcntl = p.new_label(), socketpair = p.new_label(), persona = p.new_label();
    p.load(kNr);
    p.jump(BPF_JEQ, kNrClone, clone, -1);
    p.jump(BPF_JEQ, __NR_ioctl, ioctl, -1);
    p.jump(BPF_JEQ, __NR_execveat, execveat, -1);
    p.jump(BPF_JEQ, __NR_fcntl, fcntl, -1);
    p.jump(BPF_JEQ, __NR_socketpair, socketpair, -1);
    p.jump(BPF_JEQ, kNrPersonality, persona, -1);
    for (long nr : kPalCalls)
        p.jump(BPF_JEQ, uint32_t(nr), allow, -1);
    p.ret(SECCOMP_RET_TRAP);
    // clone: a thread (CLONE_THREAD | CLONE_VM) and none of the refused flags, or
    // process_create's vfork with exactly its flags.
    p.place(clone);
    p.load(kArg0High);
    p.jump(BPF_JEQ, 0, -1, trap);
    p.load(kArg0Low);
    p.jump(BPF_JEQ, uint32_t(kSpawnClone), allow, -1);
    p.jump(BPF_JSET, uint32_t(kCloneRefused), trap, -1);
    p.jump(BPF_JSET, CLONE_THREAD, -1, trap);
    p.jump(BPF_JSET, CLONE_VM, allow, trap);
    // ioctl: a socket's queue lengths only (no TIOCSTI into the host's terminal...).
    p.place(ioctl);
    p.load(kArg1Low);
    p.jump(BPF_JEQ, kSiocInq, allow, -1);
    p.jump(BPF_JEQ, kSiocOutq, allow, trap);
    // execveat: carbyne-pal's own fd, AT_EMPTY_PATH.
    p.place(execveat);
    p.load(kArg0Low);
    p.jump(BPF_JEQ, uint32_t(g_pal.self_fd), -1, trap);
    p.load(kArg4Low);
    p.jump(BPF_JEQ, kAtEmptyPath, allow, trap);
    // fcntl: F_SETFD (process_create's child) and F_DUPFD_CLOEXEC (handle_dup) only.
    p.place(fcntl);
    p.load(kArg1Low);
    p.jump(BPF_JEQ, kFSetfd, allow, -1);
    p.jump(BPF_JEQ, kFDupfdCloexec, allow, trap);
    p.place(socketpair);
    p.load(kArg0Low);
    p.jump(BPF_JEQ, kAfUnix, allow, trap);
    p.place(persona);
    p.load(kArg0Low);
    p.jump(BPF_JEQ, kPersonaQuery, allow, trap);
    p.place(trap);
    p.ret(SECCOMP_RET_TRAP);
}

}  // namespace

PalError guard_host_calls() {
    Program p;
    int allow = p.new_label(), vdso = p.new_label(), trap = p.new_label(), pal = p.new_label();
    p.load(kArch);
    p.jump(BPF_JEQ, AUDIT_ARCH_X86_64, -1, trap);
    p.ip_in_range(g_pal.pal_text_start, g_pal.pal_text_end, g_pal.sandbox ? pal : allow);
    if (g_pal.host_vdso_end)
        p.ip_in_range(g_pal.host_vdso_start, g_pal.host_vdso_end, vdso);
    p.place(trap);
    p.ret(SECCOMP_RET_TRAP);
    // The host vDSO's own fallbacks, for the clocks the PAL reads through it before
    // interception is on (afterwards the SIGSYS handler runs them from the PAL text).
    p.place(vdso);
    p.load(kNr);
    p.jump(BPF_JEQ, __NR_clock_gettime, allow, -1);
    p.jump(BPF_JEQ, __NR_getcpu, allow, -1);
    p.ret(SECCOMP_RET_TRAP);
    if (g_pal.sandbox) {
        p.place(pal);
        allow_pal_calls(p, allow);
    }
    p.place(allow);
    p.ret(SECCOMP_RET_ALLOW);
    sock_fprog prog;
    if (!p.finish(&prog))
        return PAL_E_INVAL;
    // Without privileges a filter needs no_new_privs; the PAL never gains any by exec.
    long ret = host_syscall5(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (host_failed(ret))
        return error_from_host(ret);
    return error_from_host(host_syscall3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, long(&prog)));
}

}  // namespace carbyne::pal
