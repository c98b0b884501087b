// Lexical path arithmetic (see path.h).
#include "path.h"

#include <carbyne/string.h>

namespace carbyne::libos::fs {

namespace {

// Room for the path while it is being cleaned: "a/../b" may be long on the way to a short
// result, and only the result is limited to kPathMax.
constexpr size_t kWorkSize = 2 * kPathMax;

// Appends the components of `src` to the clean absolute path in out[0..*len).
Result<void> append_components(const char* src, char* out, size_t* len) {
    const char* p = src;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char* start = p;
        while (*p && *p != '/')
            p++;
        size_t n = size_t(p - start);
        if (n > kNameMax)
            return Errno(ENAMETOOLONG);
        if (n == 1 && start[0] == '.')
            continue;
        if (n == 2 && start[0] == '.' && start[1] == '.') {
            while (*len > 0 && out[*len - 1] != '/')
                (*len)--;
            if (*len > 0)
                (*len)--;  // drop the slash too
            continue;
        }
        if (*len + 1 + n + 1 > kWorkSize)
            return Errno(ENAMETOOLONG);
        out[(*len)++] = '/';
        memcpy(out + *len, start, n);
        *len += n;
    }
    return {};
}

}  // namespace

Result<void> path_normalize(const char* cwd, const char* path, char* out) {
    if (!path[0])
        return Errno(ENOENT);
    char work[kWorkSize];
    size_t len = 0;
    if (path[0] != '/')
        TRY(append_components(cwd, work, &len));
    TRY(append_components(path, work, &len));
    if (len == 0)
        work[len++] = '/';
    if (len + 1 > kPathMax)
        return Errno(ENAMETOOLONG);
    memcpy(out, work, len);
    out[len] = '\0';
    return {};
}

bool path_is_within(const char* path, const char* prefix) {
    if (prefix[0] == '/' && prefix[1] == '\0')
        return true;
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const char* path_below(const char* path, const char* prefix) {
    if (prefix[0] == '/' && prefix[1] == '\0')
        return path + 1;
    const char* rest = path + strlen(prefix);
    return *rest == '/' ? rest + 1 : rest;
}

const char* path_basename(const char* path) {
    const char* slash = path;
    for (const char* p = path; *p; p++)
        if (*p == '/')
            slash = p;
    return slash + 1;
}

size_t path_dirname_size(const char* path) { return size_t(path_basename(path) - 1 - path); }

}  // namespace carbyne::libos::fs
