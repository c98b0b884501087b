// Spinlock and Guarded<T>: data lives inside the type that locks it. Never block in the PAL
// or copy to the application while holding one.
#pragma once

namespace carbyne::libos {

class Spinlock {
public:
    void lock() {
        while (__atomic_exchange_n(&m_locked, 1, __ATOMIC_ACQUIRE)) {
            while (__atomic_load_n(&m_locked, __ATOMIC_RELAXED))
                asm volatile("pause");
        }
    }
    void unlock() { __atomic_store_n(&m_locked, 0, __ATOMIC_RELEASE); }

private:
    int m_locked = 0;
};

class SpinGuard {
public:
    explicit SpinGuard(Spinlock& l) : m_lock(l) { m_lock.lock(); }
    ~SpinGuard() { m_lock.unlock(); }
    SpinGuard(const SpinGuard&) = delete;
    SpinGuard& operator=(const SpinGuard&) = delete;

private:
    Spinlock& m_lock;
};

template <typename T>
class Guarded {
public:
    template <typename F>
    auto with(F&& f) {
        SpinGuard g(m_lock);
        return f(m_value);
    }

private:
    Spinlock m_lock;
    T m_value{};
};

}  // namespace carbyne::libos
