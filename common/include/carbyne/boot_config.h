// The boot config: how the host launcher hands the parsed manifest to carbyne-pal and libos.
//
// Flat, versioned, length-prefixed. The launcher writes it into a memfd; the PAL maps it
// and passes it on to the LibOS unchanged. Nobody after the launcher parses TOML.
//
//   header:  magic "CRBYBOOT" (8 bytes), u32 version, u32 total_size (header included)
//   records: u16 tag, u16 zero, u32 payload_size, payload, zero padding to 8 bytes
//
// Strings are stored with their terminating NUL (payload_size counts it). Integers are
// little-endian u64 unless said otherwise. Repeated tags (Argv, Env, Mount, NetAllowRule) keep
// their order. A reader skips tags it does not know, so adding a tag needs no new version
// (the launcher, the PAL and the LibOS come from one build).
// This header is freestanding: it is included by the host launcher, the PAL and the LibOS.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace carbyne::boot {

inline constexpr char kMagic[8] = {'C', 'R', 'B', 'Y', 'B', 'O', 'O', 'T'};
inline constexpr uint32_t kVersion = 1;
inline constexpr uint32_t kHeaderSize = 16;
inline constexpr uint32_t kMaxSize = 64u << 20;

enum class Tag : uint16_t {
    LibosPath = 1,      // string: host path of libos.so
    LogLevel = 2,       // u64: LogLevel
    LogFile = 3,        // string: host path of the log file; absent means stderr
    Entrypoint = 4,     // string: the program to run, a path inside the LibOS file system
    Argv = 5,           // string, repeated: argv[0], argv[1], ...
    Env = 6,            // string, repeated: "NAME=value"
    Mount = 7,          // MountRecord, repeated, in manifest order
    StartDir = 8,       // string: initial working directory inside the LibOS
    StackSize = 9,      // u64: bytes of the main thread's stack
    BrkMaxSize = 10,    // u64: bytes the heap (brk) may grow to
    NetAllow = 11,      // u64: the number of NetAllowRule records; present iff net.allow is set
    NetAllowRule = 12,  // NetAllowRule (kNetAllowRuleSize bytes), repeated, in manifest order
    Sandbox = 13,       // u64: 1 when the PAL confines its host process (sys.sandbox)
};

enum class LogLevel : uint64_t { None = 0, Error = 1, Warning = 2, Debug = 3, Trace = 4 };

enum class MountType : uint32_t { Chroot = 1, Tmpfs = 2 };
inline constexpr uint32_t kMountReadOnly = 1u << 0;

// Payload of a Mount record: this header, then `path` (path_size bytes, NUL included),
// then `uri` (uri_size bytes, NUL included; for chroot the resolved host path).
struct MountRecordHeader {
    uint32_t type;
    uint32_t flags;
    uint32_t path_size;
    uint32_t uri_size;
};

// net.allow: one rule allows one operation with one protocol to a range of addresses and ports.
enum class NetOp : uint8_t { Bind = 1, Connect = 2 };  // Connect also covers sendto
enum class NetProto : uint8_t { Any = 0, Tcp = 1, Udp = 2 };
enum class NetFamily : uint8_t { Any = 0, Inet = 2, Inet6 = 10 };  // the AF_* numbers

// Payload of a NetAllowRule record, kNetAllowRuleSize bytes:
//   u8 op, u8 proto, u8 family, u8 prefix_len, u16 port_min, u16 port_max (little-endian),
//   u8 addr[16] (network order; an IPv4 address in the first 4 bytes, the rest zero)
// prefix_len is the number of leading address bits that must match: at most 32 for Inet,
// 128 for Inet6, and 0 for Any (every address of either family). Ports are inclusive.
struct NetAllowRule {
    NetOp op;
    NetProto proto;
    NetFamily family;
    uint8_t prefix_len;
    uint16_t port_min;
    uint16_t port_max;
    uint8_t addr[16];
};
inline constexpr uint32_t kNetAllowRuleSize = 24;

inline void encode_net_allow_rule(const NetAllowRule& rule, uint8_t out[kNetAllowRuleSize]) {
    out[0] = uint8_t(rule.op);
    out[1] = uint8_t(rule.proto);
    out[2] = uint8_t(rule.family);
    out[3] = rule.prefix_len;
    out[4] = uint8_t(rule.port_min);
    out[5] = uint8_t(rule.port_min >> 8);
    out[6] = uint8_t(rule.port_max);
    out[7] = uint8_t(rule.port_max >> 8);
    for (int i = 0; i < 16; i++)
        out[8 + i] = rule.addr[i];
}

// Whether `address` (an IPv4 address in its first 4 bytes, or an IPv6 address) matches the
// rule's address and prefix.
inline bool net_prefix_matches(const NetAllowRule& rule, const uint8_t* address) {
    uint32_t bits = rule.prefix_len;
    uint32_t i = 0;
    for (; bits >= 8; bits -= 8, i++)
        if (address[i] != rule.addr[i])
            return false;
    uint8_t mask = uint8_t(0xff00u >> bits);
    return bits == 0 || ((address[i] ^ rule.addr[i]) & mask) == 0;
}

