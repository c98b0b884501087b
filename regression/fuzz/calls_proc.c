// Time, signals, process and thread attributes, futexes, and numbers no kernel assigns.
#include "calls.h"

// --- time ---

static void g_nanosleep(struct worker *w, struct call *c) {
    A[0] = gen_timespec(w);
    A[1] = chance(w, 50) ? 0 : gen_out(w, sizeof(struct timespec));
}

static void g_clock_nanosleep(struct worker *w, struct call *c) {
    A[0] = gen_clockid(w);
    A[1] = gen_flags(w, TIMER_ABSTIME);
    A[2] = A[1] & TIMER_ABSTIME && chance(w, 70) ? gen_timespec_abs_past(w) : gen_timespec(w);
    A[3] = chance(w, 50) ? 0 : gen_out(w, sizeof(struct timespec));
}

static void g_clock_gettime(struct worker *w, struct call *c) {
    A[0] = gen_clockid(w);
    A[1] = gen_out(w, sizeof(struct timespec));
}

static void g_gettimeofday(struct worker *w, struct call *c) {
    A[0] = chance(w, 20) ? 0 : gen_out(w, sizeof(struct timeval));
    A[1] = chance(w, 50) ? 0 : gen_out(w, 8);
}

static void g_time(struct worker *w, struct call *c) { A[0] = chance(w, 30) ? 0 : gen_out(w, 8); }

static void g_getitimer(struct worker *w, struct call *c) {
    A[0] = chance(w, 90) ? below(w, 3) : gen_int(w);
    A[1] = gen_out(w, sizeof(struct itimerval));
}

static void g_setitimer(struct worker *w, struct call *c) {
    A[0] = chance(w, 90) ? below(w, 3) : gen_int(w);
    struct itimerval *it = scratch(w, sizeof(*it));
    long sec, nsec;
    fill_timespec(w, &sec, &nsec);
    it->it_value.tv_sec = sec;
    it->it_value.tv_usec = nsec >= 0 && nsec < 1000000000 ? nsec / 1000 : nsec;
    if (chance(w, 60)) {
        it->it_interval.tv_sec = it->it_interval.tv_usec = 0;
    } else {
        // Periodic, but not a storm of signals.
        it->it_interval.tv_sec = (long)below(w, 2);
        it->it_interval.tv_usec = chance(w, 95) ? 10000 + (long)below(w, 90000) : (long)gen_int(w);
        if (it->it_interval.tv_usec > 0 && it->it_interval.tv_usec < 1000)
            it->it_interval.tv_usec = 1000;  // a shorter one makes a storm of signals
    }
    A[1] = chance(w, 10) ? 0 : maybe_bad(w, it);
    A[2] = chance(w, 50) ? 0 : gen_out(w, sizeof(struct itimerval));
}

static void g_alarm(struct worker *w, struct call *c) {
    A[0] = chance(w, 60) ? 0 : chance(w, 70) ? below(w, 3) : gen_int(w);
}

static _Atomic int g_timers[TIMER_POOL_SIZE];

static int gen_timer_id(struct worker *w) {
    if (chance(w, 80)) {
        int id = atomic_load(&g_timers[below(w, TIMER_POOL_SIZE)]);
        if (id >= 0)
            return id;
    }
    static const int kOdd[] = {-1, 0, 1, 100000, INT_MAX, INT_MIN};
    return PICK(w, kOdd);
}

static void g_timer_create(struct worker *w, struct call *c) {
    A[0] = gen_clockid(w);
    if (chance(w, 10)) {
        A[1] = 0;  // SIGEV_SIGNAL, SIGALRM
    } else {
        struct sigevent *ev = scratch(w, sizeof(*ev));
        memset(ev, 0, sizeof(*ev));
        static const int kNotify[] = {SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID, SIGEV_SIGNAL | SIGEV_THREAD_ID,
                                      SIGEV_THREAD, 7, -1};
        ev->sigev_notify = PICK(w, kNotify);
        int sig = gen_signal(w);
        ev->sigev_signo = sig ? sig : SIGALRM;  // a valid notify needs a valid signal
        ev->sigev_value.sival_ptr = (void *)rnd(w);
        ev->_sigev_un._tid = gen_tid(w);
        A[1] = ctl(w, ev);  // its signal is sent later: never one read from garbage
    }
    int *id = scratch(w, sizeof(int));
    *id = -1;
    A[2] = maybe_bad(w, id);
    c->timer_out = A[2] == (uint64_t)id ? id : NULL;
}

static void p_timer_create(struct worker *w, struct call *c, long ret) {
    if (ret != 0 || !c->timer_out || *c->timer_out < 0)
        return;
    int id = *c->timer_out;
    for (int i = 0; i < TIMER_POOL_SIZE; i++) {
        int empty = -1;
        if (atomic_compare_exchange_strong(&g_timers[i], &empty, id))
            return;
    }
    // Full: delete one to make room (timers are a limited resource).
    int slot = (int)below(w, TIMER_POOL_SIZE);
    int old = atomic_exchange(&g_timers[slot], id);
    if (old >= 0 && old != id)
        syscall(SYS_timer_delete, old);
}

static void g_timer_settime(struct worker *w, struct call *c) {
    A[0] = (uint64_t)(int64_t)gen_timer_id(w);
    A[1] = gen_flags(w, TIMER_ABSTIME);
    A[2] = gen_itimerspec(w, 1);
    A[3] = chance(w, 50) ? 0 : gen_out(w, sizeof(struct itimerspec));
}

static void g_timer_gettime(struct worker *w, struct call *c) {
    A[0] = (uint64_t)(int64_t)gen_timer_id(w);
    A[1] = gen_out(w, sizeof(struct itimerspec));
}

static void g_timer_id(struct worker *w, struct call *c) { A[0] = (uint64_t)(int64_t)gen_timer_id(w); }

