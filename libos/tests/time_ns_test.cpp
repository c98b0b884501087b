// Unit tests of the saturating nanosecond arithmetic (libos/include/libos/time_ns.h), at
// the limits: every result stays within [0, KTIME_MAX] and never wraps into the past.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <libos/time_ns.h>

#include <cstdint>

using namespace carbyne::libos;

namespace {

constexpr uint64_t kMax = kTimeMaxNs;
constexpr uint64_t kAll = ~uint64_t{0};

}  // namespace

TEST_CASE("KTIME_MAX is INT64_MAX nanoseconds") {
    STATIC_REQUIRE(kTimeMaxNs == 9223372036854775807ull);
    STATIC_REQUIRE(kTimeMaxNs / kNsPerSec == 9223372036ull);
}

TEST_CASE("time_add adds and saturates at KTIME_MAX") {
    CHECK(time_add(0, 0) == 0);
    CHECK(time_add(1, 2) == 3);
    CHECK(time_add(kMax - 1, 1) == kMax);
    CHECK(time_add(kMax - 1, 2) == kMax);
    CHECK(time_add(kMax, 0) == kMax);
    CHECK(time_add(0, kMax) == kMax);
    CHECK(time_add(kMax, kMax) == kMax);
    // Beyond KTIME_MAX (a "no deadline" sentinel) and sums that wrap 64 bits.
    CHECK(time_add(kAll, 0) == kMax);
    CHECK(time_add(0, kAll) == kMax);
    CHECK(time_add(kAll, kAll) == kMax);
    CHECK(time_add(uint64_t{1} << 63, uint64_t{1} << 63) == kMax);
    // A realistic clock plus a huge timeout.
    uint64_t now = 1765000000ull * kNsPerSec;
    CHECK(time_add(now, 0x3fffffffffffffffull * 2) == kMax);
    CHECK(time_add(now, kMax) == kMax);
    CHECK(time_add(now, kNsPerSec) == now + kNsPerSec);
}

TEST_CASE("time_mul multiplies and saturates at KTIME_MAX") {
    CHECK(time_mul(0, kAll) == 0);
    CHECK(time_mul(kAll, 0) == 0);
    CHECK(time_mul(1, kMax) == kMax);
    CHECK(time_mul(1, kAll) == kMax);
    CHECK(time_mul(3, 7) == 21);
    CHECK(time_mul(2, kMax / 2) == kMax - 1);
    CHECK(time_mul(2, kMax / 2 + 1) == kMax);
    CHECK(time_mul(kMax, 1) == kMax);
    CHECK(time_mul(kMax, 2) == kMax);
    CHECK(time_mul(uint64_t{1} << 32, uint64_t{1} << 32) == kMax);
    // Exactly at the limit and one past it, for a count that does not divide it.
    uint64_t c = 1000003;
    CHECK(time_mul(c, kMax / c) == c * (kMax / c));
    CHECK(time_mul(c, kMax / c + 1) == kMax);
}

TEST_CASE("time_until counts down to 0 and stays within KTIME_MAX") {
    CHECK(time_until(10, 3) == 7);
    CHECK(time_until(10, 10) == 0);
    CHECK(time_until(3, 10) == 0);
    CHECK(time_until(kMax, 0) == kMax);
    CHECK(time_until(kAll, 0) == kMax);
    CHECK(time_until(kAll, 1) == kMax);
    CHECK(time_until(0, kAll) == 0);
}

TEST_CASE("time_from converts as ktime_set does") {
    CHECK(time_from(0, 0) == 0);
    CHECK(time_from(1, 5) == kNsPerSec + 5);
    CHECK(time_from(9223372035, 999999999) == 9223372035999999999ull);
    // KTIME_SEC_MAX whole seconds and more are KTIME_MAX.
    CHECK(time_from(9223372036, 0) == kMax);
    CHECK(time_from(9223372036, 854775807) == kMax);
    CHECK(time_from(9223372036, 999999999) == kMax);
    CHECK(time_from(0x3fffffffffffffffull, 0) == kMax);
    CHECK(time_from(uint64_t(INT64_MAX), 999999999) == kMax);
    CHECK(time_from(kAll, 999999999) == kMax);
}

TEST_CASE("time_forward moves a periodic deadline past now") {
    uint64_t next = 0;
    SECTION("on time") {
        CHECK(time_forward(100, 10, 100, &next) == 1);
        CHECK(next == 110);
    }
    SECTION("late by whole periods") {
        CHECK(time_forward(100, 10, 125, &next) == 3);
        CHECK(next == 130);
        CHECK(time_forward(100, 10, 130, &next) == 4);
        CHECK(next == 140);
    }
    SECTION("one-shot") {
        CHECK(time_forward(100, 0, 500, &next) == 1);
        CHECK(next == 0);
    }
    SECTION("a huge interval saturates instead of wrapping into the past") {
        uint64_t now = 5000000000000ull;
        CHECK(time_forward(now - 1000, kMax, now, &next) == 1);
        CHECK(next == kMax);
        CHECK(time_forward(now - 1000, 0x3fffffffffffffffull * 2, now, &next) == 1);
        CHECK(next == kMax);
        CHECK(time_forward(now, kAll, now, &next) == 1);
        CHECK(next == kMax);
        // Once at KTIME_MAX it stays there.
        CHECK(time_forward(kMax, kMax, kMax, &next) == 1);
        CHECK(next == kMax);
    }
    SECTION("a tiny interval counts every period") {
        CHECK(time_forward(1, 1, 1000001, &next) == 1000001);
        CHECK(next == 1000002);
    }
    SECTION("a count times an interval past KTIME_MAX saturates") {
        uint64_t interval = uint64_t{1} << 40;
        uint64_t deadline = kMax - interval;
        CHECK(time_forward(deadline, interval, kMax - 1, &next) == 1);
        CHECK(next == kMax);
        CHECK(time_forward(1000, kMax / 2, kMax - 10, &next) == 2);
        CHECK(next == kMax);
    }
}
