// The LibOS's own pages (kmalloc chunks and large blocks, tmpfs data) all come from one
// reservation made at boot, the arena, so that the application can neither reach them
// through a system call's pointer (user_range_ok: EFAULT) nor map over them: the host never
// places another mapping inside the reservation.
//
// Lock order: the arena's lock is a leaf.
#pragma once

#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos::mm {

// Reserves the arena (address space only); before any kmalloc.
Result<void> arena_init();
// `size` bytes (a page multiple) of zeroed read-write memory; nullptr when it is full.
void* arena_alloc(size_t size);
// Gives pages back: their memory goes back to the host, the range back to the arena.
void arena_free(void* p, size_t size);
// Whether [addr, addr + size) overlaps the arena.
bool arena_overlaps(uint64_t addr, size_t size);

}  // namespace carbyne::libos::mm