static void p_timer_delete(struct worker *w, struct call *c, long ret) {
    (void)w;
    if (ret != 0)
        return;
    for (int i = 0; i < TIMER_POOL_SIZE; i++) {
        int id = (int)A[0];
        atomic_compare_exchange_strong(&g_timers[i], &id, -1);
    }
}

static void g_out1(struct worker *w, struct call *c) { A[0] = gen_out(w, 512); }

static void g_getrusage(struct worker *w, struct call *c) {
    static const int64_t kWho[] = {RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD, 2, -3, 100};
    A[0] = (uint64_t)PICK(w, kWho);
    A[1] = gen_out(w, sizeof(struct rusage));
}

// --- signals ---

static void g_rt_sigaction(struct worker *w, struct call *c) {
    int sig = gen_signal(w);
    if (chance(w, 10))
        sig = (int)below(w, 66);  // any number: only queried (act NULL)
    A[0] = (uint64_t)(int64_t)sig;
    // Not the watchdog's signal, glibc's own (32, 33), or those that report a crash.
    int may_set = sig != SIG_INTERRUPT && sig != 32 && sig != 33 && sig != SIGSEGV && sig != SIGBUS &&
                  sig != SIGILL && sig != SIGFPE && sig != SIGABRT && sig != SIGSYS && sig != SIGTRAP;
    if (!may_set || chance(w, 30)) {
        A[1] = chance(w, 80) ? 0 : unreadable(w);  // never an act of unknown contents
    } else {
        // The handler the fuzzer installed (or ignore; or default for a signal whose
        // default is to ignore it), with the libc restorer: never one that would end it.
        struct {
            uint64_t handler;
            uint64_t flags;
            uint64_t restorer;
            uint64_t mask;
        } *act = scratch(w, 32);
        struct sigaction cur;
        sigaction(sig > 0 && sig <= 64 ? sig : SIGUSR1, NULL, &cur);
        int dfl_ok = sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
        unsigned r = (unsigned)below(w, 10);
        act->handler = r < 7 ? (uint64_t)cur.sa_sigaction : r < 9 || !dfl_ok ? (uint64_t)SIG_IGN : (uint64_t)SIG_DFL;
        if (act->handler == (uint64_t)SIG_DFL && !dfl_ok)
            act->handler = (uint64_t)SIG_IGN;
        act->flags = gen_flags(w, SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP | SA_NOCLDWAIT | 0x400 | 0x800) |
                     SA_RESTORER | SA_SIGINFO;
        // Not SA_ONSTACK (the alternate stack may be anything), SA_RESETHAND (the next one
        // would end the fuzzer), or SA_NODEFER: a timer with a short interval then nests
        // handlers until the stack runs out, natively too.
        act->flags &= ~(uint64_t)(SA_ONSTACK | SA_RESETHAND | SA_NODEFER);
        act->restorer = g_restorer;
        act->mask = gen_sigset(w);
        A[1] = (uint64_t)act;
    }
    A[2] = chance(w, 50) ? 0 : gen_out(w, 32);
    A[3] = chance(w, 92) ? 8 : gen_int(w);
}

static void g_rt_sigprocmask(struct worker *w, struct call *c) {
    A[0] = chance(w, 90) ? below(w, 3) : gen_int(w);
    A[1] = chance(w, 20) ? 0 : gen_sigset_ptr(w);
    A[2] = chance(w, 50) ? 0 : gen_out(w, 8);
    A[3] = chance(w, 92) ? 8 : gen_int(w);
}

static void g_rt_sigpending(struct worker *w, struct call *c) {
    A[0] = gen_out(w, 8);
    A[1] = chance(w, 92) ? 8 : gen_int(w);
}

static void g_rt_sigtimedwait(struct worker *w, struct call *c) {
    A[0] = gen_sigset_ptr(w);
    A[1] = chance(w, 50) ? 0 : gen_out(w, sizeof(siginfo_t));
    A[2] = chance(w, 5) ? 0 : gen_timespec(w);
    A[3] = chance(w, 92) ? 8 : gen_int(w);
}

static void g_rt_sigsuspend(struct worker *w, struct call *c) {
    A[0] = gen_sigset_ptr(w);
    A[1] = chance(w, 92) ? 8 : gen_int(w);
}

static uint64_t gen_siginfo(struct worker *w, int sig) {
    siginfo_t *si = scratch(w, sizeof(*si));
    memset(si, 0, sizeof(*si));
    si->si_signo = sig;
    static const int kCodes[] = {SI_QUEUE, SI_USER, SI_TKILL, SI_KERNEL, SI_TIMER, -100, 1, SI_MESGQ};
    si->si_code = PICK(w, kCodes);
    si->si_pid = gen_pid_self(w);
    si->si_uid = gen_uid(w);
    return maybe_bad(w, si);
}

static void g_rt_sigqueueinfo(struct worker *w, struct call *c) {
    A[0] = (uint64_t)gen_pid_self(w);
    int sig = gen_signal(w);
    A[1] = (uint64_t)(int64_t)sig;
    A[2] = gen_siginfo(w, sig);
}

static void g_rt_tgsigqueueinfo(struct worker *w, struct call *c) {
    A[0] = chance(w, 85) ? (uint64_t)g_pid : (uint64_t)gen_pid_self(w);
    A[1] = (uint64_t)(int64_t)gen_tid(w);
    int sig = gen_signal(w);
    A[2] = (uint64_t)(int64_t)sig;
    A[3] = gen_siginfo(w, sig);
}

static void g_kill(struct worker *w, struct call *c) {
    // Never 0 or a negative group that exists, never -1: only this process or none.
    static const int64_t kNone[] = {0x40000000, -0x40000000, INT_MIN, INT_MAX};
    A[0] = chance(w, 80) ? (uint64_t)gen_pid_self(w) : (uint64_t)PICK(w, kNone);
    A[1] = (uint64_t)(int64_t)gen_signal(w);
}

