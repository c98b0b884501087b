// struct timespec and timeval at the system-call edge: checked reads, conversions.
#pragma once

#include <libos/result.h>
#include <libos/time_ns.h>
#include <libos/user.h>
#include <linux/time.h>
#include <linux/time_types.h>
#include <stdint.h>

namespace carbyne::libos {

inline struct __kernel_timespec to_timespec(uint64_t ns) { return {long(ns / kNsPerSec), long(ns % kNsPerSec)}; }
inline struct __kernel_old_timeval to_timeval(uint64_t ns) {
    return {long(ns / kNsPerSec), long((ns % kNsPerSec) / 1000)};
}

// A timespec's nanoseconds, at most kTimeMaxNs: EINVAL for a negative or unnormalized one.
inline Result<uint64_t> timespec_ns(const struct __kernel_timespec& ts) {
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= long(kNsPerSec))
        return Errno(EINVAL);
    return time_from(uint64_t(ts.tv_sec), uint64_t(ts.tv_nsec));
}

inline Result<uint64_t> read_timespec(uint64_t user) {
    return timespec_ns(TRY(UserPtr<struct __kernel_timespec>(user).read()));
}

// A timeval's nanoseconds, at most kTimeMaxNs: EINVAL for a negative or unnormalized one.
inline Result<uint64_t> timeval_ns(const struct __kernel_old_timeval& tv) {
    if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return Errno(EINVAL);
    return time_from(uint64_t(tv.tv_sec), uint64_t(tv.tv_usec) * 1000);
}

}  // namespace carbyne::libos
