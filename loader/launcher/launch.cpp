// Locating the PAL and the LibOS, and the execve into the PAL.
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_format.h"

#ifndef CARBYNE_INSTALL_LIBEXEC_REL
#error "CARBYNE_INSTALL_LIBEXEC_REL must be defined by the build"
#endif
#ifndef CARBYNE_BUILD_PAL_REL
#error "CARBYNE_BUILD_PAL_REL must be defined by the build"
#endif
#ifndef CARBYNE_BUILD_LIBOS_REL
#error "CARBYNE_BUILD_LIBOS_REL must be defined by the build"
#endif

namespace carbyne::launcher {

namespace {

struct Layout {
    const char* name;
    std::string pal;
    std::string libos;
};

bool is_file(const std::string& path, int mode) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), mode) == 0;
}

std::string canonical(const std::string& path) {
    char* real = realpath(path.c_str(), nullptr);
    if (!real)
        return path;
    std::string out(real);
    free(real);
    return out;
}

std::string normal(const std::string& path) { return std::filesystem::path(path).lexically_normal().string(); }

absl::Status write_all(int fd, const uint8_t* data, size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return absl::InternalError(absl::StrFormat("cannot write the boot config: %s", strerror(errno)));
        data += n;
        size -= size_t(n);
    }
    return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> self_exe_path() {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n < 0)
        return absl::NotFoundError(absl::StrFormat("cannot read /proc/self/exe: %s", strerror(errno)));
    return std::string(buf, size_t(n));
}

absl::StatusOr<Parts> locate_parts(std::string_view exe_path) {
    std::string dir = std::filesystem::path(exe_path).parent_path().string();
    Layout layouts[] = {
        {"installed", absl::StrFormat("%s/%s/carbyne-pal", dir, CARBYNE_INSTALL_LIBEXEC_REL),
         absl::StrFormat("%s/%s/libos.so", dir, CARBYNE_INSTALL_LIBEXEC_REL)},
        {"build tree", absl::StrFormat("%s/%s", dir, CARBYNE_BUILD_PAL_REL),
         absl::StrFormat("%s/%s", dir, CARBYNE_BUILD_LIBOS_REL)},
    };
    std::string tried;
    for (const Layout& layout : layouts) {
        bool pal = is_file(layout.pal, X_OK);
        bool libos = is_file(layout.libos, R_OK);
        if (pal && libos)
            return Parts{canonical(layout.pal), canonical(layout.libos)};
        tried += absl::StrFormat("%s%s and %s (%s)", tried.empty() ? "" : ", ", normal(layout.pal),
                                 normal(layout.libos), layout.name);
    }
    return absl::NotFoundError(absl::StrFormat("cannot find carbyne-pal and libos.so: looked for %s", tried));
}

absl::Status exec_pal(const std::string& pal_path, const std::vector<uint8_t>& boot_config) {
    // No MFD_CLOEXEC: the PAL must inherit it. Sealed, so what the PAL maps is what was written.
    int fd = memfd_create("carbyne-boot", MFD_ALLOW_SEALING);
    if (fd < 0)
        return absl::InternalError(absl::StrFormat("memfd_create: %s", strerror(errno)));
    // Keep fds 0-2 for the application even when the caller left one of them closed.
    if (fd <= 2) {
        int moved = fcntl(fd, F_DUPFD, 3);
        int saved = errno;
        close(fd);
        if (moved < 0)
            return absl::InternalError(absl::StrFormat("fcntl(F_DUPFD): %s", strerror(saved)));
        fd = moved;
    }
    absl::Status status = write_all(fd, boot_config.data(), boot_config.size());
    if (status.ok() && fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
        status = absl::InternalError(absl::StrFormat("sealing the boot config: %s", strerror(errno)));
    if (status.ok() && lseek(fd, 0, SEEK_SET) != 0)
        status = absl::InternalError(absl::StrFormat("lseek: %s", strerror(errno)));
    if (!status.ok()) {
        close(fd);
        return status;
    }

    std::string fd_text = absl::StrFormat("%d", fd);
    char* argv[] = {const_cast<char*>("carbyne-pal"), fd_text.data(), nullptr};
    char* envp[] = {nullptr};
    // The PAL's processes share one placement (the PAL would otherwise execute itself
    // again to get it): no host address randomization for them.
    int persona = personality(0xffffffff);
    if (persona != -1)
        personality(static_cast<unsigned long>(persona) | ADDR_NO_RANDOMIZE);
    execve(pal_path.c_str(), argv, envp);
    int saved = errno;
    close(fd);
    return absl::UnavailableError(absl::StrFormat("cannot execute %s: %s", pal_path, strerror(saved)));
}

}  // namespace carbyne::launcher
