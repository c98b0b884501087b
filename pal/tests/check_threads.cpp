// Events and waiting, and PAL threads: start, shared memory, exit, their %gs control blocks.
#include <asm/unistd.h>
#include <linux/signal.h>

#include "pal_test.h"

namespace pal_test {

namespace {

constexpr int kIncrements = 100000;
constexpr int kParallel = 8;
constexpr int kRounds = 3;

// Waits on ev and returns the error and the time it took.
PalError timed_wait(PalHandle* ev, uint64_t timeout_ns, uint64_t* took_ns) {
    uint64_t start = monotonic_ns();
    PalError err = g_api->event_wait(ev, timeout_ns);
    *took_ns = monotonic_ns() - start;
    return err;
}

struct Counting {
    uint64_t* counter;
    PalHandle* done;
    void* arg_seen;
};

void counting_thread(void* arg) {
    auto* w = static_cast<Counting*>(arg);
    w->arg_seen = arg;
    for (int i = 0; i < kIncrements; i++)
        __atomic_fetch_add(w->counter, 1, __ATOMIC_RELAXED);
    g_api->event_set(w->done);
    g_api->thread_exit(nullptr);
}

struct Sleeper {
    PalHandle* ev;
    uint64_t delay_ns;
    int32_t exited;  // cleared by thread_exit
};

void sleeping_setter(void* arg) {
    auto* s = static_cast<Sleeper*>(arg);
    g_api->sleep(s->delay_ns, nullptr);
    g_api->event_set(s->ev);
    g_api->thread_exit(&s->exited);
}

struct Exiting {
    int32_t word;
    int32_t started;
};

void exiting_thread(void* arg) {
    auto* e = static_cast<Exiting*>(arg);
    __atomic_store_n(&e->started, 1, __ATOMIC_RELEASE);
    g_api->sleep(5 * kMsec, nullptr);
    g_api->thread_exit(&e->word);
}

// Two threads meet after writing their %gs:8 slots, then read them back.
struct TcbProbe {
    int32_t* arrived;
    int parties;
    PalHandle* done;
    void* value;  // what this thread stores in its libos_tcb slot
    PalTcbPublic* self;
    PalTcbPublic* self_self;
    void* slot_read;
    void* slot_via_tcb;
    bool met;
};

void tcb_thread(void* arg) {
    auto* p = static_cast<TcbProbe*>(arg);
    p->self = gs_self();
    p->self_self = p->self->self;
    set_gs_libos_tcb(p->value);
    __atomic_fetch_add(p->arrived, 1, __ATOMIC_ACQ_REL);
    p->met = wait_for_word(p->arrived, p->parties);
    p->slot_read = gs_libos_tcb();
    p->slot_via_tcb = p->self->libos_tcb;
    g_api->event_set(p->done);
    g_api->thread_exit(nullptr);
}

struct FaultProbe {
    const void* addr;
    PalHandle* done;
    bool faulted;
    Fault fault;
    PalTcbPublic* self;
};

void faulting_thread(void* arg) {
    auto* p = static_cast<FaultProbe*>(arg);
    p->self = gs_self();
    p->faulted = probe_load(p->addr, &p->fault);
    g_api->event_set(p->done);
    g_api->thread_exit(nullptr);
}

// Sends SIGUSR1 to a thread every 20 ms until told to stop (the host runs its tgkill:
// interception is not on yet).
struct Interrupter {
    long pid, tid;
    int32_t stop;
    int32_t exited;  // cleared by thread_exit
};

void interrupting_thread(void* arg) {
    auto* in = static_cast<Interrupter*>(arg);
    for (int i = 0; i < 500 && !__atomic_load_n(&in->stop, __ATOMIC_ACQUIRE); i++) {
        g_api->sleep(20 * kMsec, nullptr);
        pal_test_raw_syscall3(__NR_tgkill, in->pid, in->tid, SIGUSR1);
    }
    g_api->thread_exit(&in->exited);
}

struct Waiter {
    PalHandle* ev;
    int32_t* woken;
    PalError result;
    int32_t exited;  // cleared by thread_exit
};

void waiting_thread(void* arg) {
    auto* w = static_cast<Waiter*>(arg);
    w->result = g_api->event_wait(w->ev, kWaitLimitNs);
    if (w->result == PAL_OK)
        __atomic_fetch_add(w->woken, 1, __ATOMIC_ACQ_REL);
    g_api->thread_exit(&w->exited);
}

// Waits on an event that nobody sets; the main thread interrupts it with thread_interrupt.
struct Interrupted {
    PalHandle* ev;
    int64_t id;          // its thread_id, published before it waits
    PalError result;
    int32_t exited;      // cleared by thread_exit
};

void interrupted_thread(void* arg) {
    auto* w = static_cast<Interrupted*>(arg);
    __atomic_store_n(&w->id, g_api->thread_id(), __ATOMIC_RELEASE);
    w->result = g_api->event_wait(w->ev, kWaitLimitNs);
    g_api->thread_exit(&w->exited);
}

// Polls until *word >= want, at most kWaitLimitNs.
bool wait_at_least(const int32_t* word, int32_t want) {
    uint64_t deadline = monotonic_ns() + kWaitLimitNs;
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < want) {
        if (monotonic_ns() > deadline)
            return false;
        g_api->sleep(kMsec, nullptr);
    }
    return true;
}

}  // namespace

