// Unit tests of the checkpoint format (libos/src/ipc/checkpoint.h): the byte layout of the
// stream and record heads, a round trip through memory, the Decoder's bounds (reads past
// the end, length prefixes, strings without their NUL or with one too many), the checks of
// read_stream_head and read_record_head, read_payload and skip_payload against a short
// stream, the Encoder's growth, and that garbage or a truncated stream always ends in an
// error or an End record: never a crash, a read outside the payload, or a leak.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "../src/ipc/checkpoint.h"

#include <malloc.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "host_heap.h"

// ASan answers an impossible allocation with a report, not with null (GCC and clang).
#if defined(__SANITIZE_ADDRESS__)
#define CHECKPOINT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHECKPOINT_TEST_ASAN 1
#endif
#endif
#ifndef CHECKPOINT_TEST_ASAN
#define CHECKPOINT_TEST_ASAN 0
#endif

namespace ckpt = carbyne::libos::ckpt;
using carbyne::libos::Errno;
using carbyne::libos::Result;

namespace {

// A Sink into memory: every write is appended.
class MemSink final : public ckpt::Sink {
public:
    Result<void> write(const void* data, size_t size) override {
        auto* p = static_cast<const uint8_t*>(data);
        bytes.insert(bytes.end(), p, p + size);
        return {};
    }
    std::vector<uint8_t> bytes;
};

// A Sink that takes `room` bytes, then fails every write with EIO.
class FullSink final : public ckpt::Sink {
public:
    explicit FullSink(size_t room) : m_room(room) {}
    Result<void> write(const void*, size_t size) override {
        if (size > m_room)
            return Errno(EIO);
        m_room -= size;
        return {};
    }

private:
    size_t m_room;
};

// A Source from memory. A read of more than what remains behaves like a channel whose peer
// closed mid-message: the bytes that were there are copied into the buffer and consumed,
// the rest of the buffer is left as it was, and the read fails with EPIPE; every later read
// of a nonzero size fails too. A read of 0 bytes always succeeds.
class MemSource final : public ckpt::Source {
public:
    explicit MemSource(std::vector<uint8_t> bytes) : m_bytes(std::move(bytes)) {}
    MemSource(const std::vector<uint8_t>& bytes, size_t prefix)
        : m_bytes(bytes.begin(), bytes.begin() + ptrdiff_t(prefix)) {}