static void g_tkill(struct worker *w, struct call *c) {
    A[0] = (uint64_t)(int64_t)gen_tid(w);
    A[1] = (uint64_t)(int64_t)gen_signal(w);
}

static void g_tgkill(struct worker *w, struct call *c) {
    A[0] = chance(w, 85) ? (uint64_t)g_pid : (uint64_t)(int64_t)gen_tid(w);
    A[1] = (uint64_t)(int64_t)gen_tid(w);
    A[2] = (uint64_t)(int64_t)gen_signal(w);
}

static void g_sigaltstack(struct worker *w, struct call *c) {
    // No handler runs on an alternate stack (SA_ONSTACK is never set), so any is harmless.
    if (chance(w, 40)) {
        A[0] = 0;
    } else {
        stack_t *ss = scratch(w, sizeof(*ss));
        ss->ss_sp = chance(w, 70) ? scratch(w, 8192) : (void *)bad_ptr(w);
        static const int kFlags[] = {0, SS_DISABLE, SS_ONSTACK, (int)SS_AUTODISARM, 0x12345};
        ss->ss_flags = PICK(w, kFlags);
        ss->ss_size = chance(w, 70) ? 8192 : gen_int(w);
        A[0] = maybe_bad(w, ss);
    }
    A[1] = chance(w, 50) ? 0 : gen_out(w, sizeof(stack_t));
}

static void g_pidfd_open(struct worker *w, struct call *c) {
    A[0] = chance(w, 10) ? 0 : (uint64_t)gen_pid_self(w);
    A[1] = gen_flags(w, O_NONBLOCK | O_EXCL /* PIDFD_THREAD */);
}

static void g_pidfd_send_signal(struct worker *w, struct call *c) {
    // The only pidfds the fuzzer has are its own process's.
    A[0] = gen_fd_of(w, K_PIDFD);
    int sig = gen_signal(w);
    A[1] = (uint64_t)(int64_t)sig;
    A[2] = chance(w, 60) ? 0 : gen_siginfo(w, sig);
    A[3] = chance(w, 90) ? 0 : gen_flags(w, 0xf);
}

static void g_pidfd_getfd(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_PIDFD);
    A[1] = (uint64_t)(int64_t)gen_fd(w);
    A[2] = chance(w, 90) ? 0 : gen_int(w);
}

// --- process information and attributes ---

static void g_none(struct worker *w, struct call *c) {
    (void)w;
    (void)c;
}

static void g_pid1(struct worker *w, struct call *c) {
    A[0] = chance(w, 30) ? 0 : (uint64_t)(int64_t)gen_pid_self(w);
}

static void g_setpgid(struct worker *w, struct call *c) {
    A[0] = chance(w, 30) ? 0 : (uint64_t)(int64_t)gen_pid_self(w);
    A[1] = chance(w, 30) ? 0 : (uint64_t)(int64_t)gen_pid_self(w);
}

static void g_getgroups(struct worker *w, struct call *c) {
    size_t n = below(w, 64);
    A[0] = chance(w, 90) ? n : gen_int(w);
    A[1] = gen_out(w, n * 4 + 4);
}

static void g_setgroups(struct worker *w, struct call *c) {
    size_t n = below(w, 8);
    uint32_t *g = scratch(w, n * 4 + 4);
    for (size_t i = 0; i < n; i++)
        g[i] = gen_uid(w);
    A[0] = chance(w, 90) ? n : gen_int(w);
    A[1] = maybe_bad(w, g);
}

static void g_id1(struct worker *w, struct call *c) { A[0] = gen_uid(w); }

static void g_id2(struct worker *w, struct call *c) {
    A[0] = gen_uid(w);
    A[1] = gen_uid(w);
}

static void g_id3(struct worker *w, struct call *c) {
    A[0] = gen_uid(w);
    A[1] = gen_uid(w);
    A[2] = gen_uid(w);
}

static void g_getresid(struct worker *w, struct call *c) {
    for (int i = 0; i < 3; i++)
        A[i] = gen_out(w, 4);
}

static void g_capget(struct worker *w, struct call *c) {
    struct __user_cap_header_struct *h = scratch(w, sizeof(*h));
    static const uint32_t kVersions[] = {_LINUX_CAPABILITY_VERSION_1, _LINUX_CAPABILITY_VERSION_2,
                                         _LINUX_CAPABILITY_VERSION_3, 0, 0x12345678};
    h->version = PICK(w, kVersions);
    h->pid = chance(w, 50) ? 0 : gen_pid_self(w);
    A[0] = maybe_bad(w, h);
    A[1] = chance(w, 20) ? 0 : gen_out(w, 2 * sizeof(struct __user_cap_data_struct));
}

static void g_capset(struct worker *w, struct call *c) {
    g_capget(w, c);
    A[1] = chance(w, 10) ? 0 : gen_in_rand(w, 2 * sizeof(struct __user_cap_data_struct));
}

