// The LibOS heap for unit tests on the host: malloc with a count of live blocks, to catch
// leaks. Include it in one file of a test program.
#pragma once

#include <stdlib.h>

#include <atomic>

inline std::atomic<long> g_live_blocks;

namespace carbyne::libos {
void* kmalloc(size_t size) {
    void* p = malloc(size);
    if (p)
        g_live_blocks++;
    return p;
}
void* kzalloc(size_t size) {
    void* p = calloc(1, size);
    if (p)
        g_live_blocks++;
    return p;
}
void kfree(void* p) {
    if (p)
        g_live_blocks--;
    free(p);
}
}  // namespace carbyne::libos
