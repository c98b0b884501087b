// The LibOS heap: size-class slabs for small objects, whole PAL mappings for large ones.
// Allocation failure is nullptr (callers report ENOMEM); there are no exceptions.
#pragma once

#include <stddef.h>

// Placement new, defined here: libstdc++'s <new> would pull glibc's <features.h> into
// freestanding code (and with it __GLIBC__, which hides the uapi S_IF* macros).
inline void* operator new(size_t, void* where) noexcept { return where; }

namespace carbyne::libos {

void* kmalloc(size_t size);
void* kzalloc(size_t size);
void kfree(void* p);

// Allocates and constructs a T; nullptr when out of memory.
template <typename T, typename... Args>
T* make(Args&&... args);

}  // namespace carbyne::libos

namespace carbyne::libos {
template <typename T, typename... Args>
T* make(Args&&... args) {
    void* p = kmalloc(sizeof(T));
    return p ? new (p) T(static_cast<Args&&>(args)...) : nullptr;
}

// Frees a kmalloc'ed block when the scope ends (a null block is fine).
class HeapGuard {
public:
    explicit HeapGuard(void* p) : m_p(p) {}
    ~HeapGuard() { kfree(m_p); }
    HeapGuard(const HeapGuard&) = delete;
    HeapGuard& operator=(const HeapGuard&) = delete;

private:
    void* m_p;
};

template <typename T>
void destroy(T* p) {
    if (p) {
        p->~T();
        kfree(p);
    }
}
}  // namespace carbyne::libos