    Result<void> read(void* data, size_t size) override {
        size_t left = m_bytes.size() - m_pos;
        if (size > left) {
            if (left)
                memcpy(data, m_bytes.data() + m_pos, left);
            m_pos = m_bytes.size();
            return Errno(EPIPE);
        }
        if (size)
            memcpy(data, m_bytes.data() + m_pos, size);
        m_pos += size;
        return {};
    }
    size_t pos() const { return m_pos; }
    size_t left() const { return m_bytes.size() - m_pos; }

private:
    std::vector<uint8_t> m_bytes;
    size_t m_pos = 0;
};

template <typename T>
void append(std::vector<uint8_t>& v, T x) {
    uint8_t b[sizeof(T)];
    memcpy(b, &x, sizeof(T));
    v.insert(v.end(), b, b + sizeof(T));
}

std::vector<uint8_t> stream_head(uint64_t magic, uint32_t version, uint32_t reserved) {
    std::vector<uint8_t> v;
    append(v, magic);
    append(v, version);
    append(v, reserved);
    return v;
}

std::vector<uint8_t> record_head(uint32_t tag, uint32_t reserved, uint64_t size) {
    std::vector<uint8_t> v;
    append(v, tag);
    append(v, reserved);
    append(v, size);
    return v;
}

// How many bytes the Encoder's buffer really has: on the host kmalloc is malloc.
size_t held(const ckpt::Encoder& e) {
    return e.data() ? malloc_usable_size(const_cast<uint8_t*>(e.data())) : 0;
}

std::vector<uint8_t> encoded(const ckpt::Encoder& e) {
    REQUIRE(e.ok());
    return std::vector<uint8_t>(e.data(), e.data() + e.size());
}

// A byte string (u64 length, then the bytes) as the Encoder lays it out, by hand.
std::vector<uint8_t> length_prefixed(uint64_t length, const std::string& bytes) {
    std::vector<uint8_t> v;
    append(v, length);
    v.insert(v.end(), bytes.begin(), bytes.end());
    return v;
}

// Memory whose last byte is followed by an inaccessible page, so that a Decoder reading
// even one byte past a payload copied to its end faults (the tests are built without ASan).
class GuardedBuffer {
public:
    GuardedBuffer() {
        m_page = size_t(sysconf(_SC_PAGESIZE));
        void* p = mmap(nullptr, 2 * m_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        REQUIRE(p != MAP_FAILED);
        m_base = static_cast<uint8_t*>(p);
        REQUIRE(mprotect(m_base + m_page, m_page, PROT_NONE) == 0);
    }
    ~GuardedBuffer() { munmap(m_base, 2 * m_page); }
    GuardedBuffer(const GuardedBuffer&) = delete;
    GuardedBuffer& operator=(const GuardedBuffer&) = delete;

    // Copies `size` bytes so that they end right at the guard page.
    const uint8_t* place(const uint8_t* data, size_t size) {
        REQUIRE(size <= m_page);
        uint8_t* at = m_base + m_page - size;
        if (size)
            memcpy(at, data, size);
        return at;
    }

private:
    uint8_t* m_base = nullptr;
    size_t m_page = 0;
};

struct DecodeStats {
    long fields = 0;   // successful reads of any kind
    long strings = 0;  // successful str()
    long finished = 0;  // payloads read to their end exactly
};

// Reads fields from a payload until one fails or the payload is done, checking that every
// answer stays inside the payload and that a failure is final.
void decode_fields(const uint8_t* p, size_t size, uint32_t tag, DecodeStats& stats) {
    ckpt::Decoder d(p, size);
    const uint8_t* end = p + size;
    bool ok = true;
    for (unsigned i = tag % 5; ok && !d.finished(); i++) {
        switch (i % 5) {
        case 0: {
            uint32_t v;
            ok = d.u32(&v);
            break;
        }
        case 1: {
            uint64_t v;
            ok = d.u64(&v);
            break;
        }
        case 2: {
            const uint8_t* data = nullptr;
            size_t n = 0;
            ok = d.bytes(&data, &n, 4096);
            if (ok) {
                REQUIRE(data >= p);
                REQUIRE(n <= size_t(end - data));
            }
            break;
        }
        case 3: {
            const char* s = nullptr;
            ok = d.str(&s, 256);
            if (ok) {
                auto* at = reinterpret_cast<const uint8_t*>(s);
                REQUIRE(at >= p);
                REQUIRE(at < end);
                // The NUL is inside the payload (memchr stops there: no read past it).
                REQUIRE(memchr(s, 0, size_t(end - at)) != nullptr);
                REQUIRE(strlen(s) < 256);
                stats.strings++;
            }
            break;
        }
        case 4: {
            uint8_t raw[3];
            ok = d.get(raw, sizeof(raw));
            break;
        }
        }
        REQUIRE(d.ok() == ok);
        if (ok)
            stats.fields++;
    }
    if (ok) {
        REQUIRE(d.finished());
        stats.finished++;
        return;
    }
    // A failure is final: every later read fails, and the payload is never "finished".
    uint32_t v32;
    uint64_t v64;
    const uint8_t* data;
    size_t n;
    const char* s;
    REQUIRE_FALSE(d.u32(&v32));
    REQUIRE_FALSE(d.u64(&v64));
    REQUIRE_FALSE(d.bytes(&data, &n, 4096));
    REQUIRE_FALSE(d.str(&s, 4096));
    REQUIRE_FALSE(d.get(&v32, 0));
    REQUIRE_FALSE(d.ok());
    REQUIRE_FALSE(d.finished());
}

struct ReadOutcome {
    bool end = false;  // reached an End record
    int error = 0;     // else the error that stopped the reader
    int records = 0;   // records read before the End or the error, End not counted
};

constexpr uint64_t kMaxRecord = 4096;

using U64s = std::initializer_list<uint64_t>;

// A reader as the restoring side would be: the stream head, then records until End or an
// error. VmaPages and tags it does not know are skipped; every other payload is decoded.
ReadOutcome read_all(ckpt::Source& in, GuardedBuffer& guard, DecodeStats& stats) {
    ReadOutcome out;
    auto head = ckpt::read_stream_head(in);
    if (!head.ok()) {
        out.error = head.error().code;
        return out;
    }
    // Every record takes at least its 16-byte head, so a finite stream ends this loop;
    // the bound only turns a bug into a failure instead of a hang.
    for (int guard_count = 0; guard_count < 1000000; guard_count++) {
        auto rec = ckpt::read_record_head(in, kMaxRecord);
        if (!rec.ok()) {
            out.error = rec.error().code;
            return out;
        }
        REQUIRE(rec.value().reserved == 0);
        REQUIRE(rec.value().size <= kMaxRecord);
        uint32_t tag = rec.value().tag;
        uint64_t size = rec.value().size;
        if (tag == uint32_t(ckpt::Tag::End)) {
            out.end = true;
            return out;
        }
        if (tag == uint32_t(ckpt::Tag::VmaPages) || tag > uint32_t(ckpt::Tag::Handle)) {
            auto skipped = ckpt::skip_payload(in, size);
            if (!skipped.ok()) {
                out.error = skipped.error().code;
                return out;
            }
        } else {
            auto payload = ckpt::read_payload(in, size);
            if (!payload.ok()) {
                out.error = payload.error().code;
                return out;
            }
            const uint8_t* placed = guard.place(payload.value(), size_t(size));
            carbyne::libos::kfree(payload.value());
            decode_fields(placed, size_t(size), tag, stats);
        }
        out.records++;
    }
    FAIL("the reader did not stop");
    return out;
}

// A stream with one record of every shape: fields of each kind, an empty payload, a raw
// VmaPages payload larger than skip_payload's chunk, a tag this reader does not know.
std::vector<uint8_t> sample_stream(int* records) {
    MemSink sink;
    REQUIRE(ckpt::write_stream_head(sink).ok());
    {
        // Fields in the order decode_fields reads them for this tag (1: from u64 on).
        ckpt::Encoder e;
        e.u64(0xdeadbeefcafef00dull);
        e.bytes("\x01\x02\x00\x03", 4);
        e.str("/home/user");
        e.put("xyz", 3);
        e.u32(1234);
        REQUIRE(ckpt::write_record(sink, ckpt::Tag::Process, e).ok());
    }
    {
        ckpt::Encoder e;
        REQUIRE(ckpt::write_record(sink, ckpt::Tag::Heap, e).ok());
    }
    {
        std::vector<uint8_t> pages(1500);
        for (size_t i = 0; i < pages.size(); i++)
            pages[i] = uint8_t(i * 7);
        REQUIRE(ckpt::write_record_head(sink, ckpt::Tag::VmaPages, pages.size()).ok());
        REQUIRE(sink.write(pages.data(), pages.size()).ok());
    }
    {
        ckpt::Encoder e;
        e.u64(42);
        e.str("unknown to this reader");
        REQUIRE(ckpt::write_record(sink, ckpt::Tag(77), e).ok());
    }
    {
        ckpt::Encoder e;  // tag 7: from bytes on
        e.bytes(nullptr, 0);
        e.str("sig");
        e.put("abc", 3);
        e.u32(4);
        e.u64(5);
        REQUIRE(ckpt::write_record(sink, ckpt::Tag::Signals, e).ok());
    }
    {
        ckpt::Encoder e;
        REQUIRE(ckpt::write_record(sink, ckpt::Tag::End, e).ok());
    }
    *records = 5;
    return sink.bytes;
}

}  // namespace

TEST_CASE("the stream and record heads have the documented byte layout") {
    MemSink sink;
    REQUIRE(ckpt::write_stream_head(sink).ok());
    REQUIRE(sink.bytes.size() == 16);
    CHECK(std::string(sink.bytes.begin(), sink.bytes.begin() + 8) == "CRBYCKPT");
    CHECK(sink.bytes == stream_head(ckpt::kMagic, ckpt::kVersion, 0));
    CHECK(sink.bytes[8] == ckpt::kVersion);  // the version, little-endian

    sink.bytes.clear();
    REQUIRE(ckpt::write_record_head(sink, ckpt::Tag::Fd, 0x0102030405060708ull).ok());
    CHECK(sink.bytes == record_head(6, 0, 0x0102030405060708ull));

    // An empty payload is a head alone.
    sink.bytes.clear();
    ckpt::Encoder empty;
    CHECK(empty.size() == 0);
    REQUIRE(ckpt::write_record(sink, ckpt::Tag::Heap, empty).ok());
    CHECK(sink.bytes == record_head(9, 0, 0));

    // Fields: u32 and u64 little-endian, a byte string and a string length-prefixed by a
    // u64, the string's NUL counted and written.
    long blocks = g_live_blocks;
    {
        ckpt::Encoder e;
        e.u32(0x11223344);
        e.u64(0x5566778899aabbccull);
        e.bytes("ab", 2);
        e.str("hi");
        std::vector<uint8_t> want;
        append(want, uint32_t(0x11223344));
        append(want, uint64_t(0x5566778899aabbccull));
        auto b = length_prefixed(2, "ab");
        want.insert(want.end(), b.begin(), b.end());
        auto s = length_prefixed(3, std::string("hi\0", 3));
        want.insert(want.end(), s.begin(), s.end());
        CHECK(encoded(e) == want);
    }
    CHECK(g_live_blocks == blocks);
}

TEST_CASE("a stream reads back as it was written") {
    long blocks = g_live_blocks;
    struct Regs {
        uint64_t rip, rsp, rflags, fs_base;
    } regs = {0x401000, 0x7ffc0000, 0x246, 0x7f0000001000};
    const uint8_t blob[] = {0, 1, 2, 0, 255};
    std::vector<uint8_t> pages(700, 0x5a);

    MemSink sink;
    REQUIRE(ckpt::write_stream_head(sink).ok());
    {
        ckpt::Encoder e;
        e.u32(4321);
        e.u64(0xfedcba9876543210ull);
        e.str("/srv/www");
        e.bytes(blob, sizeof(blob));
        e.str("");
        REQUIRE(e.ok());
        REQUIRE(ckpt::write_record(sink, ckpt::Tag::Process, e).ok());
    }
    {
        ckpt::Encoder e;
        e.put(&regs, sizeof(regs));
        e.u32(7);
        REQUIRE(ckpt::write_record(sink, ckpt::Tag::Thread, e).ok());
    }
    REQUIRE(ckpt::write_record_head(sink, ckpt::Tag::VmaPages, pages.size()).ok());
    REQUIRE(sink.write(pages.data(), pages.size()).ok());
    {
        ckpt::Encoder e;
        REQUIRE(ckpt::write_record(sink, ckpt::Tag::End, e).ok());
    }

    MemSource in(sink.bytes);
    REQUIRE(ckpt::read_stream_head(in).ok());

    auto head = ckpt::read_record_head(in, 1 << 20);
    REQUIRE(head.ok());
    CHECK(head.value().tag == uint32_t(ckpt::Tag::Process));
    CHECK(head.value().reserved == 0);
    CHECK(head.value().size == 4 + 8 + (8 + 9) + (8 + sizeof(blob)) + (8 + 1));
    {
        auto payload = ckpt::read_payload(in, head.value().size);
        REQUIRE(payload.ok());
        ckpt::Decoder d(payload.value(), size_t(head.value().size));
        uint32_t a = 0;
        uint64_t b = 0;
        const char* cwd = nullptr;
        const uint8_t* data = nullptr;
        size_t n = 0;
        CHECK(d.u32(&a));
        CHECK(a == 4321);
        CHECK(d.u64(&b));
        CHECK(b == 0xfedcba9876543210ull);
        CHECK(d.str(&cwd, 4096));
        CHECK(std::string(cwd) == "/srv/www");
        CHECK_FALSE(d.finished());
        CHECK(d.bytes(&data, &n, 4096));
        REQUIRE(n == sizeof(blob));
        CHECK(memcmp(data, blob, n) == 0);
        // Left unread, the last field keeps the payload from being finished.
        CHECK_FALSE(d.finished());
        CHECK(d.ok());
        const char* empty = nullptr;
        CHECK(d.str(&empty, 4096));
        CHECK(std::string(empty).empty());
        CHECK(d.finished());
        // At the end, one more read fails and the payload is no longer finished.
        uint32_t more;
        CHECK_FALSE(d.u32(&more));
        CHECK_FALSE(d.finished());
        carbyne::libos::kfree(payload.value());
    }

    head = ckpt::read_record_head(in, 1 << 20);
    REQUIRE(head.ok());
    CHECK(head.value().tag == uint32_t(ckpt::Tag::Thread));
    REQUIRE(head.value().size == sizeof(regs) + 4);
    {
        auto payload = ckpt::read_payload(in, head.value().size);
        REQUIRE(payload.ok());
        ckpt::Decoder d(payload.value(), size_t(head.value().size));
        Regs got = {};
        uint32_t seven = 0;
        CHECK(d.get(&got, sizeof(got)));
        CHECK(got.rip == regs.rip);
        CHECK(got.rsp == regs.rsp);
        CHECK(got.rflags == regs.rflags);
        CHECK(got.fs_base == regs.fs_base);
        CHECK_FALSE(d.finished());
        CHECK(d.u32(&seven));
        CHECK(seven == 7);
        CHECK(d.finished());
        carbyne::libos::kfree(payload.value());
    }

    head = ckpt::read_record_head(in, 1 << 20);
    REQUIRE(head.ok());
    CHECK(head.value().tag == uint32_t(ckpt::Tag::VmaPages));
    REQUIRE(head.value().size == pages.size());
    {
        auto payload = ckpt::read_payload(in, head.value().size);
        REQUIRE(payload.ok());
        CHECK(std::vector<uint8_t>(payload.value(), payload.value() + pages.size()) == pages);
        carbyne::libos::kfree(payload.value());
    }

    head = ckpt::read_record_head(in, 1 << 20);
    REQUIRE(head.ok());
    CHECK(head.value().tag == uint32_t(ckpt::Tag::End));
    CHECK(head.value().size == 0);
    CHECK(in.left() == 0);
    CHECK(g_live_blocks == blocks);
}

TEST_CASE("a Decoder never reads past its payload, and a failure is final") {
    SECTION("a read past the end fails and every later read fails") {
        std::vector<uint8_t> p = {1, 2, 3, 4, 5, 6};
        ckpt::Decoder d(p.data(), p.size());
        uint32_t v32 = 0;
        uint64_t v64 = 0;
        CHECK(d.u32(&v32));
        CHECK(v32 == 0x04030201);
        CHECK_FALSE(d.u32(&v32));  // 2 bytes left
        CHECK_FALSE(d.ok());
        CHECK_FALSE(d.finished());
        // Even reads that would fit now fail.
        uint8_t b[2];
        CHECK_FALSE(d.get(b, 2));
        CHECK_FALSE(d.get(b, 0));
        CHECK_FALSE(d.u64(&v64));
        CHECK_FALSE(d.ok());
        CHECK_FALSE(d.finished());
    }
    SECTION("an empty payload is finished at once, and any read of it fails") {
        ckpt::Decoder d(nullptr, 0);
        CHECK(d.finished());
        uint64_t v;
        CHECK_FALSE(d.u64(&v));
        CHECK_FALSE(d.finished());
    }
    SECTION("a byte string may take exactly what is left") {
        auto p = length_prefixed(3, "abc");
        ckpt::Decoder d(p.data(), p.size());
        const uint8_t* data = nullptr;
        size_t n = 0;
        CHECK(d.bytes(&data, &n, 3));
        CHECK(n == 3);
        CHECK(data == p.data() + 8);
        CHECK(d.finished());
    }
    SECTION("a byte string longer than what is left fails") {
        auto p = length_prefixed(4, "abc");
        ckpt::Decoder d(p.data(), p.size());
        const uint8_t* data = nullptr;
        size_t n = 0;
        CHECK_FALSE(d.bytes(&data, &n, 4096));
        CHECK_FALSE(d.ok());
        CHECK_FALSE(d.get(&n, 0));
    }
    SECTION("a huge length prefix fails even when max allows it") {
        for (uint64_t len : U64s{~0ull, 1ull << 63, uint64_t(SIZE_MAX) - 7}) {
            auto p = length_prefixed(len, "abcdefgh");
            ckpt::Decoder d(p.data(), p.size());
            const uint8_t* data = nullptr;
            size_t n = 0;
            CHECK_FALSE(d.bytes(&data, &n, SIZE_MAX));
            CHECK_FALSE(d.ok());
        }
    }
    SECTION("a truncated length prefix fails") {
        std::vector<uint8_t> p = {3, 0, 0, 0};
        ckpt::Decoder d(p.data(), p.size());
        const uint8_t* data;
        size_t n;
        CHECK_FALSE(d.bytes(&data, &n, 4096));
    }
    SECTION("a byte string over max fails, one of exactly max does not") {
        auto p = length_prefixed(5, "hello");
        {
            ckpt::Decoder d(p.data(), p.size());
            const uint8_t* data;
            size_t n;
            CHECK_FALSE(d.bytes(&data, &n, 4));
            CHECK_FALSE(d.ok());
        }
        {
            ckpt::Decoder d(p.data(), p.size());
            const uint8_t* data;
            size_t n;
            CHECK(d.bytes(&data, &n, 5));
            CHECK(d.finished());
        }
    }
    SECTION("a string without its NUL fails") {
        auto p = length_prefixed(3, "abc");
        ckpt::Decoder d(p.data(), p.size());
        const char* s = nullptr;
        CHECK_FALSE(d.str(&s, 4096));
        CHECK_FALSE(d.ok());
        CHECK_FALSE(d.finished());
    }
    SECTION("a string with a NUL before its end fails") {
        for (const std::string& body : {std::string("a\0b\0", 4), std::string("\0\0", 2),
                                        std::string("\0x\0", 3)}) {
            auto p = length_prefixed(body.size(), body);
            ckpt::Decoder d(p.data(), p.size());
            const char* s = nullptr;
            CHECK_FALSE(d.str(&s, 4096));
            CHECK_FALSE(d.ok());
        }
    }
    SECTION("a string of length 0 (no NUL at all) fails") {
        auto p = length_prefixed(0, "");
        ckpt::Decoder d(p.data(), p.size());
        const char* s = nullptr;
        CHECK_FALSE(d.str(&s, 4096));
        CHECK_FALSE(d.ok());
        CHECK_FALSE(d.finished());
    }
    SECTION("a string's max counts its NUL") {
        auto p = length_prefixed(4, std::string("abc\0", 4));
        {
            ckpt::Decoder d(p.data(), p.size());
            const char* s = nullptr;
            CHECK_FALSE(d.str(&s, 3));
        }
        {
            ckpt::Decoder d(p.data(), p.size());
            const char* s = nullptr;
            CHECK(d.str(&s, 4));
            CHECK(std::string(s) == "abc");
            CHECK(d.finished());
        }
    }
    SECTION("a string is found in place, NUL-terminated, at the end of the payload") {
        GuardedBuffer guard;
        auto p = length_prefixed(6, std::string("guard\0", 6));
        const uint8_t* at = guard.place(p.data(), p.size());
        ckpt::Decoder d(at, p.size());
        const char* s = nullptr;
        CHECK(d.str(&s, 6));
        CHECK(reinterpret_cast<const uint8_t*>(s) == at + 8);
        CHECK(std::string(s) == "guard");
        CHECK(d.finished());
    }
}

TEST_CASE("read_stream_head refuses a foreign, newer or damaged head") {
    SECTION("this build's head is accepted") {
        MemSource in(stream_head(ckpt::kMagic, ckpt::kVersion, 0));
        CHECK(ckpt::read_stream_head(in).ok());
        CHECK(in.left() == 0);
    }
    SECTION("a wrong magic is EINVAL") {
        for (uint64_t magic :
             U64s{0ull, ckpt::kMagic ^ 1, ckpt::kMagic ^ (1ull << 63), ~ckpt::kMagic}) {
            MemSource in(stream_head(magic, ckpt::kVersion, 0));
            auto r = ckpt::read_stream_head(in);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().code == EINVAL);
        }
    }
    SECTION("a wrong version is EINVAL") {
        for (uint32_t version : {0u, ckpt::kVersion + 1, 0xffffffffu, ckpt::kVersion << 16}) {
            MemSource in(stream_head(ckpt::kMagic, version, 0));
            auto r = ckpt::read_stream_head(in);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().code == EINVAL);
        }
    }
    SECTION("a nonzero reserved word is EINVAL") {
        for (uint32_t reserved : {1u, 0x80000000u, 0xffffffffu}) {
            MemSource in(stream_head(ckpt::kMagic, ckpt::kVersion, reserved));
            auto r = ckpt::read_stream_head(in);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().code == EINVAL);
        }
    }
    SECTION("a head shorter than 16 bytes is EPIPE") {
        auto whole = stream_head(ckpt::kMagic, ckpt::kVersion, 0);
        for (size_t n = 0; n < whole.size(); n++) {
            MemSource in(whole, n);
            auto r = ckpt::read_stream_head(in);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().code == EPIPE);
        }
    }
}

