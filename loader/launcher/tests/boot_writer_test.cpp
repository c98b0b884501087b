// Boot config encoding, read back with the Reader the PAL and the LibOS use.
#include <catch2/catch.hpp>

#include <string.h>

#include <string>
#include <vector>

#include "boot_writer.h"
#include "carbyne/boot_config.h"

namespace carbyne::launcher {
namespace {

using boot::Reader;
using boot::Record;
using boot::Tag;

Manifest sample_manifest() {
    Manifest m;
    m.entrypoint = "/usr/bin/python3";
    m.argv = {"python3", "-c", "print('hi')", ""};
    m.env = {"HOME=/root", "EMPTY=", "LANG=C.UTF-8"};
    m.log_level = boot::LogLevel::Trace;
    m.log_file = "/var/log/carbyne.log";
    m.mounts = {
        Mount{boot::MountType::Chroot, "/", "/", true},
        Mount{boot::MountType::Tmpfs, "/tmp", "", false},
        Mount{boot::MountType::Chroot, "/srv/data", "/home/user/data", false},
    };
    m.start_dir = "/srv/data";
    m.stack_size = 4u << 20;
    m.brk_max_size = uint64_t{3} << 30;
    m.net_allow = std::vector<boot::NetAllowRule>{
        boot::NetAllowRule{boot::NetOp::Bind, boot::NetProto::Tcp, boot::NetFamily::Inet, 32, 6379, 6379,
                           {127, 0, 0, 1}},
        boot::NetAllowRule{boot::NetOp::Connect, boot::NetProto::Any, boot::NetFamily::Inet6, 8, 1, 65535, {0xfd}},
        boot::NetAllowRule{boot::NetOp::Connect, boot::NetProto::Udp, boot::NetFamily::Any, 0, 0, 65535, {}},
    };
    return m;
}

bool same_rule(const boot::NetAllowRule& a, const boot::NetAllowRule& b) {
    return a.op == b.op && a.proto == b.proto && a.family == b.family && a.prefix_len == b.prefix_len &&
           a.port_min == b.port_min && a.port_max == b.port_max && memcmp(a.addr, b.addr, sizeof(a.addr)) == 0;
}

std::vector<Record> read_all(const std::vector<uint8_t>& bytes) {
    Reader reader(bytes.data(), bytes.size());
    REQUIRE(reader.valid());
    std::vector<Record> records;
    Record r;
    while (reader.next(&r))
        records.push_back(r);
    REQUIRE_FALSE(reader.error());
    return records;
}

std::string str(const Record& r) {
    const char* s = r.as_string();
    REQUIRE(s != nullptr);
    return s;
}

uint64_t u64(const Record& r) {
    uint64_t v = 0;
    REQUIRE(r.as_u64(&v));
    return v;
}

TEST_CASE("boot config round trip: every record, in order", "[boot]") {
    Manifest m = sample_manifest();
    absl::StatusOr<std::vector<uint8_t>> bytes = encode_boot_config(m, "/opt/carbyne/libexec/libos.so");
    REQUIRE(bytes.ok());
    CHECK(bytes->size() % 8 == 0);
    CHECK(memcmp(bytes->data(), boot::kMagic, 8) == 0);

    std::vector<Record> records = read_all(*bytes);
    size_t i = 0;
    auto next = [&](Tag tag) -> const Record& {
        REQUIRE(i < records.size());
        const Record& r = records[i++];
        CHECK(r.tag == tag);
        return r;
    };
    CHECK(str(next(Tag::LibosPath)) == "/opt/carbyne/libexec/libos.so");
    CHECK(u64(next(Tag::LogLevel)) == uint64_t(boot::LogLevel::Trace));
    CHECK(str(next(Tag::LogFile)) == "/var/log/carbyne.log");
    CHECK(str(next(Tag::Entrypoint)) == "/usr/bin/python3");
    for (const std::string& arg : m.argv)
        CHECK(str(next(Tag::Argv)) == arg);
    for (const std::string& entry : m.env)
        CHECK(str(next(Tag::Env)) == entry);
    for (const Mount& mount : m.mounts) {
        boot::MountView view;
        REQUIRE(boot::decode_mount(next(Tag::Mount), &view));
        CHECK(view.type == mount.type);
        CHECK(view.flags == (mount.readonly ? boot::kMountReadOnly : 0u));
        CHECK(std::string(view.path) == mount.path);
        CHECK(std::string(view.uri) == (mount.type == boot::MountType::Tmpfs ? "none" : mount.host_path));
    }
    CHECK(str(next(Tag::StartDir)) == "/srv/data");
    CHECK(u64(next(Tag::StackSize)) == 4u << 20);
    CHECK(u64(next(Tag::BrkMaxSize)) == uint64_t{3} << 30);
    CHECK(u64(next(Tag::Sandbox)) == 1);
    CHECK(u64(next(Tag::NetAllow)) == m.net_allow->size());
    for (const boot::NetAllowRule& rule : *m.net_allow) {
        boot::NetAllowRule decoded;
        const Record& r = next(Tag::NetAllowRule);
        CHECK(r.size == boot::kNetAllowRuleSize);
        REQUIRE(boot::decode_net_allow_rule(r, &decoded));
        CHECK(same_rule(decoded, rule));
    }
    CHECK(i == records.size());
}

TEST_CASE("boot config: net.allow unset has no NetAllow record, empty has one and no rules", "[boot]") {
    Manifest m = sample_manifest();
    m.net_allow.reset();
    absl::StatusOr<std::vector<uint8_t>> bytes = encode_boot_config(m, "/libos.so");
    REQUIRE(bytes.ok());
    for (const Record& r : read_all(*bytes)) {
        CHECK(r.tag != Tag::NetAllow);
        CHECK(r.tag != Tag::NetAllowRule);
    }

    m.net_allow.emplace();
    bytes = encode_boot_config(m, "/libos.so");
    REQUIRE(bytes.ok());
    int net_allow = 0;
    for (const Record& r : read_all(*bytes)) {
        CHECK(r.tag != Tag::NetAllowRule);
        if (r.tag == Tag::NetAllow) {
            net_allow++;
            CHECK(u64(r) == 0);
        }
    }
    CHECK(net_allow == 1);
}

TEST_CASE("boot config: the NetAllowRule layout, and malformed rules", "[boot]") {
    BootConfigWriter w;
    w.add_net_allow_rule(boot::NetAllowRule{boot::NetOp::Connect, boot::NetProto::Udp, boot::NetFamily::Inet, 24,
                                            0x1234, 0xfedc, {10, 1, 2, 0}});
    absl::StatusOr<std::vector<uint8_t>> bytes = w.finish();
    REQUIRE(bytes.ok());
    REQUIRE(bytes->size() == boot::kHeaderSize + 8 + 24);
    const uint8_t* b = bytes->data() + boot::kHeaderSize;
    CHECK(b[0] == uint8_t(Tag::NetAllowRule));
    CHECK(b[4] == 24);
    const uint8_t expected[24] = {2, 2, 2, 24, 0x34, 0x12, 0xdc, 0xfe, 10, 1, 2, 0};
    CHECK(memcmp(b + 8, expected, sizeof(expected)) == 0);

    std::vector<uint8_t> payload(b + 8, b + 8 + 24);
    auto decodes = [&](const std::vector<uint8_t>& p) {
        boot::NetAllowRule rule;
        return boot::decode_net_allow_rule(Record{Tag::NetAllowRule, p.data(), uint32_t(p.size())}, &rule);
    };
    CHECK(decodes(payload));
    auto with = [&](size_t at, uint8_t value) {
        std::vector<uint8_t> p = payload;
        p[at] = value;
        return p;
    };
    CHECK_FALSE(decodes(with(0, 0)));   // no such operation
    CHECK_FALSE(decodes(with(0, 3)));
    CHECK_FALSE(decodes(with(1, 3)));   // no such protocol
    CHECK_FALSE(decodes(with(2, 4)));   // no such family
    CHECK_FALSE(decodes(with(3, 33)));  // an IPv4 prefix longer than 32 bits
    CHECK(decodes(with(2, 10)));        // ... is fine for IPv6
    CHECK_FALSE(decodes(with(7, 0)));   // port_max < port_min
    std::vector<uint8_t> longer = payload;
    longer.push_back(0);
    CHECK_FALSE(decodes(longer));
    payload.pop_back();
    CHECK_FALSE(decodes(payload));
}

TEST_CASE("boot config without a log file has no LogFile record", "[boot]") {
    Manifest m = sample_manifest();
    m.log_file.reset();
    absl::StatusOr<std::vector<uint8_t>> bytes = encode_boot_config(m, "/libos.so");
    REQUIRE(bytes.ok());
    for (const Record& r : read_all(*bytes))
        CHECK(r.tag != Tag::LogFile);
}

TEST_CASE("boot config writer: header, padding and bad strings", "[boot]") {
    BootConfigWriter w;
    w.add_string(Tag::Entrypoint, "/a");          // 3 bytes of payload, 5 of padding
    w.add_u64(Tag::StackSize, 0x0102030405060708);
    absl::StatusOr<std::vector<uint8_t>> bytes = w.finish();
    REQUIRE(bytes.ok());
    REQUIRE(bytes->size() == boot::kHeaderSize + 16 + 16);
    const uint8_t* b = bytes->data();
    CHECK(b[8] == boot::kVersion);
    CHECK(b[12] == bytes->size());
    CHECK(b[16] == uint8_t(Tag::Entrypoint));
    CHECK(b[20] == 3);
    CHECK(memcmp(b + 24, "/a\0\0\0\0\0\0", 8) == 0);
    CHECK(b[40] == 0x08);
    CHECK(b[47] == 0x01);

    BootConfigWriter bad;
    bad.add_string(Tag::Argv, std::string_view("a\0b", 3));
    CHECK_FALSE(bad.finish().ok());

    BootConfigWriter bad_mount;
    bad_mount.add_mount(boot::MountType::Chroot, 0, "/", std::string_view("/\0", 2));
    CHECK_FALSE(bad_mount.finish().ok());
}

TEST_CASE("the Reader rejects truncated and corrupted boot configs", "[boot]") {
    absl::StatusOr<std::vector<uint8_t>> good = encode_boot_config(sample_manifest(), "/libos.so");
    REQUIRE(good.ok());
    const std::vector<uint8_t>& bytes = *good;

    SECTION("shorter than the header") {
        CHECK_FALSE(Reader(bytes.data(), 8).valid());
        CHECK_FALSE(Reader(bytes.data(), 0).valid());
    }
    SECTION("truncated: size differs from the header's total") {
        CHECK_FALSE(Reader(bytes.data(), bytes.size() - 8).valid());
        CHECK_FALSE(Reader(bytes.data(), bytes.size() - 1).valid());
    }
    SECTION("truncated, header patched to match: the cut record is an error") {
        std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 4);
        uint32_t size = uint32_t(cut.size());
        memcpy(cut.data() + 12, &size, 4);
        Reader reader(cut.data(), cut.size());
        REQUIRE(reader.valid());
        Record r;
        while (reader.next(&r)) {
        }
        CHECK(reader.error());
    }
    SECTION("bad magic") {
        std::vector<uint8_t> copy = bytes;
        copy[0] ^= 0xff;
        CHECK_FALSE(Reader(copy.data(), copy.size()).valid());
    }
    SECTION("unknown version") {
        std::vector<uint8_t> copy = bytes;
        copy[8] = uint8_t(boot::kVersion + 1);
        CHECK_FALSE(Reader(copy.data(), copy.size()).valid());
    }
    SECTION("a record claiming more payload than there is") {
        std::vector<uint8_t> copy = bytes;
        uint32_t huge = 0x7fffffff;
        memcpy(copy.data() + boot::kHeaderSize + 4, &huge, 4);
        Reader reader(copy.data(), copy.size());
        REQUIRE(reader.valid());
        Record r;
        CHECK_FALSE(reader.next(&r));
        CHECK(reader.error());
    }
    SECTION("a corrupted mount record does not decode") {
        std::vector<uint8_t> copy = bytes;
        Reader reader(copy.data(), copy.size());
        Record r;
        bool found = false;
        while (reader.next(&r)) {
            if (r.tag != Tag::Mount)
                continue;
            // path_size one too large: the sizes no longer add up to the payload.
            uint8_t* header = const_cast<uint8_t*>(r.data);
            header[8] += 1;
            boot::MountView view;
            CHECK_FALSE(boot::decode_mount(r, &view));
            found = true;
            break;
        }
        CHECK(found);
    }
    SECTION("a string without its NUL is not a string") {
        std::vector<uint8_t> copy = bytes;
        Reader reader(copy.data(), copy.size());
        Record r;
        REQUIRE(reader.next(&r));
        REQUIRE(r.tag == Tag::LibosPath);
        const_cast<uint8_t*>(r.data)[r.size - 1] = 'x';
        CHECK(r.as_string() == nullptr);
    }
}

TEST_CASE("boot config: a Sandbox record when sys.sandbox is on, none when off", "[boot]") {
    Manifest m = sample_manifest();
    for (bool on : {true, false}) {
        m.sandbox = on;
        absl::StatusOr<std::vector<uint8_t>> bytes = encode_boot_config(m, "/libos.so");
        REQUIRE(bytes.ok());
        int found = 0;
        for (const Record& r : read_all(*bytes)) {
            if (r.tag == Tag::Sandbox) {
                found++;
                CHECK(u64(r) == 1);
            }
        }
        CHECK(found == (on ? 1 : 0));
    }
}

}  // namespace
}  // namespace carbyne::launcher
