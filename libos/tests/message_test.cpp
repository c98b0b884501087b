// Unit tests of the message framing between the processes of an instance
// (libos/src/ipc/message.h): the heads the leader accepts, and garbage it refuses.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "../src/ipc/message.h"

#include <random>

namespace ipc = carbyne::libos::ipc;

namespace {

ipc::MsgHead head(uint32_t size, uint16_t type, uint16_t flags = 0) { return {size, type, flags, 7}; }

}  // namespace

TEST_CASE("every known type with a payload up to the limit is accepted") {
    for (auto type : {ipc::MsgType::AllocId, ipc::MsgType::NewMember, ipc::MsgType::Fs, ipc::MsgType::Proc,
                      ipc::MsgType::Push, ipc::MsgType::UnixName, ipc::MsgType::Error}) {
        CHECK(ipc::msg_head_valid(head(0, uint16_t(type))));
        CHECK(ipc::msg_head_valid(head(8, uint16_t(type))));
        CHECK(ipc::msg_head_valid(head(ipc::kMaxPayload, uint16_t(type))));
    }
}

TEST_CASE("a payload past the limit, a flags word or an unknown type is refused") {
    uint16_t alloc = uint16_t(ipc::MsgType::AllocId);
    CHECK_FALSE(ipc::msg_head_valid(head(ipc::kMaxPayload + 1, alloc)));
    CHECK_FALSE(ipc::msg_head_valid(head(UINT32_MAX, alloc)));
    CHECK_FALSE(ipc::msg_head_valid(head(0, alloc, 1)));
    CHECK_FALSE(ipc::msg_head_valid(head(0, alloc, 0x8000)));
    for (uint16_t type : {uint16_t(0), uint16_t(7), uint16_t(8), uint16_t(0x7fff), uint16_t(0xfffe)})
        CHECK_FALSE(ipc::msg_head_valid(head(0, type)));
}

TEST_CASE("random heads are accepted only when they are well formed") {
    std::mt19937_64 rng(1);
    int accepted = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t a = rng(), b = rng();
        ipc::MsgHead h{uint32_t(a), uint16_t(a >> 32), uint16_t(a >> 48), b};
        // Some with small sizes, no flags and known types, so that both answers occur.
        if (i % 4 == 0) {
            h.size %= 2 * ipc::kMaxPayload;
            h.flags = 0;
            h.type = uint16_t(i % 8 == 0 ? 1 + (b % 6) : h.type);
        }
        bool known = (h.type >= 1 && h.type <= 6) || h.type == 0xffff;
        bool want = h.size <= ipc::kMaxPayload && h.flags == 0 && known;
        REQUIRE(ipc::msg_head_valid(h) == want);
        accepted += want;
    }
    CHECK(accepted > 1000);
}