TEST_CASE("read_record_head refuses an oversized or damaged head") {
    SECTION("a size up to max_size is accepted, any tag included") {
        for (uint32_t tag : {0u, 4u, 10u, 11u, 0xffffffffu}) {
            MemSource in(record_head(tag, 0, 100));
            auto r = ckpt::read_record_head(in, 100);
            REQUIRE(r.ok());
            CHECK(r.value().tag == tag);
            CHECK(r.value().size == 100);
        }
        MemSource in(record_head(1, 0, ~0ull));
        CHECK(ckpt::read_record_head(in, ~0ull).ok());
    }
    SECTION("a size above max_size is EINVAL") {
        for (uint64_t size : U64s{101ull, 1ull << 32, 1ull << 63, ~0ull}) {
            MemSource in(record_head(1, 0, size));
            auto r = ckpt::read_record_head(in, 100);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().code == EINVAL);
        }
        MemSource in(record_head(1, 0, 1));
        auto r = ckpt::read_record_head(in, 0);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == EINVAL);
    }
    SECTION("a nonzero reserved word is EINVAL") {
        for (uint32_t reserved : {1u, 0x100u, 0xffffffffu}) {
            MemSource in(record_head(1, reserved, 0));
            auto r = ckpt::read_record_head(in, 4096);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().code == EINVAL);
        }
    }
    SECTION("a head shorter than 16 bytes is EPIPE") {
        auto whole = record_head(1, 0, 8);
        for (size_t n = 0; n < whole.size(); n++) {
            MemSource in(whole, n);
            auto r = ckpt::read_record_head(in, 4096);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().code == EPIPE);
        }
    }
}