static void g_prctl(struct worker *w, struct call *c) {
    // Options about the caller's own harmless settings, and numbers no kernel knows.
    // Not PR_SET_SECCOMP, PR_SET_SYSCALL_USER_DISPATCH, PR_SET_MM, PR_SET_TSC,
    // PR_SET_FP_MODE, PR_SET_SPECULATION_CTRL, PR_SET_IO_FLUSHER.
    static const int64_t kOptions[] = {PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_GET_NAME, PR_SET_NAME,
                                       PR_GET_PDEATHSIG, PR_SET_PDEATHSIG, PR_GET_KEEPCAPS, PR_SET_KEEPCAPS,
                                       PR_GET_TIMERSLACK, PR_SET_TIMERSLACK, PR_GET_NO_NEW_PRIVS,
                                       PR_SET_NO_NEW_PRIVS, PR_GET_SECCOMP, PR_CAPBSET_READ,
                                       PR_GET_CHILD_SUBREAPER, PR_SET_CHILD_SUBREAPER, PR_GET_THP_DISABLE,
                                       PR_SET_THP_DISABLE, PR_GET_TID_ADDRESS, PR_GET_TIMING,
                                       PR_GET_ENDIAN, PR_MCE_KILL_GET, PR_GET_SECUREBITS, PR_CAP_AMBIENT,
                                       PR_GET_SPECULATION_CTRL, PR_GET_FP_MODE, PR_GET_TSC, PR_SET_VMA,
                                       PR_GET_IO_FLUSHER, 0, 100, 999, -1, INT_MAX, 0x12345678};
    int64_t opt = PICK(w, kOptions);
    A[0] = (uint64_t)opt;
    A[2] = A[3] = A[4] = 0;
    switch (opt) {
    case PR_SET_DUMPABLE:
    case PR_SET_KEEPCAPS:
    case PR_SET_CHILD_SUBREAPER:
    case PR_SET_THP_DISABLE: A[1] = gen_small(w, 2); break;
    case PR_SET_NO_NEW_PRIVS: A[1] = chance(w, 80) ? 1 : gen_int(w); break;
    case PR_GET_NAME: A[1] = gen_out(w, 16); break;
    case PR_SET_NAME: A[1] = gen_string(w, 30); break;
    case PR_SET_PDEATHSIG: A[1] = (uint64_t)(int64_t)gen_signal(w); break;
    case PR_GET_PDEATHSIG:
    case PR_GET_CHILD_SUBREAPER:
    case PR_GET_TSC:
    case PR_GET_TID_ADDRESS: A[1] = gen_out(w, 8); break;
    case PR_SET_TIMERSLACK: A[1] = PICK(w, ((const uint64_t[]){0, 1, 50000, 1000000})); break;
    case PR_CAPBSET_READ: A[1] = gen_small(w, 45); break;
    case PR_CAP_AMBIENT:
        A[1] = chance(w, 90) ? 1 + below(w, 4) : gen_int(w);  // IS_SET, RAISE, LOWER, CLEAR_ALL
        A[2] = gen_small(w, 45);
        break;
    case PR_GET_SPECULATION_CTRL: A[1] = gen_small(w, 3); break;
    case PR_SET_VMA:
        A[1] = chance(w, 90) ? 0 /* PR_SET_VMA_ANON_NAME */ : gen_int(w);
        arena_range(w, &A[2], &A[3]);
        A[4] = chance(w, 30) ? 0 : gen_string(w, 90);
        break;
    default:
        A[1] = chance(w, 50) ? 0 : gen_int(w);
        break;
    }
    if (chance(w, 5))
        A[2] = gen_int(w);  // nonzero unused arguments: EINVAL for most
}

static void g_arch_prctl(struct worker *w, struct call *c) {
    // Not ARCH_SET_FS (the TLS), ARCH_SET_CPUID 0, ARCH_MAP_VDSO_*, or the shadow stack.
    static const int64_t kCodes[] = {ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_GS, ARCH_GET_CPUID,
                                     ARCH_SET_CPUID, 0x1021 /* GET_XCOMP_SUPP */, 0x1022 /* GET_XCOMP_PERM */,
                                     0x1023 /* REQ_XCOMP_PERM */, 0x5005 /* SHSTK_STATUS */, 0, 0x1fff, -1};
    int64_t code = PICK(w, kCodes);
    A[0] = (uint64_t)code;
    switch (code) {
    case ARCH_SET_GS: A[1] = chance(w, 50) ? 0 : gen_int(w); break;
    case ARCH_SET_CPUID: A[1] = 1; break;
    case 0x1023: A[1] = gen_small(w, 20); break;
    default: A[1] = gen_out(w, 8); break;
    }
}

static void g_getrlimit(struct worker *w, struct call *c) {
    A[0] = gen_small(w, 17);
    A[1] = gen_out(w, 16);
}

// The new limit: the current one, an impossible one, or a raise (refused unprivileged). Only
// RLIMIT_CORE is ever lowered: the others are limits the fuzzer needs.
static uint64_t gen_rlimit(struct worker *w, int resource) {
    struct rlimit cur = {RLIM_INFINITY, RLIM_INFINITY};
    if (resource >= 0 && resource < 16)
        getrlimit(resource, &cur);
    struct rlimit *r = scratch(w, sizeof(*r));
    switch (below(w, 4)) {
    case 0: *r = cur; break;
    case 1: r->rlim_cur = cur.rlim_max == RLIM_INFINITY ? RLIM_INFINITY : cur.rlim_max;
            r->rlim_max = RLIM_INFINITY; break;
    case 2: r->rlim_cur = 100; r->rlim_max = 10; break;  // soft above hard: EINVAL
    default:
        if (resource == RLIMIT_CORE) {
            r->rlim_cur = 0;
            r->rlim_max = cur.rlim_max;
        } else {
            *r = cur;
        }
        break;
    }
    return ctl(w, r);  // garbage would lower limits (RLIMIT_CPU 0 kills)
}

static void g_setrlimit(struct worker *w, struct call *c) {
    A[0] = gen_small(w, 17);
    A[1] = gen_rlimit(w, (int)A[0]);
}

static void g_prlimit64(struct worker *w, struct call *c) {
    A[0] = chance(w, 40) ? 0 : (uint64_t)gen_pid_self(w);
    A[1] = gen_small(w, 17);
    A[2] = chance(w, 50) ? 0 : gen_rlimit(w, (int)A[1]);
    A[3] = chance(w, 50) ? 0 : gen_out(w, 16);
}

static void g_umask(struct worker *w, struct call *c) { A[0] = chance(w, 80) ? 022 : gen_int(w); }

static void g_getcpu(struct worker *w, struct call *c) {
    A[0] = chance(w, 20) ? 0 : gen_out(w, 4);
    A[1] = chance(w, 20) ? 0 : gen_out(w, 4);
    A[2] = chance(w, 80) ? 0 : gen_out(w, 128);
}