// Whether `rule` allows `op` with `proto` (Tcp or Udp; Any for another socket type, which
// only a rule for any protocol allows) to `port` at `address` of `family` (Inet: 4 bytes;
// Inet6: 16). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 rules as a.b.c.d,
// and IPv6 rules as itself.
inline bool net_rule_allows(const NetAllowRule& rule, NetOp op, NetProto proto, NetFamily family,
                            const uint8_t* address, uint16_t port) {
    if (rule.op != op || (rule.proto != NetProto::Any && rule.proto != proto))
        return false;
    if (port < rule.port_min || port > rule.port_max)
        return false;
    if (rule.family == NetFamily::Any)
        return family == NetFamily::Inet || family == NetFamily::Inet6;
    if (rule.family == family)
        return net_prefix_matches(rule, address);
    if (rule.family == NetFamily::Inet && family == NetFamily::Inet6) {
        static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        for (int i = 0; i < 12; i++)
            if (address[i] != kMapped[i])
                return false;
        return net_prefix_matches(rule, address + 12);
    }
    return false;
}

struct Record {
    Tag tag;
    const uint8_t* data;
    uint32_t size;

    // The payload as a NUL-terminated string, or nullptr when it is not one.
    const char* as_string() const {
        if (size == 0 || data[size - 1] != '\0')
            return nullptr;
        for (uint32_t i = 0; i + 1 < size; i++)
            if (data[i] == '\0')
                return nullptr;
        return reinterpret_cast<const char*>(data);
    }

    bool as_u64(uint64_t* out) const {
        if (size != 8)
            return false;
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | data[i];
        *out = v;
        return true;
    }
};

struct MountView {
    MountType type;
    uint32_t flags;
    const char* path;
    const char* uri;
};

// Decodes a Mount record; false when it is malformed.
inline bool decode_mount(const Record& r, MountView* out) {
    if (r.size < sizeof(MountRecordHeader))
        return false;
    MountRecordHeader h;
    __builtin_memcpy(&h, r.data, sizeof(h));
    uint64_t need = sizeof(h) + uint64_t{h.path_size} + h.uri_size;
    if (need != r.size || h.path_size == 0 || h.uri_size == 0)
        return false;
    const char* path = reinterpret_cast<const char*>(r.data + sizeof(h));
    const char* uri = path + h.path_size;
    if (path[h.path_size - 1] != '\0' || uri[h.uri_size - 1] != '\0')
        return false;
    if (h.type != uint32_t(MountType::Chroot) && h.type != uint32_t(MountType::Tmpfs))
        return false;
    *out = MountView{MountType(h.type), h.flags, path, uri};
    return true;
}

// Decodes a NetAllowRule record; false when it is malformed.
inline bool decode_net_allow_rule(const Record& r, NetAllowRule* out) {
    if (r.size != kNetAllowRuleSize)
        return false;
    const uint8_t* p = r.data;
    NetAllowRule rule{NetOp(p[0]), NetProto(p[1]), NetFamily(p[2]), p[3], uint16_t(p[4] | p[5] << 8),
                      uint16_t(p[6] | p[7] << 8), {}};
    for (int i = 0; i < 16; i++)
        rule.addr[i] = p[8 + i];
    if (rule.op != NetOp::Bind && rule.op != NetOp::Connect)
        return false;
    if (rule.proto != NetProto::Any && rule.proto != NetProto::Tcp && rule.proto != NetProto::Udp)
        return false;
    uint32_t max_prefix = rule.family == NetFamily::Inet ? 32 : rule.family == NetFamily::Inet6 ? 128 : 0;
    if (rule.family != NetFamily::Any && rule.family != NetFamily::Inet && rule.family != NetFamily::Inet6)
        return false;
    if (rule.prefix_len > max_prefix || rule.port_min > rule.port_max)
        return false;
    *out = rule;
    return true;
}

// Walks the records of a boot config. Construct, check valid(), then call next() until it
// returns false; error() tells a malformed tail from the clean end.
class Reader {
public:
    Reader(const void* data, size_t size) : m_data(static_cast<const uint8_t*>(data)), m_size(size) {
        if (size < kHeaderSize || size > kMaxSize)
            return;
        for (int i = 0; i < 8; i++)
            if (m_data[i] != uint8_t(kMagic[i]))
                return;
        if (load32(8) != kVersion || load32(12) != size)
            return;
        m_pos = kHeaderSize;
        m_valid = true;
    }

    bool valid() const { return m_valid; }
    bool error() const { return m_error; }

    bool next(Record* out) {
        if (!m_valid || m_error || m_pos == m_size)
            return false;
        if (m_size - m_pos < 8) {
            m_error = true;
            return false;
        }
        uint16_t tag = uint16_t(m_data[m_pos] | (m_data[m_pos + 1] << 8));
        uint32_t payload = load32(m_pos + 4);
        uint64_t padded = (uint64_t{payload} + 7) & ~uint64_t{7};
        if (padded > m_size - m_pos - 8) {
            m_error = true;
            return false;
        }
        *out = Record{Tag(tag), m_data + m_pos + 8, payload};
        m_pos += 8 + padded;
        return true;
    }

private:
    uint32_t load32(size_t at) const {
        return uint32_t(m_data[at]) | uint32_t(m_data[at + 1]) << 8 | uint32_t(m_data[at + 2]) << 16 |
               uint32_t(m_data[at + 3]) << 24;
    }

    const uint8_t* m_data;
    size_t m_size;
    size_t m_pos = 0;
    bool m_valid = false;
    bool m_error = false;
};

}  // namespace carbyne::boot
