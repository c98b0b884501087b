// libFuzzer target: the boot-config decoder (common/include/carbyne/boot_config.h), which
// the PAL and the LibOS run on the memfd the launcher wrote.
//
// Each input is decoded twice: as it is, and with its header repaired (magic, version and
// total size set), so that mutations reach the records instead of stopping at the header.
// Besides memory safety (ASan, UBSan) it checks what the decoder promises: every record
// lies inside the buffer, a string ends at its only NUL, a decoded mount or net.allow rule
// is well formed and encodes back to the same bytes.
#include <carbyne/boot_config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

namespace boot = carbyne::boot;

namespace {

[[noreturn]] void fail(const char* what) {
    fprintf(stderr, "boot-config fuzz: %s\n", what);
    abort();
}

void check(bool ok, const char* what) {
    if (!ok)
        fail(what);
}

void check_rule(const boot::Record& rec) {
    boot::NetAllowRule rule;
    if (!boot::decode_net_allow_rule(rec, &rule))
        return;
    uint8_t again[boot::kNetAllowRuleSize];
    boot::encode_net_allow_rule(rule, again);
    check(memcmp(again, rec.data, sizeof(again)) == 0, "a decoded net.allow rule encodes differently");
    // The matcher reads at most 16 address bytes, whatever the rule says.
    static const uint8_t kAddresses[][16] = {
        {127, 0, 0, 1},
        {10, 1, 2, 3},
        {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1},
    };
    for (const uint8_t* address : kAddresses) {
        for (boot::NetFamily family : {boot::NetFamily::Inet, boot::NetFamily::Inet6}) {
            size_t size = family == boot::NetFamily::Inet ? 4 : 16;
            std::vector<uint8_t> exact(address, address + size);  // ASan sees a read past it
            for (uint16_t port : {uint16_t{0}, uint16_t{80}, rule.port_min, rule.port_max, uint16_t{65535}}) {
                bool allowed = boot::net_rule_allows(rule, rule.op, boot::NetProto::Tcp, family, exact.data(), port);
                if (allowed)
                    check(port >= rule.port_min && port <= rule.port_max, "a rule allows a port outside its range");
            }
        }
    }
}

void check_record(const boot::Record& rec, const uint8_t* begin, const uint8_t* end) {
    check(rec.data >= begin && rec.data <= end && rec.size <= size_t(end - rec.data), "a record outside the buffer");
    if (const char* s = rec.as_string())
        check(strlen(s) + 1 == rec.size, "a string record with a NUL inside");
    uint64_t value;
    check(rec.as_u64(&value) == (rec.size == 8), "as_u64 and the payload size disagree");
    switch (rec.tag) {
    case boot::Tag::Mount: {
        boot::MountView mount;
        if (boot::decode_mount(rec, &mount)) {
            const char* first = reinterpret_cast<const char*>(rec.data);
            const char* last = first + rec.size;
            check(mount.path > first && mount.path < last && mount.uri > mount.path && mount.uri < last,
                  "a mount's strings outside its record");
            check(mount.path + strlen(mount.path) < mount.uri && mount.uri + strlen(mount.uri) < last,
                  "a mount string runs past its end");
            check(mount.type == boot::MountType::Chroot || mount.type == boot::MountType::Tmpfs,
                  "a mount of an unknown type");
        }
        break;
    }
    case boot::Tag::NetAllowRule: check_rule(rec); break;
    default: break;
    }
}

void decode(const uint8_t* data, size_t size) {
    boot::Reader reader(data, size);
    if (!reader.valid()) {
        check(!reader.error(), "an invalid config reports a record error");
        return;
    }
    boot::Record rec;
    size_t records = 0;
    while (reader.next(&rec)) {
        check_record(rec, data, data + size);
        records++;
        check(records <= size / 8, "more records than the buffer can hold");
    }
    boot::Record after;
    check(!reader.next(&after), "next() goes on after the end");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // An exact-size copy, so that ASan sees any read past the end.
    std::vector<uint8_t> raw(data, data + size);
    decode(raw.data(), raw.size());

    if (size >= boot::kHeaderSize && size <= boot::kMaxSize) {
        std::vector<uint8_t> fixed(data, data + size);
        memcpy(fixed.data(), boot::kMagic, sizeof(boot::kMagic));
        for (int i = 0; i < 4; i++) {
            fixed[8 + i] = uint8_t(boot::kVersion >> (8 * i));
            fixed[12 + i] = uint8_t(uint32_t(size) >> (8 * i));
        }
        boot::Reader reader(fixed.data(), fixed.size());
        check(reader.valid(), "a config with a correct header is invalid");
        decode(fixed.data(), fixed.size());
    }
    return 0;
}
