// Host paths resolved beneath a root handle's host fd (pal.h: "Host paths").
//
// Every path a PAL call takes is relative to a root handle and is opened by openat2(2)
// with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS: the kernel refuses an
// absolute path or a ".." that would climb above the root (EXDEV), and any symlink met on
// the way (ELOOP). The LibOS resolves every symlink itself before it asks the PAL, so a
// symlink the host meets in a path was put there behind the LibOS's back (a directory
// swapped for a symlink by another process); refusing it keeps every call inside the
// mount, whatever the race.
//
// A call that acts on the object a path names (attributes, mode, owner, times, readlink)
// acts on an O_PATH | O_NOFOLLOW descriptor of it opened beneath the root (AT_EMPTY_PATH);
// a name directly in the root is acted on at the root's fd with AT_SYMLINK_NOFOLLOW, which
// saves the open. A call that makes, removes or renames a name (mkdirat, mknodat,
// symlinkat, unlinkat, renameat2, linkat) opens the directory holding the last component
// beneath the root and names the component in it: none of those follows it.
#pragma once

#include "pal_internal.h"

namespace carbyne::pal {

// The host fd of a root handle (a directory or a file), or -1 when `root` cannot be one.
int root_fd(const PalHandle* root);

// openat2 of `path` beneath `root` with `flags` (O_CLOEXEC is the caller's); "" opens the
// root itself (a file root through its /proc/self/fd link, which names it and nothing
// else). `mode` counts with O_CREAT only. Returns the new fd or -errno.
long open_beneath(const PalHandle* root, const char* path, long flags, uint32_t mode);

// The object `path` names beneath a root, for the *at calls that take (dirfd, name, flags):
// `name` in `dirfd` with `at_flags` (AT_SYMLINK_NOFOLLOW, or AT_EMPTY_PATH with name "").
class BeneathObject {
public:
    BeneathObject() = default;
    ~BeneathObject();
    BeneathObject(const BeneathObject&) = delete;
    BeneathObject& operator=(const BeneathObject&) = delete;

    PalError resolve(const PalHandle* root, const char* path);
    long dirfd() const { return m_dirfd; }
    const char* name() const { return m_name; }
    int at_flags() const { return m_at_flags; }

private:
    long m_dirfd = -1;
    long m_owned = -1;  // the fd this opened, closed by the destructor
    const char* m_name = "";
    int m_at_flags = 0;
};

// The directory that holds `path`'s last component beneath a root, and that component
// (trailing slashes kept: the calls that take it never follow it). A last component "."
// or ".." names the directory the whole path leads to, as "." in it; "" names the root,
// as "." in it. `name` points into `path`.
class BeneathParent {
public:
    BeneathParent() = default;
    ~BeneathParent();
    BeneathParent(const BeneathParent&) = delete;
    BeneathParent& operator=(const BeneathParent&) = delete;

    PalError resolve(const PalHandle* root, const char* path);
    long dirfd() const { return m_dirfd; }
    const char* name() const { return m_name; }

private:
    long m_dirfd = -1;
    long m_owned = -1;
    const char* m_name = ".";
};

}  // namespace carbyne::pal