void check_events() {
    uint64_t took = 0;
    PalHandle* ev = nullptr;
    {
        Check c("event-timeout");
        if (c.expect_ok(g_api->event_create(0, 1, &ev), "event_create")) {
            c.expect_error(timed_wait(ev, 10 * kMsec, &took), PAL_E_TIMEDOUT, "wait 10 ms on a clear event");
            c.expect(took >= 10 * kMsec && took < 5 * kSec, "a 10 ms wait took %lu ns", took);
            c.expect_error(g_api->event_wait(ev, 0), PAL_E_TIMEDOUT, "wait 0 on a clear event");
        } else {
            ev = nullptr;
        }
    }
    {
        Check c("event-auto-clear");
        if (c.expect(ev != nullptr, "no event")) {
            g_api->event_set(ev);
            c.expect_ok(timed_wait(ev, 5 * kSec, &took), "wait on a set event");
            c.expect(took < kSec, "waiting on a set event took %lu ns", took);
            c.expect_error(g_api->event_wait(ev, 10 * kMsec), PAL_E_TIMEDOUT, "second wait (auto-clear)");
            g_api->event_set(ev);
            g_api->event_set(ev);
            c.expect_ok(g_api->event_wait(ev, 10 * kMsec), "wait after two sets");
            c.expect_error(g_api->event_wait(ev, 10 * kMsec), PAL_E_TIMEDOUT, "two sets satisfy one wait only");
            g_api->event_set(ev);
            g_api->event_clear(ev);
            c.expect_error(g_api->event_wait(ev, 0), PAL_E_TIMEDOUT, "wait after event_clear");
        }
    }
    {
        Check c("event-manual-reset");
        PalHandle* manual = nullptr;
        if (c.expect_ok(g_api->event_create(0, 0, &manual), "event_create")) {
            g_api->event_set(manual);
            c.expect_ok(g_api->event_wait(manual, 10 * kMsec), "first wait");
            c.expect_ok(g_api->event_wait(manual, 10 * kMsec), "second wait: a manual event stays set");
            g_api->event_clear(manual);
            c.expect_error(g_api->event_wait(manual, 10 * kMsec), PAL_E_TIMEDOUT, "wait after event_clear");
            g_api->event_clear(manual);  // clearing a clear event is harmless
            c.expect_error(g_api->event_wait(manual, 0), PAL_E_TIMEDOUT, "wait after a second event_clear");
            g_api->stream_close(manual);
        }
    }
    {
        // counter_create: eventfd(2)'s counter, read and written 8 bytes at a time.
        Check c("counter");
        PalHandle* counter = nullptr;
        if (c.expect_ok(g_api->counter_create(uint64_t(1) << 40, 0, &counter), "counter_create")) {
            uint64_t v = 0;
            size_t done = 0;
            c.expect_ok(g_api->stream_read(counter, PAL_NO_OFFSET, &v, 8, &done), "read");
            c.expect(done == 8 && v == uint64_t(1) << 40, "read %zu bytes: %llu", done, (unsigned long long)v);
            c.expect_error(g_api->stream_read(counter, PAL_NO_OFFSET, &v, 8, &done), PAL_E_AGAIN, "read of zero");
            v = 3;
            c.expect_ok(g_api->stream_write(counter, PAL_NO_OFFSET, &v, 8, &done), "write");
            uint32_t want = PAL_WAIT_READ, ready = 0;
            c.expect_ok(g_api->wait_for_many(1, &counter, &want, &ready, 0), "wait_for_many");
            c.expect(ready & PAL_WAIT_READ, "a nonzero counter is not readable");
            g_api->stream_close(counter);
        }
        PalHandle* sem = nullptr;
        if (c.expect_ok(g_api->counter_create(2, 1, &sem), "counter_create(semaphore)")) {
            uint64_t v = 0;
            size_t done = 0;
            c.expect_ok(g_api->stream_read(sem, PAL_NO_OFFSET, &v, 8, &done), "semaphore read");
            c.expect(v == 1, "a semaphore read gave %llu", (unsigned long long)v);
            g_api->stream_close(sem);
        }
    }
    {
        Check c("event-initially-set");
        PalHandle* initially = nullptr;
        if (c.expect_ok(g_api->event_create(1, 1, &initially), "event_create")) {
            c.expect_ok(g_api->event_wait(initially, 0), "first wait");
            c.expect_error(g_api->event_wait(initially, 0), PAL_E_TIMEDOUT, "second wait");
            g_api->stream_close(initially);
        }
    }
    {
        Check c("wait-for-many");
        PalHandle* evs[2] = {};
        if (c.expect_ok(g_api->event_create(0, 0, &evs[0]), "event_create 0") &&
            c.expect_ok(g_api->event_create(0, 0, &evs[1]), "event_create 1")) {
            const uint32_t want[2] = {PAL_WAIT_READ, PAL_WAIT_READ};
            uint32_t ready[2] = {0xdead, 0xdead};
            c.expect_error(g_api->wait_for_many(2, evs, want, ready, 10 * kMsec), PAL_E_TIMEDOUT, "neither set");
            g_api->event_set(evs[1]);
            if (c.expect_ok(g_api->wait_for_many(2, evs, want, ready, kSec), "second set")) {
                c.expect(ready[1] & PAL_WAIT_READ, "ready[1] = %#x lacks PAL_WAIT_READ", ready[1]);
                c.expect(!(ready[0] & PAL_WAIT_READ), "ready[0] = %#x has PAL_WAIT_READ", ready[0]);
            }
            g_api->event_set(evs[0]);
            g_api->event_clear(evs[1]);
            if (c.expect_ok(g_api->wait_for_many(2, evs, want, ready, kSec), "first set")) {
                c.expect((ready[0] & PAL_WAIT_READ) && !(ready[1] & PAL_WAIT_READ), "ready %#x %#x", ready[0],
                         ready[1]);
            }
        }
        for (PalHandle* h : evs)
            g_api->stream_close(h);
    }
    {
        Check c("wait-bad-arguments");
        PalHandle* console = nullptr;
        if (c.expect_ok(g_api->console_open(PAL_CONSOLE_OUT, &console), "console_open")) {
            c.expect_error(g_api->event_wait(console, 0), PAL_E_BADHANDLE, "event_wait on a console");
            g_api->stream_close(console);
        }
        PalHandle* none[1] = {nullptr};
        const uint32_t want[1] = {PAL_WAIT_READ};
        uint32_t ready[1];
        c.expect_error(g_api->wait_for_many(1, none, want, ready, 0), PAL_E_BADHANDLE, "wait_for_many on NULL");
        if (ev) {
            PalHandle* many[65];
            uint32_t wants[65], readies[65];
            for (int i = 0; i < 65; i++) {
                many[i] = ev;
                wants[i] = PAL_WAIT_READ;
            }
            c.expect_error(g_api->wait_for_many(65, many, wants, readies, 0), PAL_E_INVAL, "65 handles");
        }
    }
    {
        // A waiter blocked in event_wait is woken by event_set from another thread.
        Check c("event-wakes-waiter");
        if (c.expect(ev != nullptr, "no event")) {
            Sleeper s = {ev, 30 * kMsec, 1};
            uint64_t start = monotonic_ns();
            if (c.expect_ok(g_api->thread_create(sleeping_setter, &s), "thread_create")) {
                c.expect_ok(g_api->event_wait(ev, kWaitLimitNs), "event_wait");
                took = monotonic_ns() - start;
                c.expect(took >= 30 * kMsec, "woken after %lu ns, before the setter's 30 ms sleep ended", took);
            }
        }
    }
    {
        // Timeouts too long to add to the clock wait like PAL_WAIT_FOREVER: until the set.
        Check c("event-wait-long-timeouts");
        const uint64_t timeouts[] = {PAL_WAIT_FOREVER, PAL_WAIT_FOREVER - 1, 1ull << 63};
        for (uint64_t timeout : timeouts) {
            PalHandle* fresh = nullptr;
            if (!c.expect_ok(g_api->event_create(0, 1, &fresh), "event_create"))
                break;
            Sleeper s = {fresh, 50 * kMsec, 1};
            uint64_t start = monotonic_ns();
            if (c.expect_ok(g_api->thread_create(sleeping_setter, &s), "thread_create")) {
                PalError err = g_api->event_wait(fresh, timeout);
                took = monotonic_ns() - start;
                c.expect(err == PAL_OK && took >= 50 * kMsec,
                         "event_wait(timeout %#lx): %s after %lu ns, before the set 50 ms in", timeout, error_name(err),
                         took);
                c.expect(wait_for_word(&s.exited, 0), "the setter did not exit");
            }
            g_api->stream_close(fresh);
        }
    }
    {
        // One set of an auto-clear event releases exactly one of two waiters.
        Check c("event-auto-clear-wakes-one");
        int32_t woken = 0;
        Waiter w[2] = {};
        int started = 0;
        if (c.expect(ev != nullptr, "no event")) {
            for (int i = 0; i < 2; i++) {
                w[i] = {ev, &woken, PAL_E_UNKNOWN, 1};
                if (!c.expect_ok(g_api->thread_create(waiting_thread, &w[i]), "thread_create"))
                    break;
                started++;
            }
            g_api->sleep(50 * kMsec, nullptr);  // both are most likely blocked by now
            g_api->event_set(ev);
            c.expect(wait_at_least(&woken, 1), "no waiter woke");
            g_api->sleep(50 * kMsec, nullptr);
            c.expect(__atomic_load_n(&woken, __ATOMIC_ACQUIRE) == 1, "one set woke %d waiters", woken);
            g_api->event_set(ev);
            if (started == 2)
                c.expect(wait_at_least(&woken, 2), "the second set woke nobody");
            for (int i = 0; i < started; i++) {
                c.expect(wait_for_word(&w[i].exited, 0), "waiter %d did not exit", i);
                c.expect_ok(w[i].result, "a waiter's event_wait");
            }
        }
    }
    {
        // Blocking PAL calls end early with PAL_E_INTR when a host signal arrives.
        Interrupter in = {pal_test_raw_syscall3(__NR_getpid, 0, 0, 0), pal_test_raw_syscall3(__NR_gettid, 0, 0, 0),
                          0, 1};
        int faults_before = last_fault().count;
        bool running = ev && g_api->thread_create(interrupting_thread, &in) == PAL_OK;
        {
            Check c("event-wait-interrupted");
            if (c.expect(running, "no signalling thread")) {
                c.expect_error(timed_wait(ev, kWaitLimitNs, &took), PAL_E_INTR, "event_wait with host signals coming");
                c.expect(took < kWaitLimitNs, "the wait was not cut short (%lu ns)", took);
                Fault f = last_fault();
                c.expect(f.count > faults_before && f.exc.kind == PAL_EXC_INTERRUPT && f.exc.host_signal == SIGUSR1,
                         "the exception upcall saw no SIGUSR1 (kind %d, signal %d)", f.exc.kind, f.exc.host_signal);
            }
        }
        {
            Check c("sleep-interrupted");
            if (c.expect(running, "no signalling thread")) {
                uint64_t remaining = 0;
                uint64_t start = monotonic_ns();
                c.expect_error(g_api->sleep(kWaitLimitNs, &remaining), PAL_E_INTR, "sleep with host signals coming");
                took = monotonic_ns() - start;
                c.expect(took < kWaitLimitNs, "the sleep was not cut short (%lu ns)", took);
                c.expect(remaining > 0 && remaining <= kWaitLimitNs, "remaining %lu ns after %lu ns of a %lu ns sleep",
                         remaining, took, kWaitLimitNs);
            }
        }
        if (running) {
            __atomic_store_n(&in.stop, 1, __ATOMIC_RELEASE);
            if (!wait_for_word(&in.exited, 0))
                log_line("FAIL event-wait-interrupted: the signalling thread did not exit");
            // A signal sent just before the thread stopped must not cut a later check's wait.
            for (int i = 0; i < 10 && g_api->sleep(kMsec, nullptr) == PAL_E_INTR; i++) {
            }
        }
    }
    {
        // thread_interrupt wakes exactly the thread it names, with a PAL_EXC_WAKE upcall.
        Check c("thread-interrupt");
        Interrupted w = {nullptr, 0, PAL_OK, 1};
        int64_t self = g_api->thread_id();
        c.expect(self > 0, "thread_id %ld", self);
        c.expect_error(g_api->thread_interrupt(0), PAL_E_INVAL, "thread_interrupt(0)");
        if (c.expect_ok(g_api->event_create(0, 1, &w.ev), "event_create") &&
            c.expect_ok(g_api->thread_create(interrupted_thread, &w), "thread_create")) {
            uint64_t deadline = monotonic_ns() + kWaitLimitNs;
            while (!__atomic_load_n(&w.id, __ATOMIC_ACQUIRE) && monotonic_ns() < deadline)
                g_api->sleep(kMsec, nullptr);
            c.expect(w.id > 0 && w.id != self, "the new thread's id %ld (main %ld)", w.id, self);
            g_api->sleep(20 * kMsec, nullptr);  // let it block
            int faults_before = last_fault().count;
            uint64_t start = monotonic_ns();
            // Interrupt until it has left its wait (the first one may land before it blocks).
            while (__atomic_load_n(&w.exited, __ATOMIC_ACQUIRE) && monotonic_ns() - start < kWaitLimitNs) {
                c.expect_ok(g_api->thread_interrupt(w.id), "thread_interrupt");
                g_api->sleep(5 * kMsec, nullptr);
            }
            c.expect(wait_for_word(&w.exited, 0), "the interrupted thread did not exit");
            c.expect_error(w.result, PAL_E_INTR, "the interrupted event_wait");
            Fault f = last_fault();
            c.expect(f.count > faults_before && f.exc.kind == PAL_EXC_WAKE, "no PAL_EXC_WAKE upcall (kind %d)",
                     f.exc.kind);
        }
        if (w.ev)
            g_api->stream_close(w.ev);
    }
    if (ev)
        g_api->stream_close(ev);
}

