// Pure path arithmetic of the VFS (no file system access): joining with the working
// directory and lexical clean-up. Unit-tested on the host.
#pragma once

#include <libos/result.h>
#include <stddef.h>

namespace carbyne::libos::fs {

inline constexpr size_t kPathMax = 4096;   // PATH_MAX, NUL included
inline constexpr size_t kNameMax = 255;

// Makes `path` absolute against `cwd` (itself absolute and clean) and removes empty and "."
// components; ".." pops one component (never above "/"). Writes a clean absolute path
// ("/" or "/a/b", no trailing slash) into out[kPathMax]. ENOENT for an empty path,
// ENAMETOOLONG when a component or the result is too long.
Result<void> path_normalize(const char* cwd, const char* path, char* out);

// True when `path` is `prefix` or lies below it (both clean and absolute).
bool path_is_within(const char* path, const char* prefix);

// Returns the part of `path` below `prefix` ("" when equal), assuming path_is_within.
const char* path_below(const char* path, const char* prefix);

// Last component of a clean absolute path ("" for "/").
const char* path_basename(const char* path);
// The length of the directory part of a clean absolute path, before its last '/':
// "/a/b" -> 2 ("/a"), "/a" and "/" -> 0 (the root).
size_t path_dirname_size(const char* path);

}  // namespace carbyne::libos::fs
