// Per-thread prctl and scheduler settings: inheritance on clone, names (see thread_attrs.h).
#include "thread_attrs.h"

#include <carbyne/string.h>
#include <libos/pal.h>
#include <libos/lock.h>

#include "../fs/path.h"
#include "process.h"

namespace carbyne::libos {

void thread_attrs_inherit(Thread* child, Thread* parent) {
    SpinGuard g(g_process.lock);
    ThreadAttrs& to = child->attrs;
    const ThreadAttrs& from = parent->attrs;
    to = from;
    to.pdeath_signal = 0;  // never inherited (prctl(2))
    to.timer_slack_ns = 0;
    to.default_timer_slack_ns = from.timer_slack_ns ? from.timer_slack_ns : from.default_timer_slack_ns;
    if (from.reset_on_fork) {
        // sched_setscheduler(2): the new thread starts without the flag and a negative nice.
        to.reset_on_fork = false;
        if (to.nice < 0)
            to.nice = 0;
    }
    __atomic_store_n(&to.inherited, true, __ATOMIC_RELEASE);
}

void thread_attrs_ready(Thread* t) {
    if (t != current_thread() || t->tid == g_process.pid)
        return;
    while (!__atomic_load_n(&t->attrs.inherited, __ATOMIC_ACQUIRE))
        g_pal->thread_yield();
}

void thread_set_name(Thread* t, const char* name, size_t size) {
    char copy[16] = {};
    memcpy(copy, name, size < sizeof(copy) - 1 ? size : sizeof(copy) - 1);
    SpinGuard g(g_process.lock);
    memcpy(t->attrs.name, copy, sizeof(copy));
    t->attrs.named = true;
}

void thread_get_name(Thread* t, char out[16]) {
    SpinGuard g(g_process.lock);
    if (t->attrs.named)
        strlcpy(out, t->attrs.name, 16);
    else
        strlcpy(out, g_process.comm, 16);
}

}  // namespace carbyne::libos