TEST_CASE("read_payload and skip_payload take exactly the payload, or fail with EPIPE") {
    long blocks = g_live_blocks;
    SECTION("read_payload of more than what remains is EPIPE and frees its buffer") {
        for (size_t have : {0, 1, 99}) {
            MemSource in(std::vector<uint8_t>(have, 0xab));
            auto r = ckpt::read_payload(in, 100);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().code == EPIPE);
            CHECK(g_live_blocks == blocks);
        }
    }
    SECTION("read_payload of 0 bytes is a buffer of its own, reading nothing") {
        MemSource in(record_head(3, 0, 0));
        auto r = ckpt::read_payload(in, 0);
        REQUIRE(r.ok());
        CHECK(r.value() != nullptr);
        CHECK(in.pos() == 0);
        CHECK(g_live_blocks == blocks + 1);
        carbyne::libos::kfree(r.value());
    }
    SECTION("skip_payload drops exactly its size, in chunks or not") {
        for (uint64_t size : U64s{0, 1, 511, 512, 513, 1024, 1500, 5000, 70001}) {
            std::vector<uint8_t> bytes(size_t(size), 0xee);
            auto next = record_head(uint32_t(ckpt::Tag::Fd), 0, 24);
            bytes.insert(bytes.end(), next.begin(), next.end());
            MemSource in(bytes);
            REQUIRE(ckpt::skip_payload(in, size).ok());
            CHECK(in.pos() == size);
            auto head = ckpt::read_record_head(in, 4096);
            REQUIRE(head.ok());
            CHECK(head.value().tag == uint32_t(ckpt::Tag::Fd));
            CHECK(head.value().size == 24);
            CHECK(in.left() == 0);
        }
    }
    SECTION("skip_payload of more than what remains is EPIPE") {
        for (size_t have : {0, 100, 512, 1000, 1024}) {
            MemSource in(std::vector<uint8_t>(have, 0));
            auto r = ckpt::skip_payload(in, 1025);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().code == EPIPE);
        }
    }
    CHECK(g_live_blocks == blocks);
}

