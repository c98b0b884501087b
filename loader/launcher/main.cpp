// The `carbyne` command: run a manifest, exec a program with the default manifest, check a manifest.
#include <stdio.h>
#include <stdlib.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"
#include "boot_writer.h"
#include "exec_manifest.h"
#include "launch.h"
#include "manifest.h"

#ifndef CARBYNE_VERSION
#define CARBYNE_VERSION "unknown"
#endif

namespace carbyne::launcher {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitLaunch = 127;

constexpr const char kMainHelp[] =
    "Usage: carbyne COMMAND [OPTIONS] ...\n"
    "\n"
    "Runs an unmodified Linux program inside the Carbyne library OS.\n"
    "\n"
    "Commands:\n"
    "  run FILE.manifest.toml [ARGS...]   run the program a manifest describes\n"
    "  exec [OPTIONS] [--] PROG [ARGS...]  run PROG with the default manifest\n"
    "  manifest check FILE                 validate a manifest, print its effective settings\n"
    "\n"
    "Options:\n"
    "  -h, --help       show this help (also: carbyne COMMAND --help)\n"
    "  --version        show the version\n"
    "\n"
    "Exit status: the program's own; 2 for a usage or manifest error; 127 when\n"
    "carbyne-pal or libos.so cannot be found or started.\n";

constexpr const char kRunHelp[] =
    "Usage: carbyne run [OPTIONS] FILE.manifest.toml [OPTIONS] [--] [ARGS...]\n"
    "\n"
    "Validates the manifest and runs its libos.entrypoint. ARGS are appended to\n"
    "loader.argv. After FILE, only the options below are recognized; the first other\n"
    "argument (or everything after \"--\") starts ARGS.\n"
    "\n"
    "Options:\n"
    "  --log-level LEVEL  none, error, warning, debug or trace (overrides loader.log_level)\n"
    "  --log-file FILE    write the log to FILE instead of stderr (overrides loader.log_file)\n"
    "  -h, --help         show this help\n";

constexpr const char kExecHelp[] =
    "Usage: carbyne exec [OPTIONS] [--] PROG [ARGS...]\n"
    "\n"
    "Runs PROG with the default manifest: the host's / read-only at /, the current\n"
    "directory read-write at its own path (also the start directory), a fresh tmpfs at\n"
    "/tmp, and the whole environment. PROG without a '/' is searched in PATH; argv[0]\n"
    "is PROG as given. A --mount or --tmpfs at the path of a default mount replaces it.\n"
    "\n"
    "Options:\n"
    "  --mount HOSTDIR:PATH[:ro|:rw]  mount host HOSTDIR at PATH (read-write by default)\n"
    "  --tmpfs PATH                   mount an empty tmpfs at PATH\n"
    "  --no-sandbox                   do not confine the process (sys.sandbox = false)\n"
    "  --log-level LEVEL              none, error, warning, debug or trace (default error)\n"
    "  --log-file FILE                write the log to FILE instead of stderr\n"
    "  -h, --help                     show this help\n";

constexpr const char kManifestHelp[] =
    "Usage: carbyne manifest check FILE\n"
    "\n"
    "Validates FILE and prints the effective configuration, one setting per line.\n"
    "Exits 0 when the manifest is valid, 2 with the first error otherwise.\n";

// `command` is "" or the subcommand followed by a space, for the help hint.
int usage_error(absl::string_view message, const char* command) {
    fprintf(stderr, "carbyne: %.*s (see 'carbyne %s--help')\n", int(message.size()), message.data(), command);
    return kExitUsage;
}

bool is_help(std::string_view arg) { return arg == "-h" || arg == "--help"; }

// Matches "--name VALUE" and "--name=VALUE" at args[*i]; advances *i past the value.
// Sets *missing when the value is absent.
bool take_option(const std::vector<std::string>& args, size_t* i, std::string_view name, std::string* value,
                 bool* missing) {
    std::string_view arg = args[*i];
    if (arg == name) {
        if (*i + 1 >= args.size()) {
            *missing = true;
            return true;
        }
        *value = args[*i + 1];
        *i += 2;
        return true;
    }
    if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
        *value = std::string(arg.substr(name.size() + 1));
        *i += 1;
        return true;
    }
    return false;
}

// Options shared by run and exec.
struct LogOptions {
    std::optional<boot::LogLevel> level;
    std::optional<std::string> file;
};

