// `carbyne exec`: the default manifest, --mount/--tmpfs options, and the PATH search.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "manifest.h"

namespace carbyne::launcher {

// Everything `carbyne exec` takes from its command line and its caller.
struct ExecRequest {
    std::string cwd;                       // absolute host path of the caller's directory
    std::vector<std::string> env;          // the caller's environment, "NAME=value"
    std::string entrypoint;                // absolute path of the program (see find_program)
    std::vector<std::string> argv;         // argv[0] is the program as given
    std::vector<Mount> extra_mounts;       // --mount and --tmpfs, in command-line order
    boot::LogLevel log_level = boot::LogLevel::Error;
    std::optional<std::string> log_file;   // absolute host path
};

// The default manifest: host "/" read-only at "/", a tmpfs at "/tmp", the current
// directory read-write at its own path (also the start directory), the whole environment.
// An extra mount at the path of a default one replaces it; two extra mounts at one path
// are an error. Mounts are ordered parents first.
absl::StatusOr<Manifest> default_exec_manifest(const ExecRequest& request);

// Parses "HOSTDIR:PATH[:ro|:rw]" (read-write unless ":ro"); HOSTDIR may be relative to `cwd`.
absl::StatusOr<Mount> parse_mount_option(std::string_view spec, std::string_view cwd);

// A tmpfs mount at PATH.
absl::StatusOr<Mount> parse_tmpfs_option(std::string_view path);

// Finds the program like execvp: a name without '/' is searched in `path_env` (the
// default "/bin:/usr/bin" when null; an empty element means the current directory) for
// an executable regular file; a name with '/' is taken as is. The result is made
// absolute against `cwd` ("." components and repeated slashes removed).
absl::StatusOr<std::string> find_program(std::string_view program, const char* path_env, std::string_view cwd);

// `path` made absolute against `cwd`, with "." components and repeated slashes removed.
// ".." is kept: only the file system can resolve it.
std::string absolute_path(std::string_view path, std::string_view cwd);

}  // namespace carbyne::launcher