TEST_CASE("a stream cut anywhere before its End record ends in EPIPE") {
    long blocks = g_live_blocks;
    GuardedBuffer guard;
    int records = 0;
    auto whole = sample_stream(&records);

    DecodeStats stats;
    MemSource full(whole);
    ReadOutcome out = read_all(full, guard, stats);
    REQUIRE(out.end);
    CHECK(out.records == records);
    CHECK(full.left() == 0);
    // The reader decoded the known payloads to their end: VmaPages and tag 77 were skipped.
    CHECK(stats.finished == records - 2);
    CHECK(stats.strings == 2);
    CHECK(g_live_blocks == blocks);

    // Every cut falls inside the stream head, a record head or a payload (the stream's last
    // bytes are the End record's head), so the reader runs out mid-read: EPIPE, never
    // success on part of the stream and never another error.
    for (size_t n = 0; n < whole.size(); n++) {
        MemSource in(whole, n);
        ReadOutcome cut = read_all(in, guard, stats);
        INFO("cut at " << n << " of " << whole.size());
        CHECK_FALSE(cut.end);
        CHECK(cut.error == EPIPE);
        CHECK(cut.records <= records);
        CHECK(g_live_blocks == blocks);
    }
}

TEST_CASE("garbage ends in an error or an End record, inside its bounds and without leaks") {
    long blocks = g_live_blocks;
    GuardedBuffer guard;
    std::mt19937 rng(1);
    auto below = [&](uint32_t n) { return uint32_t(rng() % n); };
    int records = 0;
    const auto valid = sample_stream(&records);
    DecodeStats stats;
    long ends = 0, errors = 0, records_read = 0;

    auto run = [&](const std::vector<uint8_t>& bytes) {
        MemSource in(bytes);
        ReadOutcome out = read_all(in, guard, stats);
        if (out.end) {
            CHECK(out.error == 0);
            ends++;
        } else {
            CHECK((out.error == EPIPE || out.error == EINVAL));
            errors++;
        }
        records_read += out.records;
        REQUIRE(g_live_blocks == blocks);
    };

    SECTION("random bytes") {
        for (int i = 0; i < 3000; i++) {
            std::vector<uint8_t> bytes(below(301));
            for (auto& b : bytes)
                b = uint8_t(rng());
            run(bytes);
        }
        CHECK(errors == 3000);  // 2^-64 of a chance to get the magic right
    }
    SECTION("a good stream head, then records with plausible heads and random payloads") {
        for (int i = 0; i < 4000; i++) {
            std::vector<uint8_t> bytes = stream_head(ckpt::kMagic, ckpt::kVersion, 0);
            while (bytes.size() < 300) {
                uint32_t tag = below(8) == 0 ? 0 : below(14);
                uint32_t reserved = below(40) == 0 ? 1 : 0;
                uint64_t size = below(50) == 0 ? uint64_t(rng()) << 8 : below(80);
                auto head = record_head(tag, reserved, size);
                bytes.insert(bytes.end(), head.begin(), head.end());
                // A payload of encoded-looking fields: small length prefixes, strings with
                // and without NULs, random words; as long as the head says, or not.
                std::vector<uint8_t> payload;
                size_t want = below(6) == 0 ? below(100) : size_t(size % 100);
                while (payload.size() < want) {
                    switch (below(4)) {
                    case 0:
                        append(payload, uint64_t(below(24)));
                        break;
                    case 1: {
                        // Mostly a well-formed string, else one whose length or NULs lie.
                        size_t n = below(12);
                        bool good = below(3) != 0;
                        append(payload, uint64_t(good ? n + 1 : below(16)));
                        for (size_t k = 0; k < n; k++) {
                            bool nul = !good && below(4) == 0;
                            payload.push_back(nul ? 0 : uint8_t('a' + below(26)));
                        }
                        payload.push_back(good || below(2) ? 0 : uint8_t('z'));
                        break;
                    }
                    case 2:
                        append(payload, uint32_t(rng()));
                        break;
                    case 3:
                        payload.push_back(0);
                        break;
                    }
                }
                payload.resize(want);
                bytes.insert(bytes.end(), payload.begin(), payload.end());
            }
            bytes.resize(below(301));
            run(bytes);
        }
        // The garbage went deep: records read, strings decoded, some streams ended.
        CHECK(records_read > 1000);
        CHECK(stats.strings > 50);
        CHECK(ends > 10);
        CHECK(errors > 10);
    }
    SECTION("a good stream with a few bytes changed, cut anywhere") {
        for (int i = 0; i < 4000; i++) {
            std::vector<uint8_t> bytes = valid;
            int changes = 1 + int(below(4));
            for (int k = 0; k < changes; k++) {
                size_t at = below(uint32_t(bytes.size()));
                bytes[at] = below(2) ? uint8_t(rng()) : uint8_t(bytes[at] ^ (1u << below(8)));
            }
            if (below(2))
                bytes.resize(below(uint32_t(bytes.size()) + 1));
            run(bytes);
        }
        CHECK(records_read > 1000);
        CHECK(ends > 10);
        CHECK(errors > 10);
    }
    CHECK(g_live_blocks == blocks);
}