enum class Taken { No, Yes, Error };

Taken take_log_option(const std::vector<std::string>& args, size_t* i, LogOptions* log, const char* command,
                      int* exit_code) {
    std::string value;
    bool missing = false;
    if (take_option(args, i, "--log-level", &value, &missing)) {
        if (missing) {
            *exit_code = usage_error("--log-level needs a value", command);
            return Taken::Error;
        }
        log->level = parse_log_level(value);
        if (!log->level) {
            *exit_code = usage_error(
                absl::StrFormat("--log-level: unknown level \"%s\" (expected none, error, warning, debug or trace)",
                                value),
                command);
            return Taken::Error;
        }
        return Taken::Yes;
    }
    if (take_option(args, i, "--log-file", &value, &missing)) {
        if (missing || value.empty()) {
            *exit_code = usage_error("--log-file needs a file name", command);
            return Taken::Error;
        }
        log->file = value;
        return Taken::Yes;
    }
    return Taken::No;
}

// Encodes the boot config and becomes carbyne-pal; returns only on failure.
int launch(const Manifest& manifest) {
    absl::StatusOr<std::string> exe = self_exe_path();
    absl::StatusOr<Parts> parts = exe.ok() ? locate_parts(*exe) : absl::StatusOr<Parts>(exe.status());
    if (!parts.ok()) {
        fprintf(stderr, "carbyne: %s\n", std::string(parts.status().message()).c_str());
        return kExitLaunch;
    }
    absl::StatusOr<std::vector<uint8_t>> config = encode_boot_config(manifest, parts->libos_path);
    if (!config.ok()) {
        fprintf(stderr, "carbyne: %s\n", std::string(config.status().message()).c_str());
        return kExitUsage;
    }
    if (!manifest.sandbox)
        fprintf(stderr,
                "carbyne: warning: sys.sandbox = false: the application is not confined to the manifest's "
                "mounts and can reach the host kernel through the PAL\n");
    fflush(stdout);
    fflush(stderr);
    absl::Status status = exec_pal(parts->pal_path, *config);
    fprintf(stderr, "carbyne: %s\n", std::string(status.message()).c_str());
    return kExitLaunch;
}

int cmd_run(const std::vector<std::string>& args) {
    LogOptions log;
    std::optional<std::string> file;
    std::vector<std::string> extra;
    size_t i = 0;
    int exit_code = 0;
    while (i < args.size()) {
        std::string_view arg = args[i];
        if (!file && is_help(arg)) {
            fputs(kRunHelp, stdout);
            return 0;
        }
        Taken taken = take_log_option(args, &i, &log, "run ", &exit_code);
        if (taken == Taken::Error)
            return exit_code;
        if (taken == Taken::Yes)
            continue;
        if (arg == "--") {
            i++;
            if (!file) {
                if (i >= args.size())
                    return usage_error("run: missing manifest file", "run ");
                file = args[i++];
            }
            break;
        }
        if (!file) {
            if (arg.size() > 1 && arg[0] == '-')
                return usage_error(absl::StrFormat("run: unknown option %s", arg), "run ");
            file = args[i++];
            continue;
        }
        break;  // the first application argument
    }
    if (!file)
        return usage_error("run: missing manifest file", "run ");
    extra.assign(args.begin() + ptrdiff_t(i), args.end());

    ManifestResult result = load_manifest_file(*file, host_environment());
    if (!result.ok()) {
        fprintf(stderr, "carbyne: %s\n", result.error->to_string().c_str());
        return kExitUsage;
    }
    Manifest& manifest = result.manifest;
    manifest.argv.insert(manifest.argv.end(), extra.begin(), extra.end());
    if (log.level)
        manifest.log_level = *log.level;
    if (log.file) {
        absl::StatusOr<std::string> cwd = current_dir();
        if (!cwd.ok()) {
            fprintf(stderr, "carbyne: %s\n", std::string(cwd.status().message()).c_str());
            return kExitUsage;
        }
        manifest.log_file = absolute_path(*log.file, *cwd);
    }
    return launch(manifest);
}

