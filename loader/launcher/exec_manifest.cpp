// The default manifest of `carbyne exec` and the pieces of its command line.
#include "exec_manifest.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace carbyne::launcher {

namespace {

size_t depth(std::string_view path) {
    return path == "/" ? 0 : size_t(std::count(path.begin(), path.end(), '/'));
}

bool is_executable_file(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string absolute_path(std::string_view path, std::string_view cwd) {
    std::string joined = !path.empty() && path[0] == '/' ? std::string(path) : absl::StrFormat("%s/%s", cwd, path);
    std::string out;
    for (absl::string_view part : absl::StrSplit(absl::string_view(joined.data(), joined.size()), '/')) {
        if (part.empty() || part == ".")
            continue;
        out += '/';
        out.append(part.data(), part.size());
    }
    return out.empty() ? std::string("/") : out;
}

absl::StatusOr<std::string> find_program(std::string_view program, const char* path_env, std::string_view cwd) {
    if (program.empty())
        return absl::InvalidArgumentError("the program name is empty");
    if (program.find('/') != std::string_view::npos)
        return absolute_path(program, cwd);
    std::string_view search = path_env ? std::string_view(path_env) : std::string_view("/bin:/usr/bin");
    for (absl::string_view dir : absl::StrSplit(absl::string_view(search.data(), search.size()), ':')) {
        std::string base = dir.empty() ? std::string(".") : std::string(dir);
        std::string candidate = absolute_path(absl::StrFormat("%s/%s", base, program), cwd);
        if (is_executable_file(candidate))
            return candidate;
    }
    return absl::NotFoundError(absl::StrFormat("%s: command not found", program));
}

absl::StatusOr<Mount> parse_mount_option(std::string_view spec, std::string_view cwd) {
    auto bad = [&](absl::string_view why) {
        return absl::InvalidArgumentError(absl::StrFormat("--mount %s: %s", spec, why));
    };
    std::string_view rest = spec;
    bool readonly = false;
    if (rest.size() > 3 && (rest.ends_with(":ro") || rest.ends_with(":rw"))) {
        readonly = rest.ends_with(":ro");
        rest.remove_suffix(3);
    }
    // PATH is absolute, so the separator is the last ":/"; HOSTDIR may contain ':' itself.
    size_t sep = rest.rfind(":/");
    if (sep == std::string_view::npos)
        return bad("expected HOSTDIR:PATH[:ro|:rw] with an absolute PATH");
    std::string_view host = rest.substr(0, sep);
    if (host.empty())
        return bad("HOSTDIR is empty");
    absl::StatusOr<std::string> path = normalize_inside_path(rest.substr(sep + 1));
    if (!path.ok())
        return bad(path.status().message());
    absl::StatusOr<std::string> host_path = resolve_host_path(host, cwd);
    if (!host_path.ok())
        return bad(host_path.status().message());
    return Mount{boot::MountType::Chroot, *path, *host_path, readonly};
}

absl::StatusOr<Mount> parse_tmpfs_option(std::string_view path) {
    absl::StatusOr<std::string> normalized = normalize_inside_path(path);
    if (!normalized.ok())
        return absl::InvalidArgumentError(absl::StrFormat("--tmpfs %s: %s", path, normalized.status().message()));
    return Mount{boot::MountType::Tmpfs, *normalized, "", false};
}

absl::StatusOr<Manifest> default_exec_manifest(const ExecRequest& request) {
    Manifest m;
    m.entrypoint = request.entrypoint;
    m.argv = request.argv;
    m.env = request.env;
    m.log_level = request.log_level;
    m.log_file = request.log_file;
    m.start_dir = request.cwd;

    // Defaults first; an extra mount at the same path takes the default's place.
    std::vector<Mount> defaults = {
        Mount{boot::MountType::Chroot, "/", "/", true},
        Mount{boot::MountType::Tmpfs, "/tmp", "", false},
    };
    // At "/" the working directory is the read-only root already.
    if (request.cwd != "/")
        defaults.push_back(Mount{boot::MountType::Chroot, request.cwd, request.cwd, false});

    std::map<std::string, size_t> by_path;
    std::vector<Mount> mounts;
    for (const Mount& mount : defaults) {
        auto [it, inserted] = by_path.emplace(mount.path, mounts.size());
        if (inserted)
            mounts.push_back(mount);
        else
            mounts[it->second] = mount;  // the working directory is /tmp: it wins over the tmpfs
    }
    std::map<std::string, bool> extra_seen;
    for (const Mount& mount : request.extra_mounts) {
        if (!extra_seen.emplace(mount.path, true).second)
            return absl::InvalidArgumentError(absl::StrFormat("two mounts at %s", mount.path));
        auto [it, inserted] = by_path.emplace(mount.path, mounts.size());
        if (inserted)
            mounts.push_back(mount);
        else
            mounts[it->second] = mount;
    }
    std::stable_sort(mounts.begin(), mounts.end(),
                     [](const Mount& a, const Mount& b) { return depth(a.path) < depth(b.path); });
    m.mounts = std::move(mounts);
    return m;
}

}  // namespace carbyne::launcher