void check_threads() {
    {
        Check c("thread-run");
        uint64_t counter = 0;
        Counting w = {&counter, nullptr, nullptr};
        if (c.expect_ok(g_api->event_create(0, 1, &w.done), "event_create")) {
            if (c.expect_ok(g_api->thread_create(counting_thread, &w), "thread_create") &&
                c.expect_ok(g_api->event_wait(w.done, kWaitLimitNs), "event_wait")) {
                c.expect(__atomic_load_n(&counter, __ATOMIC_ACQUIRE) == kIncrements, "counter %lu, expected %d",
                         counter, kIncrements);
                c.expect(w.arg_seen == &w, "the thread got arg %p, expected %p", w.arg_seen, &w);
            }
            g_api->stream_close(w.done);
        }
    }
    {
        // Rounds, so that later thread_create calls also reap the blocks of exited threads.
        Check c("threads-parallel");
        for (int round = 0; round < kRounds && !c.failed(); round++) {
            uint64_t counter = 0;
            Counting w[kParallel] = {};
            int started = 0;
            for (int i = 0; i < kParallel; i++) {
                w[i].counter = &counter;
                if (!c.expect_ok(g_api->event_create(0, 0, &w[i].done), "event_create"))
                    break;
                if (!c.expect_ok(g_api->thread_create(counting_thread, &w[i]), "thread_create")) {
                    g_api->stream_close(w[i].done);
                    break;
                }
                started++;
            }
            for (int i = 0; i < started; i++) {
                c.expect_ok(g_api->event_wait(w[i].done, kWaitLimitNs), "event_wait");
                g_api->stream_close(w[i].done);
            }
            uint64_t total = __atomic_load_n(&counter, __ATOMIC_ACQUIRE);
            c.expect(total == uint64_t(kParallel) * kIncrements, "round %d: counter %lu, expected %d", round, total,
                     kParallel * kIncrements);
        }
    }
    {
        Check c("thread-exit-clears-word");
        Exiting e = {1, 0};
        if (c.expect_ok(g_api->thread_create(exiting_thread, &e), "thread_create")) {
            c.expect(wait_for_word(&e.started, 1), "the thread did not start");
            c.expect(wait_for_word(&e.word, 0), "thread_exit(&word) never cleared the word");
        }
    }
    {
        Check c("thread-gs-tcb");
        PalTcbPublic* main_self = gs_self();
        c.expect(main_self && main_self->self == main_self, "main thread: %%gs:0 = %p, its self field %p", main_self,
                 main_self ? main_self->self : nullptr);
        void* main_slot = gs_libos_tcb();
        void* const kMainValue = reinterpret_cast<void*>(0xa11ce000ull);
        set_gs_libos_tcb(kMainValue);
        c.expect(main_self->libos_tcb == kMainValue, "writing %%gs:8 did not change PalTcbPublic::libos_tcb");
        int32_t arrived = 0;
        TcbProbe p[2] = {};
        int started = 0;
        for (int i = 0; i < 2; i++) {
            p[i].arrived = &arrived;
            p[i].parties = 2;
            p[i].value = reinterpret_cast<void*>(0xb0b00000ull + uint64_t(i) * 0x1000);
            if (!c.expect_ok(g_api->event_create(0, 0, &p[i].done), "event_create"))
                break;
            if (!c.expect_ok(g_api->thread_create(tcb_thread, &p[i]), "thread_create")) {
                g_api->stream_close(p[i].done);
                break;
            }
            started++;
        }
        for (int i = 0; i < started; i++) {
            c.expect_ok(g_api->event_wait(p[i].done, kWaitLimitNs), "event_wait");
            g_api->stream_close(p[i].done);
        }
        if (started == 2) {
            for (int i = 0; i < 2; i++) {
                c.expect(p[i].met, "thread %d: the two threads never ran together", i);
                c.expect(p[i].self && p[i].self_self == p[i].self, "thread %d: %%gs:0 = %p, its self field %p", i,
                         p[i].self, p[i].self_self);
                c.expect(p[i].self != main_self, "thread %d shares the main thread's TCB %p", i, main_self);
                c.expect(p[i].slot_read == p[i].value, "thread %d: %%gs:8 reads %p, it wrote %p", i, p[i].slot_read,
                         p[i].value);
                c.expect(p[i].slot_via_tcb == p[i].value, "thread %d: libos_tcb field %p, %%gs:8 was set to %p", i,
                         p[i].slot_via_tcb, p[i].value);
            }
            c.expect(p[0].self != p[1].self, "two threads share the TCB %p", p[0].self);
        }
        c.expect(gs_libos_tcb() == kMainValue, "the main thread's %%gs:8 became %p", gs_libos_tcb());
        set_gs_libos_tcb(main_slot);
    }
    {
        Check c("exception-in-thread");
        void* page = nullptr;
        FaultProbe p = {};
        if (c.expect_ok(g_api->memory_alloc(nullptr, kPageSize, PAL_PROT_NONE, 0, &page), "memory_alloc") &&
            c.expect_ok(g_api->event_create(0, 0, &p.done), "event_create")) {
            p.addr = page;
            if (c.expect_ok(g_api->thread_create(faulting_thread, &p), "thread_create") &&
                c.expect_ok(g_api->event_wait(p.done, kWaitLimitNs), "event_wait")) {
                c.expect(p.faulted, "no exception in the thread");
                c.expect(p.fault.exc.kind == PAL_EXC_MEMFAULT && p.fault.exc.addr == uint64_t(page),
                         "kind %d addr %#lx", p.fault.exc.kind, p.fault.exc.addr);
                c.expect(p.fault.self == p.self && p.self != gs_self(),
                         "the handler ran with %%gs:0 = %p, the faulting thread's is %p", p.fault.self, p.self);
            }
            g_api->stream_close(p.done);
        }
        if (page)
            g_api->memory_free(page, kPageSize);
    }
}

}  // namespace pal_test
