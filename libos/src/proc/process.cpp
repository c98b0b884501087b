// The process object.
#include "process.h"

#include <carbyne/string.h>

namespace carbyne::libos {

constinit Process g_process{};

void process_get_cwd(char* out) {
    SpinGuard g(g_process.lock);
    strlcpy(out, g_process.cwd, fs::kPathMax);
}

}  // namespace carbyne::libos
