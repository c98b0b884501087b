// Manifest values: sizes, log levels, paths inside the LibOS and on the host, the environment.
#include "manifest.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace carbyne::launcher {

absl::StatusOr<uint64_t> parse_size(std::string_view text) {
    auto bad = [&] {
        return absl::InvalidArgumentError(absl::StrFormat(
            "\"%s\" is not a size (expected a number of bytes, optionally followed by K, M or G)", text));
    };
    if (text.empty())
        return bad();
    uint64_t unit = 1;
    switch (text.back()) {
        case 'K': case 'k': unit = uint64_t{1} << 10; break;
        case 'M': case 'm': unit = uint64_t{1} << 20; break;
        case 'G': case 'g': unit = uint64_t{1} << 30; break;
        default: break;
    }
    std::string_view digits = unit == 1 ? text : text.substr(0, text.size() - 1);
    if (digits.empty())
        return bad();
    uint64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9')
            return bad();
        if (value > (UINT64_MAX - uint64_t(c - '0')) / 10)
            return absl::OutOfRangeError(absl::StrFormat("size \"%s\" is too large", text));
        value = value * 10 + uint64_t(c - '0');
    }
    if (value > UINT64_MAX / unit)
        return absl::OutOfRangeError(absl::StrFormat("size \"%s\" is too large", text));
    return value * unit;
}

std::string format_size(uint64_t size) {
    if (size != 0) {
        if (size % (uint64_t{1} << 30) == 0)
            return absl::StrFormat("%dG", size >> 30);
        if (size % (uint64_t{1} << 20) == 0)
            return absl::StrFormat("%dM", size >> 20);
        if (size % (uint64_t{1} << 10) == 0)
            return absl::StrFormat("%dK", size >> 10);
    }
    return absl::StrFormat("%d", size);
}

std::optional<boot::LogLevel> parse_log_level(std::string_view name) {
    static constexpr boot::LogLevel kLevels[] = {boot::LogLevel::None, boot::LogLevel::Error, boot::LogLevel::Warning,
                                                 boot::LogLevel::Debug, boot::LogLevel::Trace};
    for (boot::LogLevel level : kLevels) {
        if (name == log_level_name(level))
            return level;
    }
    return std::nullopt;
}

const char* log_level_name(boot::LogLevel level) {
    switch (level) {
        case boot::LogLevel::None: return "none";
        case boot::LogLevel::Error: return "error";
        case boot::LogLevel::Warning: return "warning";
        case boot::LogLevel::Debug: return "debug";
        case boot::LogLevel::Trace: return "trace";
    }
    return "unknown";
}

absl::StatusOr<std::string> normalize_inside_path(std::string_view path) {
    if (path.empty())
        return absl::InvalidArgumentError("path must not be empty");
    if (path.find('\0') != std::string_view::npos)
        return absl::InvalidArgumentError("path must not contain NUL characters");
    if (path[0] != '/')
        return absl::InvalidArgumentError(absl::StrFormat("\"%s\" is not an absolute path", path));
    std::string out;
    for (absl::string_view part : absl::StrSplit(absl::string_view(path.data(), path.size()), '/')) {
        if (part.empty() || part == ".")
            continue;
        if (part == "..")
            return absl::InvalidArgumentError(absl::StrFormat("\"%s\" must not contain \"..\"", path));
        out += '/';
        out.append(part.data(), part.size());
    }
    return out.empty() ? std::string("/") : out;
}

absl::StatusOr<std::string> resolve_host_path(std::string_view path, std::string_view base_dir) {
    std::string full = !path.empty() && path[0] == '/' ? std::string(path) : absl::StrFormat("%s/%s", base_dir, path);
    char* real = realpath(full.c_str(), nullptr);
    if (!real)
        return absl::NotFoundError(absl::StrFormat("host path %s: %s", full, strerror(errno)));
    std::string resolved(real);
    free(real);
    struct stat st;
    if (stat(resolved.c_str(), &st) != 0)
        return absl::NotFoundError(absl::StrFormat("host path %s: %s", resolved, strerror(errno)));
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return absl::InvalidArgumentError(
            absl::StrFormat("host path %s is neither a directory nor a regular file", resolved));
    return resolved;
}

absl::StatusOr<std::string> current_dir() {
    std::error_code ec;
    std::filesystem::path cwd = std::filesystem::current_path(ec);
    if (ec)
        return absl::FailedPreconditionError(
            absl::StrFormat("cannot get the current directory: %s", ec.message()));
    return cwd.string();
}

std::vector<std::string> host_environment() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; e++)
        env.emplace_back(*e);
    return env;
}
}  // namespace carbyne::launcher