TEST_CASE("an Encoder grows to any size, and clear() starts it over") {
    long blocks = g_live_blocks;
    {
        ckpt::Encoder e;
        CHECK(e.ok());
        CHECK(e.size() == 0);
        CHECK(e.data() == nullptr);
        e.put("", 0);  // nothing to put: still no buffer
        CHECK(e.data() == nullptr);
        CHECK(g_live_blocks == blocks);

        // 1 MiB and a bit, in pieces of uneven sizes, each with its own bytes.
        std::vector<uint8_t> want;
        std::vector<uint8_t> piece;
        for (size_t i = 0; want.size() < (1u << 20) + 3; i++) {
            piece.resize(1 + (i * 37) % 4099);
            for (size_t k = 0; k < piece.size(); k++)
                piece[k] = uint8_t(i * 131 + k);
            e.put(piece.data(), piece.size());
            want.insert(want.end(), piece.begin(), piece.end());
            REQUIRE(e.size() == want.size());
            REQUIRE(held(e) >= e.size());
        }
        REQUIRE(e.ok());
        // In parentheses, a bool: a mismatch of 1 MiB is not printed whole.
        CHECK((encoded(e) == want));
        CHECK(g_live_blocks == blocks + 1);  // grown buffers replace each other
        CHECK(held(e) >= e.size());

        // The whole payload goes out as one record.
        MemSink sink;
        REQUIRE(ckpt::write_record(sink, ckpt::Tag::VmaPages, e).ok());
        REQUIRE(sink.bytes.size() == 16 + want.size());
        CHECK(std::vector<uint8_t>(sink.bytes.begin(), sink.bytes.begin() + 16) ==
              record_head(uint32_t(ckpt::Tag::VmaPages), 0, want.size()));
        CHECK((std::vector<uint8_t>(sink.bytes.begin() + 16, sink.bytes.end()) == want));

        const uint8_t* buffer = e.data();
        e.clear();
        CHECK(e.ok());
        CHECK(e.size() == 0);
        e.u32(0xcafe);
        e.str("again");
        CHECK(e.data() == buffer);  // the capacity is kept
        std::vector<uint8_t> again;
        append(again, uint32_t(0xcafe));
        auto s = length_prefixed(6, std::string("again\0", 6));
        again.insert(again.end(), s.begin(), s.end());
        CHECK(encoded(e) == again);
        CHECK(g_live_blocks == blocks + 1);
    }
    CHECK(g_live_blocks == blocks);
}

