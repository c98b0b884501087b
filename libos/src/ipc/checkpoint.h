// The checkpoint format: what a forking process sends its child, and the framing of every
// other message between the processes of an instance.
//
// A checkpoint is a stream: a header (magic, version), then records, then an End record.
// Each record is self-describing: a 16-byte head (tag, size) and `size` bytes of payload,
// so a reader skips the records it does not know and refuses one larger than it allows.
// A payload is a sequence of u32/u64 fields (the host's byte order: both ends are one
// build on one host), byte strings and
// NUL-terminated strings (Encoder, Decoder); each kind of state has its save/restore pair
// next to its own code, and this file knows none of them.
//
// Everything read is checked: a bad magic or version, a record head past the allowed
// size, a payload read past its end or with bytes left over, a string without its NUL,
// an early end of the stream: each is an error (EINVAL, or EPIPE for the end of the
// stream), never a crash or a hang.
#pragma once

#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos::ckpt {

inline constexpr uint64_t kMagic = 0x54504b4359425243ull;  // "CRBYCKPT"
inline constexpr uint32_t kVersion = 2;  // 2: an fd record carries its O_ASYNC owner

// The kinds of records. Numbers are part of the format: never reuse one.
enum class Tag : uint32_t {
    End = 0,
    Process = 1,    // identity, cwd, umask, name, brk (proc/)
    Thread = 2,     // the forking thread: registers, FS base, mask, alternate stack
    Vma = 3,        // one mapping; its pages follow in a VmaPages record
    VmaPages = 4,   // raw page contents, read straight into place
    File = 5,       // one open file description, by id
    Fd = 6,         // one descriptor: number, file id, FD_CLOEXEC
    Signals = 7,    // dispositions and the process's pending set
    Creds = 8,      // credentials, groups, resource limits
    Heap = 9,       // the brk heap's bounds
    Handle = 10,    // a PAL handle follows on the channel (channel_recv_handle)
    Leader = 11,    // the child's channel to the IPC leader follows on the channel
};

struct RecordHead {
    uint32_t tag;
    uint32_t reserved;  // 0
    uint64_t size;
};
static_assert(sizeof(RecordHead) == 16);

// Builds one payload in a growing heap buffer. A failed allocation makes ok() false and
// every later put a no-op, so a caller checks once at the end.
class Encoder {
public:
    Encoder() = default;
    ~Encoder();
    Encoder(const Encoder&) = delete;
    Encoder& operator=(const Encoder&) = delete;

    void u32(uint32_t v) { put(&v, sizeof(v)); }
    void u64(uint64_t v) { put(&v, sizeof(v)); }
    // A length-prefixed byte string.
    void bytes(const void* data, size_t size);
    // A NUL-terminated string, length-prefixed (the NUL counted).
    void str(const char* s);
    // Raw bytes, no length.
    void put(const void* data, size_t size);

    bool ok() const { return m_ok; }
    const uint8_t* data() const { return m_buf; }
    size_t size() const { return m_size; }
    void clear() { m_size = 0; }

private:
    uint8_t* m_buf = nullptr;
    size_t m_size = 0, m_capacity = 0;
    bool m_ok = true;
};

// Reads one payload. Every call fails (false) once anything was out of bounds.
class Decoder {
public:
    Decoder(const uint8_t* data, size_t size) : m_p(data), m_end(data + size) {}

    bool u32(uint32_t* v) { return get(v, sizeof(*v)); }
    bool u64(uint64_t* v) { return get(v, sizeof(*v)); }
    // A byte string of at most `max` bytes: *data points into the payload.
    bool bytes(const uint8_t** data, size_t* size, size_t max);
    // A string: *s points into the payload, NUL-terminated, at most `max` bytes with it.
    bool str(const char** s, size_t max);
    bool get(void* out, size_t size);

    // True when every byte was read and nothing failed: a record with more than its
    // reader knows is refused (the version says what a record holds).
    bool finished() const { return m_ok && m_p == m_end; }
    bool ok() const { return m_ok; }

private:
    const uint8_t* m_p;
    const uint8_t* m_end;
    bool m_ok = true;
};

// Where a checkpoint goes and comes from: a channel, or memory in tests. read() fills the
// whole buffer or fails (EPIPE when the stream ends first).
class Sink {
public:
    virtual Result<void> write(const void* data, size_t size) = 0;

protected:
    ~Sink() = default;
};

class Source {
public:
    virtual Result<void> read(void* data, size_t size) = 0;

protected:
    ~Source() = default;
};

Result<void> write_stream_head(Sink& out);
// EINVAL when the magic or the version is not this build's.
Result<void> read_stream_head(Source& in);

// One record: its head, then the encoder's payload (ENOMEM if the encoder failed).
Result<void> write_record(Sink& out, Tag tag, const Encoder& payload);
// A record head only (VmaPages: the raw payload follows, `size` bytes).
Result<void> write_record_head(Sink& out, Tag tag, uint64_t size);
// The next record's head; EINVAL when its size passes `max_size` or its reserved word is
// not 0.
Result<RecordHead> read_record_head(Source& in, uint64_t max_size);
// Reads a payload of `size` bytes into a new heap buffer (kfree it).
Result<uint8_t*> read_payload(Source& in, uint64_t size);
// Reads and drops `size` bytes (a record this reader does not know).
Result<void> skip_payload(Source& in, uint64_t size);

}  // namespace carbyne::libos::ckpt
