// The manifest: parsing a TOML manifest into the effective configuration, and printing it.
#pragma once

#include <stdint.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "carbyne/boot_config.h"

namespace carbyne::launcher {

inline constexpr uint64_t kDefaultStackSize = uint64_t{8} << 20;
inline constexpr uint64_t kDefaultBrkMaxSize = uint64_t{256} << 20;

struct Mount {
    boot::MountType type = boot::MountType::Chroot;
    std::string path;       // absolute, normalized path inside the LibOS
    std::string host_path;  // chroot: canonical host path; tmpfs: empty
    bool readonly = false;

    bool operator==(const Mount&) const = default;
};

// The effective configuration: every default applied, every host path resolved.
struct Manifest {
    std::string entrypoint;         // absolute path inside the LibOS
    std::vector<std::string> argv;  // argv[0] first
    std::vector<std::string> env;   // "NAME=value", each NAME once
    boot::LogLevel log_level = boot::LogLevel::Error;
    std::optional<std::string> log_file;  // absolute host path; unset means stderr
    std::vector<Mount> mounts;            // the mount at "/" first, then manifest order
    std::string start_dir = "/";
    uint64_t stack_size = kDefaultStackSize;
    uint64_t brk_max_size = kDefaultBrkMaxSize;
    // sys.sandbox: the PAL confines its host process to the mounts (Landlock) and to its own
    // system calls (seccomp) before the application starts.
    bool sandbox = true;
    // net.allow in manifest order; unset means every address is allowed, an empty list none.
    std::optional<std::vector<boot::NetAllowRule>> net_allow;
};

// One manifest error. Printed as "FILE:LINE: KEY: message"; a TOML syntax error has no key
// and prints as "FILE:LINE:COLUMN: message".
struct ManifestError {
    std::string file;
    uint32_t line = 0;
    uint32_t column = 0;  // only for syntax errors
    std::string key;      // e.g. "fs.mounts[1].path"; empty for syntax and I/O errors
    std::string message;

    std::string to_string() const;
};

struct ManifestResult {
    Manifest manifest;                   // valid only when error is unset
    std::optional<ManifestError> error;  // the first error in source order

    bool ok() const { return !error.has_value(); }
};

// Parses and validates manifest text. `file_name` is used in error messages, `base_dir`
// (absolute) resolves relative `file:` URIs, `host_env` ("NAME=value" entries) feeds
// `{ passthrough = true }` and `loader.insecure__use_host_env`, and `cwd` (absolute)
// makes a relative `loader.log_file` absolute.
ManifestResult parse_manifest(std::string_view text, std::string_view file_name, std::string_view base_dir,
                              const std::vector<std::string>& host_env, std::string_view cwd);

// Reads the manifest file at `path` and parses it; relative URIs are resolved against the
// directory of `path`.
ManifestResult load_manifest_file(const std::string& path, const std::vector<std::string>& host_env);

// "8M", "256K", "1G", "4096" (case-insensitive unit, powers of 1024) to bytes.
absl::StatusOr<uint64_t> parse_size(std::string_view text);

// Formats bytes as the shortest exact size string: 8388608 -> "8M", 1000 -> "1000".
std::string format_size(uint64_t size);

std::optional<boot::LogLevel> parse_log_level(std::string_view name);
const char* log_level_name(boot::LogLevel level);

// One net.allow rule: "OP PROTO ADDRESS:PORT", e.g. "connect tcp 10.0.0.0/8:443" (see
// parse_net_allow_rule in manifest_values.cpp for the whole syntax).
absl::StatusOr<boot::NetAllowRule> parse_net_allow_rule(std::string_view text);

// A rule in the canonical form of the syntax above.
std::string format_net_allow_rule(const boot::NetAllowRule& rule);

// Checks that `path` is an absolute path inside the LibOS and returns it normalized
// (repeated slashes and "." components removed, no trailing slash). ".." is rejected:
// inside the LibOS it would depend on symlinks the launcher cannot see.
absl::StatusOr<std::string> normalize_inside_path(std::string_view path);

// Resolves a host path (relative ones against `base_dir`) to a canonical absolute path
// that exists and is a directory or a regular file.
absl::StatusOr<std::string> resolve_host_path(std::string_view path, std::string_view base_dir);

// The effective configuration, one setting per line, in manifest syntax.
std::string format_manifest(const Manifest& manifest);

// The current working directory, or an error.
absl::StatusOr<std::string> current_dir();

// The process environment as "NAME=value" entries.
std::vector<std::string> host_environment();

}  // namespace carbyne::launcher