static void g_set_tid_address(struct worker *w, struct call *c) { A[0] = gen_out(w, 4); }

static void g_set_robust_list(struct worker *w, struct call *c) {
    // The list is walked when the thread exits: by then the buffer holds anything.
    uint64_t *head = scratch(w, 24);
    head[0] = (uint64_t)head;  // an empty list
    head[1] = gen_small(w, 64);
    head[2] = 0;
    A[0] = maybe_bad(w, head);
    A[1] = chance(w, 90) ? 24 : gen_int(w);
}

static void g_get_robust_list(struct worker *w, struct call *c) {
    A[0] = chance(w, 30) ? 0 : (uint64_t)gen_tid(w);
    A[1] = gen_out(w, 8);
    A[2] = gen_out(w, 8);
}

static void g_getpriority(struct worker *w, struct call *c) {
    A[0] = chance(w, 90) ? below(w, 3) : gen_int(w);
    A[1] = chance(w, 40) ? 0 : (uint64_t)gen_pid_self(w);
}

static void g_setpriority(struct worker *w, struct call *c) {
    // Never a lower priority (a starved worker would look hung), and never for a user's
    // processes (PRIO_USER reaches beyond this one).
    A[0] = chance(w, 90) ? below(w, 2) : gen_int(w);
    A[1] = chance(w, 40) ? 0 : (uint64_t)gen_pid_self(w);
    A[2] = PICK(w, ((const int64_t[]){0, -1, -20, -100, INT_MIN}));
    if (A[0] == PRIO_USER)
        A[1] = 0x40000000;
}

static void g_ioprio_get(struct worker *w, struct call *c) {
    A[0] = chance(w, 90) ? 1 + below(w, 3) : gen_int(w);
    A[1] = chance(w, 40) ? 0 : (uint64_t)gen_pid_self(w);
}

static void g_ioprio_set(struct worker *w, struct call *c) {
    g_ioprio_get(w, c);
    if (A[0] == 3 /* IOPRIO_WHO_USER */)
        A[1] = 0x40000000;
    // Best-effort levels, RT (refused unprivileged), and junk; not the idle class.
    unsigned cls = (unsigned)PICK(w, ((const unsigned[]){0, 1, 2, 4, 7}));
    A[2] = chance(w, 90) ? (cls << 13) | below(w, 8) : gen_int(w);
    if ((((uint32_t)A[2] >> 13) & 7) == 3)
        A[2] = 2 << 13;
}

static void g_sched_affinity_get(struct worker *w, struct call *c) {
    A[0] = chance(w, 40) ? 0 : (uint64_t)gen_tid(w);
    static const uint64_t kLens[] = {0, 1, 4, 8, 16, 128, 1024, 4097, (uint64_t)-1};
    A[1] = chance(w, 70) ? 128 : PICK(w, kLens);
    A[2] = gen_out(w, 128);
}

static void g_sched_affinity_set(struct worker *w, struct call *c) {
    g_sched_affinity_get(w, c);
    A[2] = gen_in_rand(w, 128);
}

static void g_sched_getparam(struct worker *w, struct call *c) {
    A[0] = chance(w, 40) ? 0 : (uint64_t)gen_tid(w);
    A[1] = gen_out(w, 4);
}

static void g_sched_setparam(struct worker *w, struct call *c) {
    A[0] = chance(w, 40) ? 0 : (uint64_t)gen_tid(w);
    int *p = scratch(w, 4);
    *p = chance(w, 80) ? 0 : (int)gen_int(w);
    A[1] = maybe_bad(w, p);
}

static void g_sched_setscheduler(struct worker *w, struct call *c) {
    // Not SCHED_IDLE: a starved worker would look hung.
    static const int64_t kPolicies[] = {SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, 6 /* DEADLINE */,
                                        7, -1, SCHED_OTHER | SCHED_RESET_ON_FORK, SCHED_BATCH | SCHED_RESET_ON_FORK};
    A[0] = chance(w, 40) ? 0 : (uint64_t)gen_tid(w);
    A[1] = (uint64_t)PICK(w, kPolicies);
    int *p = scratch(w, 4);
    *p = chance(w, 80) ? 0 : (int)gen_small(w, 99);
    A[2] = maybe_bad(w, p);
}

static void g_sched_policy(struct worker *w, struct call *c) {
    A[0] = (uint64_t)PICK(w, ((const int64_t[]){0, 1, 2, 3, 5, 6, 7, -1}));
}

static void g_sched_rr_get_interval(struct worker *w, struct call *c) {
    A[0] = chance(w, 40) ? 0 : (uint64_t)gen_tid(w);
    A[1] = gen_out(w, sizeof(struct timespec));
}

static void g_sched_getattr(struct worker *w, struct call *c) {
    A[0] = chance(w, 40) ? 0 : (uint64_t)gen_tid(w);
    static const uint64_t kSizes[] = {0, 47, 48, 56, 4096, 4097};
    A[2] = chance(w, 70) ? 56 : PICK(w, kSizes);
    A[1] = gen_out(w, 4096);
    A[3] = chance(w, 90) ? 0 : gen_int(w);
}

static void g_sched_setattr(struct worker *w, struct call *c) {
    A[0] = chance(w, 40) ? 0 : (uint64_t)gen_tid(w);
    uint32_t *attr = scratch(w, 64);
    memset(attr, 0, 64);
    attr[0] = chance(w, 80) ? 56 : (uint32_t)gen_small(w, 4096);  // size
    // Only policies that cannot slow a worker down: OTHER/BATCH at nice 0 or better,
    // FIFO/RR/DEADLINE (refused unprivileged), junk.
    attr[1] = (uint32_t)PICK(w, ((const uint32_t[]){SCHED_OTHER, SCHED_BATCH, SCHED_FIFO, SCHED_RR, 6, 7}));
    ((uint64_t *)attr)[1] = chance(w, 90) ? 0 : 0x1;  // sched_flags: RESET_ON_FORK
    ((int32_t *)attr)[4] = chance(w, 80) ? 0 : -5;  // sched_nice
    A[1] = ctl(w, attr);
    A[2] = chance(w, 90) ? 0 : gen_int(w);
}

