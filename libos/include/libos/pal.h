// The LibOS's handle on the PAL: the API table it was given, and the one conversion from
// PalError to Errno.
#pragma once

#include <libos/result.h>
#include <pal/pal.h>

namespace carbyne::libos {

extern const PalApi* g_pal;
extern const PalBootInfo* g_boot;

Errno errno_from_pal(PalError e);

// Turns a PAL call's status into a Result<void>.
inline Result<void> pal_result(PalError e) {
    if (e == PAL_OK)
        return {};
    return errno_from_pal(e);
}

}  // namespace carbyne::libos
