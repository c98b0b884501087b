// Whole reads and writes on a PAL channel (see channel.h).
#include "channel.h"

#include <libos/pal.h>
#include <stdint.h>

namespace carbyne::libos::ipc {

Result<void> channel_write(PalHandle* ch, const void* data, size_t size) {
    auto* p = static_cast<const uint8_t*>(data);
    while (size) {
        size_t done = 0;
        PalError e = g_pal->stream_write(ch, PAL_NO_OFFSET, p, size, &done);
        if (e != PAL_OK)
            return e == PAL_E_PIPE || e == PAL_E_CONNRESET ? Errno(EPIPE) : errno_from_pal(e);
        p += done;
        size -= done;
    }
    return {};
}

Result<void> channel_read(PalHandle* ch, void* data, size_t size) {
    auto* p = static_cast<uint8_t*>(data);
    while (size) {
        size_t done = 0;
        PalError e = g_pal->stream_read(ch, PAL_NO_OFFSET, p, size, &done);
        if (e != PAL_OK)
            return errno_from_pal(e);
        if (!done)
            return Errno(EPIPE);
        p += done;
        size -= done;
    }
    return {};
}

}  // namespace carbyne::libos::ipc
