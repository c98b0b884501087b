// Finding carbyne-pal and libos.so next to the launcher, and handing over to the PAL.
#pragma once

#include <stdint.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace carbyne::launcher {

struct Parts {
    std::string pal_path;    // canonical host path of carbyne-pal
    std::string libos_path;  // canonical host path of libos.so
};

// The canonical path of the running executable (/proc/self/exe).
absl::StatusOr<std::string> self_exe_path();

// Looks for the parts relative to the directory of `exe_path`: the installed layout
// (bin/carbyne, libexec/carbyne/...) first, then the build tree (loader/launcher/carbyne,
// pal/linux/carbyne-pal, libos/libos.so). Both parts must come from the same layout.
absl::StatusOr<Parts> locate_parts(std::string_view exe_path);

// Puts `boot_config` into a memfd and execve()s carbyne-pal with its fd number as the only
// argument and an empty environment. Returns only on failure.
absl::Status exec_pal(const std::string& pal_path, const std::vector<uint8_t>& boot_config);

}  // namespace carbyne::launcher