int cmd_exec(const std::vector<std::string>& args) {
    absl::StatusOr<std::string> cwd = current_dir();
    if (!cwd.ok()) {
        fprintf(stderr, "carbyne: %s\n", std::string(cwd.status().message()).c_str());
        return kExitUsage;
    }
    LogOptions log;
    ExecRequest request;
    request.cwd = *cwd;
    size_t i = 0;
    int exit_code = 0;
    bool sandbox = true;
    while (i < args.size()) {
        std::string_view arg = args[i];
        if (is_help(arg)) {
            fputs(kExecHelp, stdout);
            return 0;
        }
        if (arg == "--") {
            i++;
            break;
        }
        Taken taken = take_log_option(args, &i, &log, "exec ", &exit_code);
        if (taken == Taken::Error)
            return exit_code;
        if (taken == Taken::Yes)
            continue;
        std::string value;
        bool missing = false;
        if (take_option(args, &i, "--mount", &value, &missing)) {
            if (missing)
                return usage_error("--mount needs HOSTDIR:PATH[:ro|:rw]", "exec ");
            absl::StatusOr<Mount> mount = parse_mount_option(value, *cwd);
            if (!mount.ok())
                return usage_error(mount.status().message(), "exec ");
            request.extra_mounts.push_back(*mount);
            continue;
        }
        if (take_option(args, &i, "--tmpfs", &value, &missing)) {
            if (missing)
                return usage_error("--tmpfs needs a PATH", "exec ");
            absl::StatusOr<Mount> mount = parse_tmpfs_option(value);
            if (!mount.ok())
                return usage_error(mount.status().message(), "exec ");
            request.extra_mounts.push_back(*mount);
            continue;
        }
        if (arg == "--no-sandbox") {
            sandbox = false;
            i++;
            continue;
        }
        if (arg.size() > 1 && arg[0] == '-')
            return usage_error(absl::StrFormat("exec: unknown option %s", arg), "exec ");
        break;  // PROG
    }
    if (i >= args.size())
        return usage_error("exec: missing program", "exec ");

    const std::string& program = args[i];
    absl::StatusOr<std::string> entrypoint = find_program(program, getenv("PATH"), *cwd);
    if (!entrypoint.ok()) {
        fprintf(stderr, "carbyne: %s\n", std::string(entrypoint.status().message()).c_str());
        return kExitLaunch;
    }
    request.entrypoint = *entrypoint;
    request.argv.assign(args.begin() + ptrdiff_t(i), args.end());
    request.env = host_environment();
    if (log.level)
        request.log_level = *log.level;
    if (log.file)
        request.log_file = absolute_path(*log.file, *cwd);

    absl::StatusOr<Manifest> manifest = default_exec_manifest(request);
    if (!manifest.ok())
        return usage_error(manifest.status().message(), "exec ");
    manifest->sandbox = sandbox;
    return launch(*manifest);
}

int cmd_manifest(const std::vector<std::string>& args) {
    if (args.empty())
        return usage_error("manifest: missing subcommand", "manifest ");
    if (is_help(args[0])) {
        fputs(kManifestHelp, stdout);
        return 0;
    }
    if (args[0] != "check")
        return usage_error(absl::StrFormat("manifest: unknown subcommand %s", args[0]), "manifest ");
    if (args.size() >= 2 && is_help(args[1])) {
        fputs(kManifestHelp, stdout);
        return 0;
    }
    if (args.size() != 2)
        return usage_error("manifest check: expected exactly one FILE", "manifest ");

    ManifestResult result = load_manifest_file(args[1], host_environment());
    if (!result.ok()) {
        fprintf(stderr, "carbyne: %s\n", result.error->to_string().c_str());
        return kExitUsage;
    }
    fputs(format_manifest(result.manifest).c_str(), stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}

int carbyne_main(int argc, char** argv) {
    std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    if (args.empty()) {
        fputs(kMainHelp, stderr);
        return kExitUsage;
    }
    std::string command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (is_help(command)) {
        fputs(kMainHelp, stdout);
        return 0;
    }
    if (command == "--version") {
        printf("carbyne %s\n", CARBYNE_VERSION);
        return 0;
    }
    if (command == "run")
        return cmd_run(rest);
    if (command == "exec")
        return cmd_exec(rest);
    if (command == "manifest")
        return cmd_manifest(rest);
    return usage_error(absl::StrFormat("unknown command %s", command), "");
}

}  // namespace
}  // namespace carbyne::launcher

int main(int argc, char** argv) { return carbyne::launcher::carbyne_main(argc, argv); }