TEST_CASE("an Encoder grows enough for a put more than twice what it holds") {
    long blocks = g_live_blocks;
    {
        // Each put needs more than double the capacity before it: the buffer must grow
        // past the first doubling (the allocator's own size of the block is checked, as an
        // overflow of it would go unnoticed in a build without ASan).
        ckpt::Encoder e;
        std::vector<uint8_t> want;
        for (size_t size : {200, 1000, 5000, 3, 40000}) {
            std::vector<uint8_t> piece(size);
            for (size_t k = 0; k < size; k++)
                piece[k] = uint8_t(size + k * 3);
            e.put(piece.data(), piece.size());
            want.insert(want.end(), piece.begin(), piece.end());
            REQUIRE(e.ok());
            REQUIRE(e.size() == want.size());
            REQUIRE(held(e) >= e.size());
        }
        CHECK((encoded(e) == want));
        CHECK(g_live_blocks == blocks + 1);
    }
    CHECK(g_live_blocks == blocks);
}

TEST_CASE("write_record reports a failed Encoder and a failed Sink") {
    long blocks = g_live_blocks;
#if CHECKPOINT_TEST_ASAN
    // ASan reports an impossible allocation instead of returning null.
    WARN("skipping the out-of-memory case under AddressSanitizer");
#else
    {
        // An allocation of 2^62 bytes fails on the host (more than any address space), so
        // the Encoder goes bad without its data ever being read.
        ckpt::Encoder e;
        e.u32(1);
        REQUIRE(e.ok());
        volatile size_t huge = (size_t(1) << 61) + 1;
        uint8_t dummy = 0;
        e.put(&dummy, huge);
        CHECK_FALSE(e.ok());
        CHECK(e.size() == 4);  // what it held is kept, unused
        e.u64(2);              // a no-op now
        CHECK(e.size() == 4);
        CHECK_FALSE(e.ok());
        MemSink sink;
        auto r = ckpt::write_record(sink, ckpt::Tag::Process, e);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == ENOMEM);
        CHECK(sink.bytes.empty());  // not even the head
        CHECK(g_live_blocks == blocks + 1);
    }
    CHECK(g_live_blocks == blocks);
#endif
    {
        ckpt::Encoder e;
        e.u64(7);
        for (size_t room : {0, 15, 16, 23}) {
            FullSink sink(room);
            auto r = ckpt::write_record(sink, ckpt::Tag::Heap, e);
            REQUIRE_FALSE(r.ok());
            CHECK(r.error().code == EIO);
        }
        FullSink enough(24);
        CHECK(ckpt::write_record(enough, ckpt::Tag::Heap, e).ok());
        FullSink none(15);
        auto r = ckpt::write_stream_head(none);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == EIO);
    }
    CHECK(g_live_blocks == blocks);
}
