// Extended attributes: one request as the file systems see it, the Linux limits, and
// XattrSet, the attributes of one in-memory object (tmpfs) as Linux's simple_xattrs keeps
// them. The system calls (sys/fs_xattr.cpp) check names, sizes and permissions first.
// XattrSet is pure code (unit-tested on the host); its caller locks it.
#pragma once

#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos::fs {

inline constexpr size_t kXattrNameMax = 255;     // XATTR_NAME_MAX
inline constexpr size_t kXattrSizeMax = 65536;   // XATTR_SIZE_MAX
inline constexpr size_t kXattrListMax = 65536;   // XATTR_LIST_MAX
inline constexpr uint32_t kXattrCreate = 1, kXattrReplace = 2;  // XATTR_CREATE, XATTR_REPLACE

enum class XattrOp : uint32_t { Get = 1, Set = 2, List = 3, Remove = 4 };  // PAL_XATTR_*'s values

struct XattrRequest {
    XattrOp op;
    const char* name;  // checked, with its namespace prefix; nullptr for List
    void* value;       // Get/List: room for the answer (size 0: the length only); Set: the value
    size_t size;
    uint32_t flags;    // Set: kXattrCreate or kXattrReplace
    bool privileged;   // List: trusted.* names are listed only to a privileged caller
};

class XattrSet {
public:
    XattrSet() = default;
    ~XattrSet() { clear(); }
    XattrSet(const XattrSet&) = delete;
    XattrSet& operator=(const XattrSet&) = delete;

    // Get and List: the length (of the value, of the NUL-separated names); ERANGE when
    // `size` is not 0 and too small, ENODATA for a missing name. Set: 0, or EEXIST
    // (kXattrCreate), ENODATA (kXattrReplace), ENOSPC when the user.* values would pass
    // `user_limit` bytes in all, ENOMEM. Remove: 0 or ENODATA.
    Result<size_t> apply(const XattrRequest& req, size_t user_limit);
    void clear();
    bool empty() const { return !m_head; }

private:
    struct Entry {
        Entry* next;
        size_t name_len;
        size_t value_len;
        char data[];  // the name, its NUL, then the value
    };
    Entry** find(const char* name);

    Entry* m_head = nullptr;
    size_t m_user_bytes = 0;  // names and values of user.* attributes
};

}  // namespace carbyne::libos::fs
