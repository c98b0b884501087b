// kmalloc/kfree: power-of-two size classes carved from 64 KiB chunks; larger blocks are
// page runs of their own. Both come from the LibOS's arena (mm/arena.h). Every block is
// preceded by a 16-byte header.
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/lock.h>

#include "arena.h"

namespace carbyne::libos {

namespace {

constexpr size_t kHeaderSize = 16;
constexpr size_t kMinClass = 4;    // 16 bytes
constexpr size_t kMaxClass = 15;   // 32 KiB
constexpr size_t kChunkSize = 64 * 1024;
constexpr size_t kPage = 4096;
constexpr uint64_t kLargeMarker = ~uint64_t{0};

struct Header {
    uint64_t size_class;  // kLargeMarker for direct mappings
    uint64_t map_size;    // for direct mappings: bytes mapped
};

struct FreeBlock {
    FreeBlock* next;
};

struct Heap {
    FreeBlock* free[kMaxClass + 1];
};

Guarded<Heap> g_heap{LockRank::Heap};

size_t class_of(size_t total) {
    size_t c = kMinClass;
    while ((size_t{1} << c) < total)
        c++;
    return c;
}

void* map_pages(size_t size) { return mm::arena_alloc(size); }

}  // namespace

void* kmalloc(size_t size) {
    size_t total = size + kHeaderSize;
    if (total < size)
        return nullptr;
    if (total > (size_t{1} << kMaxClass)) {
        size_t map_size = (total + kPage - 1) & ~(kPage - 1);
        auto* h = static_cast<Header*>(map_pages(map_size));
        if (!h)
            return nullptr;
        h->size_class = kLargeMarker;
        h->map_size = map_size;
        return reinterpret_cast<uint8_t*>(h) + kHeaderSize;
    }
    size_t c = class_of(total);
    FreeBlock* block = g_heap.with([&](Heap& heap) -> FreeBlock* {
        FreeBlock* b = heap.free[c];
        if (b)
            heap.free[c] = b->next;
        return b;
    });
    if (!block) {
        // Refill outside the lock: map a chunk, keep one block, give the rest to the list.
        auto* chunk = static_cast<uint8_t*>(map_pages(kChunkSize));
        if (!chunk)
            return nullptr;
        size_t bsize = size_t{1} << c;
        size_t count = kChunkSize / bsize;
        block = reinterpret_cast<FreeBlock*>(chunk);
        g_heap.with([&](Heap& heap) {
            for (size_t i = 1; i < count; i++) {
                auto* b = reinterpret_cast<FreeBlock*>(chunk + i * bsize);
                b->next = heap.free[c];
                heap.free[c] = b;
            }
        });
    }
    auto* h = reinterpret_cast<Header*>(block);
    h->size_class = c;
    h->map_size = 0;
    return reinterpret_cast<uint8_t*>(h) + kHeaderSize;
}

void* kzalloc(size_t size) {
    void* p = kmalloc(size);
    if (p)
        memset(p, 0, size);
    return p;
}

void kfree(void* p) {
    if (!p)
        return;
    auto* h = reinterpret_cast<Header*>(static_cast<uint8_t*>(p) - kHeaderSize);
    if (h->size_class == kLargeMarker) {
        mm::arena_free(h, h->map_size);
        return;
    }
    size_t c = h->size_class;
    auto* b = reinterpret_cast<FreeBlock*>(h);
    g_heap.with([&](Heap& heap) {
        b->next = heap.free[c];
        heap.free[c] = b;
    });
}

}  // namespace carbyne::libos

void* operator new(size_t size) { return carbyne::libos::kmalloc(size); }
void* operator new[](size_t size) { return carbyne::libos::kmalloc(size); }
void operator delete(void* p) noexcept { carbyne::libos::kfree(p); }
void operator delete[](void* p) noexcept { carbyne::libos::kfree(p); }
void operator delete(void* p, size_t) noexcept { carbyne::libos::kfree(p); }
void operator delete[](void* p, size_t) noexcept { carbyne::libos::kfree(p); }
