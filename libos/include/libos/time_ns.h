// Nanosecond times, timeouts and timer intervals with Linux's limits. No time passes
// KTIME_MAX (292 years): a larger one given by the application is cut to it, and every sum
// or product saturates there instead of wrapping. A huge timeout or interval thus means "not
// for a very long time", never a deadline in the past. Pure code (unit-tested on the host).
#pragma once

#include <stdint.h>

namespace carbyne::libos {

inline constexpr uint64_t kNsPerSec = 1000000000ull;
// KTIME_MAX: the largest time Linux keeps.
inline constexpr uint64_t kTimeMaxNs = uint64_t(INT64_MAX);

// a + b, at most kTimeMaxNs.
constexpr uint64_t time_add(uint64_t a, uint64_t b) { return a >= kTimeMaxNs || b >= kTimeMaxNs - a ? kTimeMaxNs : a + b; }

// count * ns, at most kTimeMaxNs.
constexpr uint64_t time_mul(uint64_t count, uint64_t ns) {
    if (!count || !ns)
        return 0;
    return ns > kTimeMaxNs / count ? kTimeMaxNs : count * ns;
}

// The time from `now` until `deadline`: 0 once it has passed, at most kTimeMaxNs.
constexpr uint64_t time_until(uint64_t deadline, uint64_t now) {
    if (deadline <= now)
        return 0;
    return deadline - now < kTimeMaxNs ? deadline - now : kTimeMaxNs;
}

// A time given as seconds and nanoseconds (nsec < kNsPerSec), cut to KTIME_MAX as Linux's
// ktime_set does from KTIME_SEC_MAX whole seconds on.
constexpr uint64_t time_from(uint64_t sec, uint64_t nsec) {
    return sec >= kTimeMaxNs / kNsPerSec ? kTimeMaxNs : sec * kNsPerSec + nsec;
}

// A periodic timer that was due at `deadline` (<= now): the periods that have ended by
// `now` (at least 1), and in *next the first deadline after `now`, as hrtimer_forward
// finds it. A sum past KTIME_MAX stays there: such a timer does not fire again. With no
// interval (a one-shot timer) it is 1 and *next is 0.
constexpr uint64_t time_forward(uint64_t deadline, uint64_t interval, uint64_t now, uint64_t* next) {
    if (!interval) {
        *next = 0;
        return 1;
    }
    uint64_t count = 1;
    if (now > deadline)
        count += (now - deadline) / interval;
    *next = time_add(deadline, time_mul(count, interval));
    return count;
}

}  // namespace carbyne::libos
