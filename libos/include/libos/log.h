// LibOS logging at the manifest's loader.log_level.
#pragma once

#include <carbyne/boot_config.h>

namespace carbyne::libos {

using LogLevel = boot::LogLevel;
extern LogLevel g_log_level;

void log_write(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
// "carbyne: fatal: <message>", whatever the log level: the process is about to end on a
// LibOS bug or failure. Test drivers treat that prefix as a failure of the run.
void log_fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// log_fatal, then exit status 127.
[[noreturn]] void libos_panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

inline bool log_enabled(LogLevel level) { return level <= g_log_level && level != LogLevel::None; }

}  // namespace carbyne::libos

#define log_error(...) ::carbyne::libos::log_write(::carbyne::libos::LogLevel::Error, __VA_ARGS__)
#define log_warning(...) ::carbyne::libos::log_write(::carbyne::libos::LogLevel::Warning, __VA_ARGS__)
#define log_debug(...)                                                                  \
    do {                                                                                \
        if (::carbyne::libos::log_enabled(::carbyne::libos::LogLevel::Debug))           \
            ::carbyne::libos::log_write(::carbyne::libos::LogLevel::Debug, __VA_ARGS__); \
    } while (0)
