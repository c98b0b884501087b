// Unit tests of the LibOS locks (libos/include/libos/lock.h): the order check's held-lock
// stack, and the sleeping RwLock and Mutex under contention from host threads, which
// block on a host futex where the LibOS blocks on a PAL event.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <libos/lock.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

using carbyne::libos::HeldLocks;
using carbyne::libos::LockGuard;
using carbyne::libos::LockRank;
using carbyne::libos::Mutex;
using carbyne::libos::RwLock;
using carbyne::libos::SharedGuard;

// -- The waiting the locks need, on the host: a futex word per thread, bumped by a wake.

namespace {

struct HostWaiter {
    std::atomic<int> seq{0};
};
thread_local HostWaiter t_waiter;
std::atomic<long> g_sleeps{0};

long futex(void* addr, int op, int val) { return syscall(SYS_futex, addr, op, val, nullptr, nullptr, 0); }

}  // namespace

namespace carbyne::libos {
void* lock_wait_handle() { return &t_waiter; }
void lock_wait(void* handle, const int* woken) {
    auto* w = static_cast<HostWaiter*>(handle);
    for (;;) {
        int seen = w->seq.load();
        if (__atomic_load_n(woken, __ATOMIC_ACQUIRE))
            return;
        g_sleeps++;
        futex(&w->seq, FUTEX_WAIT_PRIVATE, seen);
    }
}
void lock_wake(void* handle) {
    auto* w = static_cast<HostWaiter*>(handle);
    w->seq++;
    futex(&w->seq, FUTEX_WAKE_PRIVATE, 1);
}
}  // namespace carbyne::libos

TEST_CASE("the held-lock stack accepts rising ranks and reports the first conflict") {
    HeldLocks held;
    CHECK(held.conflict(LockRank::Epoll) == LockRank::None);
    REQUIRE(held.push(LockRank::Epoll));
    CHECK(held.conflict(LockRank::Vma) == LockRank::None);
    REQUIRE(held.push(LockRank::Vma));
    CHECK(held.conflict(LockRank::Process) == LockRank::None);
    REQUIRE(held.push(LockRank::Process));
    // Lower ranks, and a sleeping lock under a spinlock, are inversions.
    CHECK(held.conflict(LockRank::TmpfsIo) == LockRank::Vma);
    CHECK(held.conflict(LockRank::FutexBucket) == LockRank::Process);
    // The same rank: only nestable ones.
    CHECK(held.conflict(LockRank::Process) == LockRank::Process);
    CHECK(held.conflict(LockRank::Heap) == LockRank::None);
    CHECK(held.last() == LockRank::Process);
    // Released out of order: the rest stays.
    REQUIRE(held.pop(LockRank::Vma));
    CHECK(held.count() == 2);
    CHECK(held.last() == LockRank::Process);
    CHECK(held.conflict(LockRank::Vma) == LockRank::Process);
    CHECK_FALSE(held.pop(LockRank::Vma));
    REQUIRE(held.pop(LockRank::Process));
    REQUIRE(held.pop(LockRank::Epoll));
    CHECK(held.last() == LockRank::None);
}

TEST_CASE("nestable ranks may be taken again; the stack has a limit") {
    HeldLocks held;
    REQUIRE(held.push(LockRank::WaitQueue));
    CHECK(held.conflict(LockRank::WaitQueue) == LockRank::None);
    REQUIRE(held.push(LockRank::WaitQueue));
    CHECK(held.conflict(LockRank::EpollReady) == LockRank::None);
    CHECK(held.conflict(LockRank::Pipe) == LockRank::WaitQueue);
    HeldLocks full;
    for (size_t i = 0; i < HeldLocks::kMax; i++)
        REQUIRE(full.push(LockRank::Heap));
    CHECK_FALSE(full.push(LockRank::Heap));
}

TEST_CASE("every sleeping rank comes before every spinning one") {
    using carbyne::libos::lock_rank_sleeps;
    CHECK(lock_rank_sleeps(LockRank::Vma));
    CHECK(lock_rank_sleeps(LockRank::FutexBucket));
    CHECK_FALSE(lock_rank_sleeps(LockRank::Process));
    CHECK_FALSE(lock_rank_sleeps(LockRank::Heap));
}

TEST_CASE("a Mutex keeps every increment of four contending threads") {
    static Mutex m{LockRank::FutexBucket};
    long counter = 0;
    constexpr int kThreads = 4, kRounds = 100000;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; i++) {
        threads.emplace_back([&] {
            for (int r = 0; r < kRounds; r++) {
                LockGuard g(m);
                counter++;
                if (r % 1000 == 0)
                    std::this_thread::yield();  // a holder that loses its CPU: waiters sleep
            }
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(counter == long(kThreads) * kRounds);
}

TEST_CASE("an RwLock never lets a writer in with readers or another writer") {
    static RwLock lock{LockRank::Vma};
    std::atomic<int> readers{0}, writers{0};
    std::atomic<bool> bad{false};
    std::atomic<long> reads{0}, writes{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; i++) {
        bool writer = i < 2;
        threads.emplace_back([&, writer] {
            for (int r = 0; r < 50000; r++) {
                if (writer) {
                    LockGuard g(lock);
                    if (writers.fetch_add(1) != 0 || readers.load() != 0)
                        bad = true;
                    if (r % 500 == 0)
                        std::this_thread::yield();
                    writers.fetch_sub(1);
                    writes++;
                } else {
                    SharedGuard g(lock);
                    readers.fetch_add(1);
                    if (writers.load() != 0)
                        bad = true;
                    readers.fetch_sub(1);
                    reads++;
                }
            }
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK_FALSE(bad.load());
    CHECK(writes.load() == 2 * 50000);
    CHECK(reads.load() == 4 * 50000);
}

TEST_CASE("readers share an RwLock") {
    static RwLock lock{LockRank::Vma};
    std::atomic<int> inside{0}, most{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; i++) {
        threads.emplace_back([&] {
            while (!go.load()) {
            }
            SharedGuard g(lock);
            int n = inside.fetch_add(1) + 1;
            int m = most.load();
            while (n > m && !most.compare_exchange_weak(m, n)) {
            }
            // Stay until all three are in (bounded: a lock that excluded readers fails).
            for (int spin = 0; spin < 2000 && inside.load() < 3; spin++)
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            inside.fetch_sub(1);
        });
    }
    go = true;
    for (auto& t : threads)
        t.join();
    CHECK(most.load() == 3);
}

TEST_CASE("a waiter sleeps while the holder keeps the lock, and wakes at the unlock") {
    static Mutex m{LockRank::FutexBucket};
    std::atomic<bool> got{false};
    long before = g_sleeps.load();
    m.lock();
    std::thread waiter([&] {
        LockGuard g(m);
        got = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(got.load());
    CHECK(g_sleeps.load() > before);  // it went to sleep instead of spinning
    m.unlock();
    waiter.join();
    CHECK(got.load());
}
