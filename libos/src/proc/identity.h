// What the LibOS says it is: uname(2), /proc/version and /proc/sys/kernel show the same.
#pragma once

namespace carbyne::libos {

inline constexpr const char* kOsRelease = "6.1.0-carbyne";  // the Linux ABI of the uapi headers
inline constexpr const char* kOsVersion = "#1 SMP Carbyne library OS";
inline constexpr const char* kHostname = "carbyne";

}  // namespace carbyne::libos