static void g_wait4(struct worker *w, struct call *c) {
    // There are no children: every form ends at once.
    A[0] = (uint64_t)PICK(w, ((const int64_t[]){-1, 0, 0x40000000, -0x40000000, INT_MIN}));
    A[1] = chance(w, 40) ? 0 : gen_out(w, 4);
    A[2] = gen_flags(w, WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD);
    A[3] = chance(w, 60) ? 0 : gen_out(w, sizeof(struct rusage));
}

static void g_waitid(struct worker *w, struct call *c) {
    A[0] = chance(w, 90) ? below(w, 4) : gen_int(w);  // P_ALL, P_PID, P_PGID, P_PIDFD
    A[1] = A[0] == 3 ? (uint64_t)gen_fd_of(w, K_PIDFD) : (uint64_t)PICK(w, ((const int64_t[]){0, 0x40000000, -1}));
    A[2] = chance(w, 20) ? 0 : gen_out(w, sizeof(siginfo_t));
    A[3] = gen_flags(w, WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT | __WALL | __WCLONE);
    A[4] = chance(w, 60) ? 0 : gen_out(w, sizeof(struct rusage));
}

static void g_clone(struct worker *w, struct call *c) {
    // Only flag combinations every kernel refuses: a thread without shared signal handlers,
    // shared handlers without shared memory, a new mount namespace with a shared fs.
    static const uint64_t kInvalid[] = {CLONE_THREAD, CLONE_THREAD | CLONE_VM, CLONE_SIGHAND,
                                        CLONE_SIGHAND | CLONE_FS, CLONE_NEWNS | CLONE_FS,
                                        CLONE_NEWUSER | CLONE_FS, CLONE_THREAD | CLONE_FS | CLONE_FILES};
    A[0] = PICK(w, kInvalid) | (rnd(w) & (CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_SETTLS));
    A[1] = chance(w, 50) ? 0 : bad_ptr(w);
    A[2] = gen_out(w, 4);
    A[3] = gen_out(w, 4);
    A[4] = chance(w, 50) ? 0 : bad_ptr(w);
}

static void g_clone3(struct worker *w, struct call *c) {
    uint64_t *args = scratch(w, 128);
    memset(args, 0, 128);
    static const uint64_t kInvalid[] = {CLONE_THREAD, CLONE_THREAD | CLONE_VM, CLONE_SIGHAND,
                                        CLONE_NEWNS | CLONE_FS, CLONE_SIGHAND | CLONE_FS};
    args[0] = PICK(w, kInvalid);
    args[4] = chance(w, 50) ? 0 : rnd(w);  // exit_signal
    args[5] = chance(w, 50) ? 0 : bad_ptr(w);  // stack
    args[6] = gen_int(w);  // stack_size
    A[0] = ctl(w, args);  // zeros (the read-only page) would be a valid fork
    static const uint64_t kSizes[] = {0, 8, 63, 64, 80, 88, 4097};
    A[1] = chance(w, 60) ? 88 : PICK(w, kSizes);
}

static void g_personality(struct worker *w, struct call *c) {
    A[0] = chance(w, 70) ? 0xffffffff : 0;  // query, or PER_LINUX (what it is already)
}

static void g_rseq(struct worker *w, struct call *c) {
    A[0] = gen_out(w, 32);
    A[1] = PICK(w, ((const uint64_t[]){32, 0, 20, 33, 1024}));
    A[2] = gen_small(w, 2);  // RSEQ_FLAG_UNREGISTER
    A[3] = rnd(w) & 0xffffffff;
}

static void g_kcmp(struct worker *w, struct call *c) {
    A[0] = (uint64_t)gen_pid_self(w);
    A[1] = (uint64_t)gen_pid_self(w);
    A[2] = gen_small(w, 8);
    A[3] = (uint64_t)(int64_t)gen_fd(w);
    A[4] = A[2] == 7 /* KCMP_EPOLL_TFD */ ? gen_in_rand(w, 12) : (uint64_t)(int64_t)gen_fd(w);
}

static void g_getrandom(struct worker *w, struct call *c) {
    size_t room = 1 + below(w, 1024);
    A[0] = gen_out(w, room);
    A[1] = gen_size(w, room);
    A[2] = gen_flags(w, 7);  // NONBLOCK, RANDOM, INSECURE
}

// futex words: mostly in the page the workers share, so that waits meet wakes.
static uint64_t gen_futex_addr(struct worker *w) {
    unsigned r = (unsigned)below(w, 10);
    if (r < 7)
        return (uint64_t)&g_futex_words[below(w, 8)];
    if (r < 8)
        return (uint64_t)&g_futex_words[below(w, 1024)] + (chance(w, 20) ? 1 + below(w, 3) : 0);
    if (r < 9)
        return (uint64_t)scratch(w, 4);
    return bad_ptr(w);
}

