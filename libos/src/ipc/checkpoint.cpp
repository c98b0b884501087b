// The checkpoint format (see checkpoint.h).
#include "checkpoint.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <stdint.h>

namespace carbyne::libos::ckpt {

namespace {

struct StreamHead {
    uint64_t magic;
    uint32_t version;
    uint32_t reserved;
};

}  // namespace

Encoder::~Encoder() { kfree(m_buf); }

void Encoder::put(const void* data, size_t size) {
    if (!m_ok || !size)
        return;
    if (size > SIZE_MAX - m_size) {
        m_ok = false;  // a size no buffer can hold
        return;
    }
    if (m_size + size > m_capacity) {
        size_t want = m_capacity ? m_capacity * 2 : 256;
        while (want < m_size + size) {
            if (want > SIZE_MAX / 2) {
                m_ok = false;
                return;
            }
            want *= 2;
        }
        auto* grown = static_cast<uint8_t*>(kmalloc(want));
        if (!grown) {
            m_ok = false;
            return;
        }
        if (m_size)
            memcpy(grown, m_buf, m_size);
        kfree(m_buf);
        m_buf = grown;
        m_capacity = want;
    }
    memcpy(m_buf + m_size, data, size);
    m_size += size;
}

void Encoder::bytes(const void* data, size_t size) {
    u64(size);
    put(data, size);
}

void Encoder::str(const char* s) { bytes(s, strlen(s) + 1); }

bool Decoder::get(void* out, size_t size) {
    if (!m_ok || size_t(m_end - m_p) < size) {
        m_ok = false;
        return false;
    }
    memcpy(out, m_p, size);
    m_p += size;
    return true;
}

bool Decoder::bytes(const uint8_t** data, size_t* size, size_t max) {
    uint64_t n;
    if (!u64(&n) || n > max || n > size_t(m_end - m_p)) {
        m_ok = false;
        return false;
    }
    *data = m_p;
    *size = size_t(n);
    m_p += n;
    return true;
}

bool Decoder::str(const char** s, size_t max) {
    const uint8_t* data;
    size_t size;
    if (!bytes(&data, &size, max))
        return false;
    // Exactly one NUL, at the end.
    if (size == 0 || data[size - 1] != '\0' || strlen(reinterpret_cast<const char*>(data)) != size - 1) {
        m_ok = false;
        return false;
    }
    *s = reinterpret_cast<const char*>(data);
    return true;
}

Result<void> write_stream_head(Sink& out) {
    StreamHead head = {kMagic, kVersion, 0};
    return out.write(&head, sizeof(head));
}

Result<void> read_stream_head(Source& in) {
    StreamHead head;
    TRY(in.read(&head, sizeof(head)));
    if (head.magic != kMagic || head.version != kVersion || head.reserved)
        return Errno(EINVAL);
    return {};
}

Result<void> write_record_head(Sink& out, Tag tag, uint64_t size) {
    RecordHead head = {uint32_t(tag), 0, size};
    return out.write(&head, sizeof(head));
}

Result<void> write_record(Sink& out, Tag tag, const Encoder& payload) {
    if (!payload.ok())
        return Errno(ENOMEM);
    TRY(write_record_head(out, tag, payload.size()));
    if (payload.size())
        TRY(out.write(payload.data(), payload.size()));
    return {};
}

Result<RecordHead> read_record_head(Source& in, uint64_t max_size) {
    RecordHead head;
    TRY(in.read(&head, sizeof(head)));
    if (head.reserved || head.size > max_size)
        return Errno(EINVAL);
    return head;
}

Result<uint8_t*> read_payload(Source& in, uint64_t size) {
    auto* buf = static_cast<uint8_t*>(kmalloc(size ? size_t(size) : 1));
    if (!buf)
        return Errno(ENOMEM);
    auto r = in.read(buf, size_t(size));
    if (!r.ok()) {
        kfree(buf);
        return r.error();
    }
    return buf;
}

Result<void> skip_payload(Source& in, uint64_t size) {
    uint8_t chunk[512];
    while (size) {
        size_t n = size < sizeof(chunk) ? size_t(size) : sizeof(chunk);
        TRY(in.read(chunk, n));
        size -= n;
    }
    return {};
}

}  // namespace carbyne::libos::ckpt
