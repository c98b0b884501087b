// The boot config: how the host launcher hands the parsed manifest to carbyne-pal and libos.
//
// Flat, versioned, length-prefixed. The launcher writes it into a memfd; the PAL maps it
// and passes it on to the LibOS unchanged. Nobody after the launcher parses TOML.
//
//   header:  magic "CRBYBOOT" (8 bytes), u32 version, u32 total_size (header included)
//   records: u16 tag, u16 zero, u32 payload_size, payload, zero padding to 8 bytes
//
// Strings are stored with their terminating NUL (payload_size counts it). Integers are
// little-endian u64 unless said otherwise. Repeated tags (Argv, Env, Mount) keep their order.
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
    LibosPath = 1,    // string: host path of libos.so
    LogLevel = 2,     // u64: LogLevel
    LogFile = 3,      // string: host path of the log file; absent means stderr
    Entrypoint = 4,   // string: the program to run, a path inside the LibOS file system
    Argv = 5,         // string, repeated: argv[0], argv[1], ...
    Env = 6,          // string, repeated: "NAME=value"
    Mount = 7,        // MountRecord, repeated, in manifest order
    StartDir = 8,     // string: initial working directory inside the LibOS
    StackSize = 9,    // u64: bytes of the main thread's stack
    BrkMaxSize = 10,  // u64: bytes the heap (brk) may grow to
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