static void g_futex(struct worker *w, struct call *c) {
    static const int kOps[] = {FUTEX_WAIT, FUTEX_WAKE, FUTEX_FD, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE,
                               FUTEX_WAKE_OP, FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI,
                               FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET, FUTEX_WAIT_REQUEUE_PI,
                               FUTEX_CMP_REQUEUE_PI, 13 /* LOCK_PI2 */, 14, 100};
    int op = PICK(w, kOps);
    // Only the two flag bits, or one far above the command: a bit below them would turn
    // the command into another (a LOCK_PI with no deadline).
    int flags = (int)(rnd(w) & (FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME));
    if (chance(w, 3))
        flags |= 1 << (9 + below(w, 22));
    A[0] = gen_futex_addr(w);
    A[1] = (uint64_t)(op | flags);
    // The expected value: what the word holds now (a real wait), or something else.
    uint32_t now = 0;
    if (A[0] - (uint64_t)g_futex_words < PAGE && (A[0] & 3) == 0)
        now = *(volatile uint32_t *)A[0];
    A[2] = chance(w, 60) ? now : gen_small(w, 4);
    switch (op) {
    case FUTEX_WAIT: A[3] = chance(w, 5) ? 0 : gen_timespec(w); break;
    case FUTEX_WAIT_BITSET:
        // An absolute time: already passed, or never (interrupted).
        A[3] = chance(w, 5) ? 0 : chance(w, 70) ? gen_timespec_abs_past(w) : gen_timespec(w);
        break;
    case FUTEX_LOCK_PI:
    case 13:
    case FUTEX_WAIT_REQUEUE_PI:
        // These restart after a signal whatever its flags: never without a deadline that
        // has passed (a lock held by another worker would be waited for forever).
        A[3] = gen_timespec_abs_past(w);
        break;
    default: A[3] = gen_small(w, 4); break;  // val2: a count
    }
    A[4] = gen_futex_addr(w);
    // FUTEX_WAKE_OP's operation: mostly a valid one (a shift above 31 makes the kernel log).
    uint64_t wake_op = rnd(w) & 0xffffffff;
    if (chance(w, 95))
        wake_op &= ~(0xfffull << 12) | (31ull << 12);  // the operand: a shift of 0 to 31
    A[5] = op == FUTEX_WAKE_OP ? wake_op : chance(w, 80) ? 0xffffffff : gen_int(w);
}

static void g_futex_waitv(struct worker *w, struct call *c) {
    size_t n = chance(w, 90) ? 1 + below(w, 4) : below(w, 130);
    struct {
        uint64_t val;
        uint64_t uaddr;
        uint32_t flags;
        uint32_t reserved;
    } *v = scratch(w, (n ? n : 1) * 24);
    for (size_t i = 0; i < n && i < 8; i++) {
        v[i].uaddr = gen_futex_addr(w);
        v[i].val = v[i].uaddr - (uint64_t)g_futex_words < PAGE && !(v[i].uaddr & 3) ? *(volatile uint32_t *)v[i].uaddr : 0;
        v[i].flags = chance(w, 90) ? 2 | (chance(w, 50) ? 128 : 0) : (uint32_t)gen_int(w);
        v[i].reserved = chance(w, 95) ? 0 : 1;
    }
    A[0] = ctl(w, v);
    A[1] = n;
    A[2] = chance(w, 90) ? 0 : gen_int(w);
    A[3] = chance(w, 70) ? gen_timespec_abs_past(w) : gen_timespec(w);
    A[4] = chance(w, 50) ? CLOCK_MONOTONIC : gen_clockid(w);
}

static void g_futex2_wake(struct worker *w, struct call *c) {
    A[0] = gen_futex_addr(w);
    A[1] = chance(w, 80) ? 0xffffffff : gen_int(w);  // mask
    A[2] = gen_small(w, 4);
    A[3] = chance(w, 90) ? 2 | (chance(w, 50) ? 128 : 0) : gen_int(w);
}

static void g_futex2_wait(struct worker *w, struct call *c) {
    A[0] = gen_futex_addr(w);
    A[1] = A[0] - (uint64_t)g_futex_words < PAGE && !(A[0] & 3) ? *(volatile uint32_t *)A[0] : 0;
    A[2] = chance(w, 80) ? 0xffffffff : gen_int(w);
    A[3] = chance(w, 90) ? 2 | (chance(w, 50) ? 128 : 0) : gen_int(w);
    A[4] = chance(w, 70) ? gen_timespec_abs_past(w) : gen_timespec(w);
    A[5] = chance(w, 50) ? CLOCK_MONOTONIC : gen_clockid(w);
}

static void g_unknown(struct worker *w, struct call *c) {
    // Numbers no x86-64 kernel assigns. Not random ones: the kernel reads the number as
    // 32 bits, so 1 << 32 | 60 is exit, and bit 30 selects the x32 calls; and not just past
    // the last known call (335, uretprobe, raises SIGILL when not called from a uretprobe).
    static const uint64_t kNumbers[] = {380, 400, 423, 512, 547, 600, 1000, 4096, 0x3fffffff,
                                        (uint64_t)-1, 1ull << 32 | 39 /* getpid natively */};
    c->nr = (long)PICK(w, kNumbers);
    for (int i = 0; i < 6; i++)
        A[i] = gen_int(w);
}

