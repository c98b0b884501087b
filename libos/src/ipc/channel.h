// Whole reads and writes on a PAL channel (blocking): what the checkpoint stream and the
// leader's messages are carried by.
#pragma once

#include <libos/result.h>
#include <pal/pal.h>
#include <stddef.h>

namespace carbyne::libos::ipc {

// Writes all `size` bytes; EPIPE when the peer is gone, else the PAL's error.
Result<void> channel_write(PalHandle* ch, const void* data, size_t size);
// Reads exactly `size` bytes; EPIPE when the stream ends first, else the PAL's error.
Result<void> channel_read(PalHandle* ch, void* data, size_t size);

}  // namespace carbyne::libos::ipc
