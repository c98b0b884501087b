// Unit tests of XattrSet (libos/src/fs/xattr.h): get, set with its flags, list, remove, the
// ERANGE and ENODATA answers, the user.* space limit, trusted.* hidden from listing, leaks.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "../src/fs/xattr.h"

#include <string>

#include "host_heap.h"

using carbyne::libos::Errno;
using carbyne::libos::Result;
using namespace carbyne::libos::fs;

namespace {

constexpr size_t kLimit = 1000;

Result<size_t> set(XattrSet& s, const char* name, const std::string& value, uint32_t flags = 0) {
    XattrRequest r{XattrOp::Set, name, const_cast<char*>(value.data()), value.size(), flags, false};
    return s.apply(r, kLimit);
}

Result<size_t> get(XattrSet& s, const char* name, std::string* out, size_t room) {
    out->assign(room, '\0');
    XattrRequest r{XattrOp::Get, name, out->data(), room, 0, false};
    auto got = s.apply(r, kLimit);
    if (got.ok() && room)
        out->resize(got.value());
    return got;
}

std::string list(XattrSet& s, bool privileged) {
    XattrRequest ask{XattrOp::List, nullptr, nullptr, 0, 0, privileged};
    size_t len = s.apply(ask, kLimit).value();
    std::string out(len, '\0');
    XattrRequest r{XattrOp::List, nullptr, out.data(), len, 0, privileged};
    REQUIRE(s.apply(r, kLimit).value() == len);
    return out;
}

Result<size_t> remove(XattrSet& s, const char* name) {
    return s.apply(XattrRequest{XattrOp::Remove, name, nullptr, 0, 0, false}, kLimit);
}

}  // namespace

TEST_CASE("set, get, list and remove", "[xattr]") {
    long before = g_live_blocks;
    {
        XattrSet s;
        CHECK(s.empty());
        std::string v;
        CHECK(get(s, "user.a", &v, 10).error() == Errno(ENODATA));
        CHECK(set(s, "user.a", "one").value() == 0);
        CHECK(set(s, "trusted.t", "secret").value() == 0);
        CHECK(set(s, "user.empty", "").value() == 0);
        CHECK(get(s, "user.a", &v, 0).value() == 3);  // the length only
        CHECK(get(s, "user.a", &v, 3).value() == 3);
        CHECK(v == "one");
        CHECK(get(s, "user.a", &v, 2).error() == Errno(ERANGE));
        CHECK(get(s, "user.empty", &v, 5).value() == 0);
        // In the order made; trusted.* only for the privileged.
        CHECK(list(s, true) == std::string("user.a\0trusted.t\0user.empty\0", 28));
        CHECK(list(s, false) == std::string("user.a\0user.empty\0", 18));
        XattrRequest small{XattrOp::List, nullptr, v.data(), 5, 0, true};
        v.assign(5, '\0');
        CHECK(s.apply(small, kLimit).error() == Errno(ERANGE));
        // Replacing keeps the place in the list.
        CHECK(set(s, "user.a", "a longer value").value() == 0);
        CHECK(get(s, "user.a", &v, 100).value() == 14);
        CHECK(list(s, true) == std::string("user.a\0trusted.t\0user.empty\0", 28));
        CHECK(remove(s, "user.a").value() == 0);
        CHECK(remove(s, "user.a").error() == Errno(ENODATA));
        CHECK(list(s, true) == std::string("trusted.t\0user.empty\0", 21));
    }
    CHECK(g_live_blocks == before);
}

TEST_CASE("XATTR_CREATE and XATTR_REPLACE", "[xattr]") {
    XattrSet s;
    CHECK(set(s, "user.x", "1", kXattrReplace).error() == Errno(ENODATA));
    CHECK(set(s, "user.x", "1", kXattrCreate).value() == 0);
    CHECK(set(s, "user.x", "2", kXattrCreate).error() == Errno(EEXIST));
    CHECK(set(s, "user.x", "3", kXattrReplace).value() == 0);
    std::string v;
    CHECK(get(s, "user.x", &v, 10).value() == 1);
    CHECK(v == "3");
}

TEST_CASE("user.* space is limited, other namespaces are not counted", "[xattr]") {
    XattrSet s;
    std::string big(kLimit - 6, 'b');  // with the name "user.b" exactly the limit
    CHECK(set(s, "user.b", big).value() == 0);
    CHECK(set(s, "user.c", "x").error() == Errno(ENOSPC));
    CHECK(set(s, "trusted.c", big).value() == 0);
    // Replacing counts the new size against what the old one freed.
    CHECK(set(s, "user.b", big).value() == 0);
    CHECK(remove(s, "user.b").value() == 0);
    CHECK(set(s, "user.c", "x").value() == 0);
    s.clear();
    CHECK(s.empty());
    CHECK(set(s, "user.b", big).value() == 0);
}
