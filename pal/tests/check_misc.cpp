// Clocks and sleep, random bytes, the current CPU, and the application's %fs base.
#include <asm/unistd.h>

#include "pal_test.h"

namespace pal_test {

namespace {

constexpr uint64_t k2020 = 1577836800ull * kSec;  // 2020-01-01T00:00:00Z

}  // namespace

void check_time() {
    {
        Check c("time-monotonic");
        uint64_t prev = 0, now = 0;
        int backwards = 0;
        c.expect_ok(g_api->time_get(PAL_CLOCK_MONOTONIC, &prev), "time_get");
        uint64_t first = prev;
        for (int i = 0; i < 1000; i++) {
            if (!c.expect_ok(g_api->time_get(PAL_CLOCK_MONOTONIC, &now), "time_get"))
                break;
            backwards += now < prev;
            prev = now;
        }
        c.expect(backwards == 0, "MONOTONIC went backwards %d times in 1000 reads", backwards);
        c.expect(first > 0 && now > first, "1000 reads from %lu to %lu did not advance", first, now);
        uint64_t boot = 0;
        if (c.expect_ok(g_api->time_get(PAL_CLOCK_BOOTTIME, &boot), "BOOTTIME"))
            c.expect(boot >= now, "BOOTTIME %lu before MONOTONIC %lu", boot, now);
    }
    {
        Check c("time-realtime");
        uint64_t now = 0;
        if (c.expect_ok(g_api->time_get(PAL_CLOCK_REALTIME, &now), "time_get"))
            c.expect(now > k2020, "REALTIME %lu ns is before 2020-01-01", now);
    }
    {
        Check c("time-sleep");
        uint64_t remaining = 123;
        uint64_t start = monotonic_ns();
        c.expect_ok(g_api->sleep(20 * kMsec, &remaining), "sleep 20 ms");
        uint64_t took = monotonic_ns() - start;
        c.expect(took >= 20 * kMsec, "sleep(20 ms) took %lu ns", took);
        c.expect(took < 5 * kSec, "sleep(20 ms) took %lu ns", took);
        c.expect(remaining == 0, "remaining %lu after an uninterrupted sleep", remaining);
        start = monotonic_ns();
        c.expect_ok(g_api->sleep(kSec + 5 * kMsec, nullptr), "sleep 1.005 s");
        took = monotonic_ns() - start;
        c.expect(took >= kSec + 5 * kMsec, "sleep(1.005 s) took %lu ns", took);
    }
    {
        Check c("resource-usage");
        PalUsage before = {}, after = {}, thread = {};
        c.expect_ok(g_api->resource_usage(0, &before), "resource_usage(process)");
        volatile uint64_t x = 0;
        for (uint64_t i = 0; i < 50000000; i++)
            x = x + i;
        // The thread first: the process's total, read later, includes all of it. Totals,
        // because the host splits each one into user and system time on its own.
        c.expect_ok(g_api->resource_usage(1, &thread), "resource_usage(thread)");
        c.expect_ok(g_api->resource_usage(0, &after), "resource_usage(process)");
        c.expect(after.user_ns + after.system_ns > before.user_ns + before.system_ns,
                 "CPU time did not grow over a busy loop (%lu -> %lu ns)", before.user_ns, after.user_ns);
        c.expect(after.max_rss_kib > 0, "max RSS %lu KiB", after.max_rss_kib);
        c.expect(thread.user_ns + thread.system_ns <= after.user_ns + after.system_ns + kMsec,
                 "thread CPU time %lu > process %lu", thread.user_ns + thread.system_ns,
                 after.user_ns + after.system_ns);
    }
    {
        Check c("time-resolution");
        uint64_t res = 0;
        if (c.expect_ok(g_api->time_resolution(PAL_CLOCK_MONOTONIC, &res), "MONOTONIC"))
            c.expect(res > 0 && res <= kMsec, "MONOTONIC resolution %lu ns", res);
        res = 0;
        if (c.expect_ok(g_api->time_resolution(PAL_CLOCK_REALTIME, &res), "REALTIME"))
            c.expect(res > 0, "REALTIME resolution %lu ns", res);
    }
    {
        Check c("time-cpu-clocks");
        uint64_t before = 0, after = 0, process = 0;
        c.expect_ok(g_api->time_get(PAL_CLOCK_THREAD_CPU, &before), "THREAD_CPU");
        // Busy work until the thread has used 10 ms of CPU, or 5 s have passed.
        uint64_t deadline = monotonic_ns() + 5 * kSec;
        volatile uint64_t sink = 0;
        do {
            for (int i = 0; i < 10000; i++)
                sink = sink + uint64_t(i);
            if (!c.expect_ok(g_api->time_get(PAL_CLOCK_THREAD_CPU, &after), "THREAD_CPU"))
                break;
        } while (after < before + 10 * kMsec && monotonic_ns() < deadline);
        c.expect_ok(g_api->time_get(PAL_CLOCK_PROCESS_CPU, &process), "PROCESS_CPU");
        c.expect(after >= before + 10 * kMsec, "THREAD_CPU advanced %lu ns in 5 s of busy work", after - before);
        c.expect(process >= after, "PROCESS_CPU %lu below THREAD_CPU %lu", process, after);
    }
    {
        Check c("time-invalid-clock");
        uint64_t ns = 0;
        c.expect_error(g_api->time_get(PalClock(99), &ns), PAL_E_INVAL, "time_get clock 99");
        c.expect_error(g_api->time_resolution(PalClock(99), &ns), PAL_E_INVAL, "time_resolution clock 99");
    }
}

void check_random() {
    Check c("random-bytes");
    uint8_t a[64] = {}, b[64] = {};
    c.expect_ok(g_api->random_bytes(a, sizeof(a)), "first call");
    c.expect_ok(g_api->random_bytes(b, sizeof(b)), "second call");
    size_t zero_a = 0, same = 0;
    for (size_t i = 0; i < sizeof(a); i++) {
        zero_a += a[i] == 0;
        same += a[i] == b[i];
    }
    c.expect(zero_a < sizeof(a), "64 random bytes are all zero");
    c.expect(same < sizeof(a), "two calls gave the same 64 bytes");
    // Every byte of a larger buffer is written (a fill pattern survives with tiny odds).
    static constexpr size_t kBig = 16384;
    auto* big = static_cast<uint8_t*>(alloc_pages(kBig));
    if (c.expect(big != nullptr, "alloc_pages")) {
        memset(big, 0xa5, kBig);
        c.expect_ok(g_api->random_bytes(big, kBig), "16 KiB");
        size_t runs = 0;
        for (size_t i = 0; i + 8 <= kBig; i += 8) {
            uint64_t w;
            memcpy(&w, big + i, 8);
            runs += w == 0xa5a5a5a5a5a5a5a5ull;
        }
        c.expect(runs == 0, "%zu 8-byte words kept the fill pattern", runs);
        g_api->memory_free(big, kBig);
    }
    c.expect_ok(g_api->random_bytes(a, 0), "zero bytes");
}

void check_get_cpu() {
    Check c("get-cpu");
    uint8_t mask[128] = {};
    long n = pal_test_raw_syscall3(__NR_sched_getaffinity, 0, sizeof(mask), long(mask));
    c.expect(n > 0, "sched_getaffinity: %ld", n);
    for (int i = 0; i < 3; i++) {
        uint32_t cpu = ~0u, node = ~0u;
        if (!c.expect_ok(g_api->get_cpu(&cpu, &node), "get_cpu"))
            break;
        // The thread may migrate, but only within its affinity mask.
        bool allowed = n > 0 && cpu < uint64_t(n) * 8 && (mask[cpu / 8] & (1u << (cpu % 8)));
        c.expect(allowed, "cpu %u is not in the thread's affinity mask", cpu);
        c.expect(node != ~0u, "node was not written");
    }
    c.expect_ok(g_api->get_cpu(nullptr, nullptr), "get_cpu(NULL, NULL)");
}

void check_fs_base() {
    Check c("fs-base");
    uint64_t original = g_api->get_fs_base();
    const uint64_t value = 0x7f0012345000ull;
    if (c.expect_ok(g_api->set_fs_base(value), "set_fs_base"))
        c.expect(g_api->get_fs_base() == value, "get_fs_base %#lx after setting %#lx", g_api->get_fs_base(), value);
    c.expect_error(g_api->set_fs_base(1ull << 47), PAL_E_PERM, "set_fs_base(1 << 47)");
    c.expect(g_api->get_fs_base() == value, "a rejected set_fs_base changed the base to %#lx", g_api->get_fs_base());
    c.expect_ok(g_api->set_fs_base(0), "set_fs_base(0)");
    c.expect(g_api->get_fs_base() == 0, "get_fs_base %#lx after setting 0", g_api->get_fs_base());
    g_api->set_fs_base(original);
}

}  // namespace pal_test