const struct sysdef g_calls_proc[] = {
    // time
    S(nanosleep, 8, 0, g_nanosleep, NULL),
    S(clock_nanosleep, 8, 0, g_clock_nanosleep, NULL),
    S(clock_gettime, 10, 0, g_clock_gettime, NULL),
    S(clock_getres, 5, 0, g_clock_gettime, NULL),
    S(gettimeofday, 5, 0, g_gettimeofday, NULL),
    S(time, 3, 0, g_time, NULL),
    S(getitimer, 5, 0, g_getitimer, NULL),
    S(setitimer, 8, 0, g_setitimer, NULL),
    S(alarm, 5, 0, g_alarm, NULL),
    S(timer_create, 8, 0, g_timer_create, p_timer_create),
    S(timer_settime, 10, 0, g_timer_settime, NULL),
    S(timer_gettime, 5, 0, g_timer_gettime, NULL),
    S(timer_getoverrun, 3, 0, g_timer_id, NULL),
    S(timer_delete, 5, 0, g_timer_id, p_timer_delete),
    S(times, 3, 0, g_out1, NULL),
    S(getrusage, 5, 0, g_getrusage, NULL),
    // signals
    S(rt_sigaction, 15, 0, g_rt_sigaction, NULL),
    S(rt_sigprocmask, 15, 0, g_rt_sigprocmask, NULL),
    S(rt_sigpending, 5, 0, g_rt_sigpending, NULL),
    S(rt_sigtimedwait, 5, 0, g_rt_sigtimedwait, NULL),
    S(rt_sigsuspend, 1, 0, g_rt_sigsuspend, NULL),
    S(pause, 1, 0, g_none, NULL),
    S(rt_sigqueueinfo, 5, 0, g_rt_sigqueueinfo, NULL),
    S(rt_tgsigqueueinfo, 5, 0, g_rt_tgsigqueueinfo, NULL),
    S(kill, 8, 0, g_kill, NULL),
    S(tkill, 5, 0, g_tkill, NULL),
    S(tgkill, 8, 0, g_tgkill, NULL),
    S(sigaltstack, 5, 0, g_sigaltstack, NULL),
    S(pidfd_open, 3, F_RETFD, g_pidfd_open, NULL),
    S(pidfd_send_signal, 3, 0, g_pidfd_send_signal, NULL),
    S(pidfd_getfd, 3, F_RETFD, g_pidfd_getfd, NULL),
    // process information and attributes
    S(getpid, 3, 0, g_none, NULL),
    S(getppid, 3, 0, g_none, NULL),
    S(gettid, 3, 0, g_none, NULL),
    S(getpgrp, 2, 0, g_none, NULL),
    S(getpgid, 3, 0, g_pid1, NULL),
    S(getsid, 3, 0, g_pid1, NULL),
    S(setpgid, 3, 0, g_setpgid, NULL),
    S(setsid, 2, 0, g_none, NULL),
    S(getuid, 2, 0, g_none, NULL),
    S(geteuid, 2, 0, g_none, NULL),
    S(getgid, 2, 0, g_none, NULL),
    S(getegid, 2, 0, g_none, NULL),
    S(getgroups, 3, 0, g_getgroups, NULL),
    S(setgroups, 3, 0, g_setgroups, NULL),
    S(setuid, 3, 0, g_id1, NULL),
    S(setgid, 3, 0, g_id1, NULL),
    S(setreuid, 3, 0, g_id2, NULL),
    S(setregid, 3, 0, g_id2, NULL),
    S(setresuid, 3, 0, g_id3, NULL),
    S(setresgid, 3, 0, g_id3, NULL),
    S(getresuid, 3, 0, g_getresid, NULL),
    S(getresgid, 3, 0, g_getresid, NULL),
    S(setfsuid, 3, 0, g_id1, NULL),
    S(setfsgid, 3, 0, g_id1, NULL),
    S(capget, 3, 0, g_capget, NULL),
    S(capset, 3, 0, g_capset, NULL),
    S(prctl, 15, 0, g_prctl, NULL),
    S(arch_prctl, 5, 0, g_arch_prctl, NULL),
    S(getrlimit, 5, 0, g_getrlimit, NULL),
    S(setrlimit, 5, 0, g_setrlimit, NULL),
    S(prlimit64, 5, 0, g_prlimit64, NULL),
    S(umask, 3, 0, g_umask, NULL),
    S(uname, 3, 0, g_out1, NULL),
    S(sysinfo, 3, 0, g_out1, NULL),
    S(getcpu, 3, 0, g_getcpu, NULL),
    S(set_tid_address, 3, 0, g_set_tid_address, NULL),
    S(set_robust_list, 3, 0, g_set_robust_list, NULL),
    S(get_robust_list, 3, 0, g_get_robust_list, NULL),
    S(getpriority, 3, 0, g_getpriority, NULL),
    S(setpriority, 3, 0, g_setpriority, NULL),
    S(ioprio_get, 3, 0, g_ioprio_get, NULL),
    S(ioprio_set, 3, 0, g_ioprio_set, NULL),
    S(sched_yield, 3, 0, g_none, NULL),
    S(sched_getaffinity, 3, 0, g_sched_affinity_get, NULL),
    S(sched_setaffinity, 3, 0, g_sched_affinity_set, NULL),
    S(sched_getparam, 3, 0, g_sched_getparam, NULL),
    S(sched_setparam, 3, 0, g_sched_setparam, NULL),
    S(sched_getscheduler, 3, 0, g_pid1, NULL),
    S(sched_setscheduler, 3, 0, g_sched_setscheduler, NULL),
    S(sched_get_priority_max, 2, 0, g_sched_policy, NULL),
    S(sched_get_priority_min, 2, 0, g_sched_policy, NULL),
    S(sched_rr_get_interval, 2, 0, g_sched_rr_get_interval, NULL),
    S(sched_getattr, 3, 0, g_sched_getattr, NULL),
    S(sched_setattr, 3, 0, g_sched_setattr, NULL),
    S(wait4, 3, 0, g_wait4, NULL),
    S(waitid, 3, 0, g_waitid, NULL),
    S(clone, 2, 0, g_clone, NULL),
    S(clone3, 2, 0, g_clone3, NULL),
    S(personality, 2, 0, g_personality, NULL),
    S(rseq, 2, 0, g_rseq, NULL),
    S(kcmp, 3, 0, g_kcmp, NULL),
    S(getrandom, 5, F_SIZE1, g_getrandom, NULL),
    S(futex, 25, 0, g_futex, NULL),
    S(futex_waitv, 5, 0, g_futex_waitv, NULL),
    N("futex_wake", NR_futex_wake, 3, 0, g_futex2_wake, NULL),
    N("futex_wait", NR_futex_wait, 3, 0, g_futex2_wait, NULL),
    N("restart_syscall", SYS_restart_syscall, 1, 0, g_none, NULL),
    N("unknown", -1, 2, 0, g_unknown, NULL),
};
const int g_ncalls_proc = (int)(sizeof(g_calls_proc) / sizeof(g_calls_proc[0]));
