// Unit tests of elf::map_image through a Mapper that records its calls and backs them
// with anonymous memory.
#include <catch2/catch.hpp>

#include "elf_test_support.h"

#include <sys/mman.h>

#include <iterator>
#include <map>

using namespace elf_test;

namespace {

// A Mapper that records every call, checks it, and backs it with anonymous memory holding
// a copy of the file's bytes, so that map_image's own writes (the .bss zeroing) land in
// real pages with the protection the mapper was asked for.
class FakeMapper final : public elf::Mapper {
public:
    enum class Op { Reserve, MapFile, MapZero, Protect };
    struct Call {
        Op op;
        uint64_t addr;
        uint64_t size;
        uint64_t offset;  // map_file only
        int prot;         // not for reserve
        bool fixed;       // reserve only
    };

    explicit FakeMapper(std::vector<uint8_t> file) : m_file(std::move(file)) {}
    FakeMapper(const FakeMapper&) = delete;
    FakeMapper& operator=(const FakeMapper&) = delete;
    ~FakeMapper() {
        if (m_start)
            munmap(reinterpret_cast<void*>(m_start), m_size);
    }

    std::vector<Call> calls;
    std::vector<std::string> problems;     // calls that broke the Mapper contract
    std::map<uint64_t, int> page_prot;     // final protection of each mapped page
    std::optional<Op> fail_op;             // this operation fails...
    Error fail_error = Error::Io;          // ...with this error

    uint64_t start() const { return m_start; }
    std::string problem_list() const {
        std::string all;
        for (const std::string& p : problems)
            all += (all.empty() ? "" : "; ") + p;
        return all;
    }
    bool reserved(uint64_t addr, uint64_t size) const {
        return m_start && addr >= m_start && addr <= m_start + m_size && size <= m_start + m_size - addr;
    }
    std::vector<Call> of(Op op) const {
        std::vector<Call> out;
        std::copy_if(calls.begin(), calls.end(), std::back_inserter(out), [&](const Call& c) { return c.op == op; });
        return out;
    }

    Error reserve(uint64_t addr, uint64_t size, bool fixed, uint64_t* out) override {
        calls.push_back({Op::Reserve, addr, size, 0, 0, fixed});
        if (fail_op == Op::Reserve)
            return fail_error;
        if (m_start)
            problems.push_back("reserve called twice");
        int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (fixed ? MAP_FIXED_NOREPLACE : 0);
        void* p = mmap(reinterpret_cast<void*>(addr), size, PROT_NONE, flags, -1, 0);
        if (p == MAP_FAILED)
            return Error::TooBig;
        if (fixed && uint64_t(p) != addr) {  // kernels before 4.17 ignore MAP_FIXED_NOREPLACE
            munmap(p, size);
            return Error::TooBig;
        }
        m_start = uint64_t(p);
        m_size = size;
        *out = m_start;
        return Error::None;
    }

    Error map_file(uint64_t addr, uint64_t size, uint64_t offset, int prot) override {
        calls.push_back({Op::MapFile, addr, size, offset, prot, false});
        if (fail_op == Op::MapFile)
            return fail_error;
        if (!check_range("map_file", addr, size))
            return Error::Io;
        if (offset % kPage) {
            problems.push_back("map_file: offset not page-aligned");
            return Error::Io;
        }
        void* p = mmap(reinterpret_cast<void*>(addr), size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p == MAP_FAILED)
            return Error::Io;
        if (offset < m_file.size())
            memcpy(p, m_file.data() + offset, std::min<uint64_t>(size, m_file.size() - offset));
        return set_prot(addr, size, prot);
    }

    Error map_zero(uint64_t addr, uint64_t size, int prot) override {
        calls.push_back({Op::MapZero, addr, size, 0, prot, false});
        if (fail_op == Op::MapZero)
            return fail_error;
        if (!check_range("map_zero", addr, size))
            return Error::Io;
        void* p = mmap(reinterpret_cast<void*>(addr), size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (p == MAP_FAILED)
            return Error::Io;
        return set_prot(addr, size, prot);
    }

    Error protect(uint64_t addr, uint64_t size, int prot) override {
        calls.push_back({Op::Protect, addr, size, 0, prot, false});
        if (fail_op == Op::Protect)
            return fail_error;
        if (!check_range("protect", addr, size))
            return Error::Io;
        return set_prot(addr, size, prot);
    }

private:
    bool check_range(const char* what, uint64_t addr, uint64_t size) {
        if (!m_start || addr % kPage || size % kPage || size == 0 || addr < m_start ||
            addr + size > m_start + m_size) {
            problems.push_back(std::string(what) + ": range not page-aligned or outside the reservation");
            return false;
        }
        return true;
    }
    Error set_prot(uint64_t addr, uint64_t size, int prot) {
        if (mprotect(reinterpret_cast<void*>(addr), size, prot) != 0)
            return Error::Io;
        for (uint64_t a = addr; a < addr + size; a += kPage)
            page_prot[a] = prot;
        return Error::None;
    }

    std::vector<uint8_t> m_file;
    uint64_t m_start = 0;
    uint64_t m_size = 0;
};

const int kR = elf::kProtRead, kW = elf::kProtWrite, kX = elf::kProtExec;

// Checks that memory holds what Linux would map for each segment: the file bytes up to
// p_filesz, zeros from there to the end of p_memsz's last page (for a segment with .bss),
// and every page of the segment with the segment's protection.
void check_segments_in_memory(const elf::Info& info, const FakeMapper& mapper, uint64_t base,
                              const std::vector<uint8_t>& file) {
    for (unsigned i = 0; i < info.segment_count; i++) {
        const elf::Segment& s = info.segments[i];
        INFO("segment " << i << " at link address 0x" << std::hex << s.vaddr);
        // Read nothing outside the reservation: a wrong base would crash the test instead.
        const uint64_t page_start = elf::page_down(s.vaddr);
        REQUIRE(mapper.reserved(base + page_start, elf::page_up(s.vaddr + s.memsz) - page_start));
        const auto* mem = reinterpret_cast<const uint8_t*>(base + s.vaddr);
        CHECK(memcmp(mem, file.data() + s.offset, s.filesz) == 0);
        if (s.memsz > s.filesz) {
            uint64_t zero_end = elf::page_up(s.vaddr + s.memsz);
            uint64_t nonzero = 0;
            for (uint64_t a = s.vaddr + s.filesz; a < zero_end; a++)
                nonzero += reinterpret_cast<const uint8_t*>(base)[a] != 0;
            CHECK(nonzero == 0);
        }
        for (uint64_t page = elf::page_down(s.vaddr); page < s.vaddr + s.memsz; page += kPage) {
            INFO("page at link address 0x" << std::hex << page);
            auto it = mapper.page_prot.find(base + page);
            REQUIRE(it != mapper.page_prot.end());
            CHECK(it->second == s.prot);
        }
    }
}

}  // namespace

TEST_CASE("map_image maps an ET_DYN with a .bss tail", "[elf][map]") {
    std::vector<uint8_t> file = dyn_image().file();
    elf::Info info;
    REQUIRE(parse_file(file, &info) == Error::None);
    FakeMapper mapper(file);
    elf::Loaded loaded;
    REQUIRE(elf::map_image(info, mapper, 0, &loaded) == Error::None);
    CHECK(mapper.problem_list() == "");

    const uint64_t base = mapper.start();
    REQUIRE(base != 0);
    CHECK(base % kPage == 0);
    CHECK(loaded.base == base);
    CHECK(loaded.start == base);
    CHECK(loaded.end == base + 0x6000);
    CHECK(loaded.entry == base + 0x1040);
    CHECK(loaded.phdr == base + 64);

    auto reserves = mapper.of(FakeMapper::Op::Reserve);
    REQUIRE(reserves.size() == 1);
    CHECK(reserves[0].size == 0x6000);
    CHECK_FALSE(reserves[0].fixed);
    CHECK(reserves[0].addr == 0);
    CHECK(mapper.calls[0].op == FakeMapper::Op::Reserve);

    auto files = mapper.of(FakeMapper::Op::MapFile);
    REQUIRE(files.size() == 2);
    CHECK(files[0].addr == base);
    CHECK(files[0].size == 0x2000);  // page_up(0x1234)
    CHECK(files[0].offset == 0);
    CHECK(files[0].prot == (kR | kX));
    CHECK(files[1].addr == base + 0x2000);
    CHECK(files[1].size == 0x2000);  // [0x2000, page_up(0x2e10 + 0x300))
    CHECK(files[1].offset == 0x1000);
    CHECK((files[1].prot & (kR | kW)) == (kR | kW));

    auto zeros = mapper.of(FakeMapper::Op::MapZero);
    REQUIRE(zeros.size() == 1);
    CHECK(zeros[0].addr == base + 0x4000);
    CHECK(zeros[0].size == 0x2000);  // [0x4000, page_up(0x2e10 + 0x3000))
    CHECK(zeros[0].prot == (kR | kW));

    // The file page holds pattern bytes past p_filesz: they must read as .bss zeros.
    REQUIRE(file[0x1e10 + 0x300] != 0);
    check_segments_in_memory(info, mapper, base, file);
    // The text segment has no .bss: the rest of its last page keeps the file's bytes.
    CHECK(reinterpret_cast<const uint8_t*>(base)[0x1234] == pattern(0x1234));
}

TEST_CASE("map_image places an ET_DYN at the hint, without forcing it", "[elf][map]") {
    std::vector<uint8_t> file = dyn_image().file();
    elf::Info info;
    REQUIRE(parse_file(file, &info) == Error::None);
    FakeMapper mapper(file);
    elf::Loaded loaded;
    const uint64_t hint = 0x3a0000000000;
    REQUIRE(elf::map_image(info, mapper, hint, &loaded) == Error::None);
    auto reserves = mapper.of(FakeMapper::Op::Reserve);
    REQUIRE(reserves.size() == 1);
    CHECK(reserves[0].addr == hint);
    CHECK_FALSE(reserves[0].fixed);
    CHECK(loaded.base == mapper.start());
}

TEST_CASE("map_image maps an ET_EXEC at its link address", "[elf][map]") {
    // Linked high enough to be free in the test process (and outside a sanitizer's shadow).
    const uint64_t link = 0x20000000;
    Image im(ET_EXEC, 0x3100);
    im.eh.e_entry = link + 0x1020;
    im.load(PF_R, 0, link, 0x400, 0x400);
    im.load(PF_R | PF_X, 0x1000, link + 0x1000, 0x800, 0x800);
    im.load(PF_R | PF_W, 0x2e10, link + 0x2e10, 0x2f0, 0x1200);
    std::vector<uint8_t> file = im.file();
    elf::Info info;
    REQUIRE(parse_file(file, &info) == Error::None);
    FakeMapper mapper(file);
    elf::Loaded loaded;
    REQUIRE(elf::map_image(info, mapper, 0x3a0000000000, &loaded) == Error::None);
    CHECK(mapper.problem_list() == "");
    auto reserves = mapper.of(FakeMapper::Op::Reserve);
    REQUIRE(reserves.size() == 1);
    CHECK(reserves[0].addr == link);
    CHECK(reserves[0].size == 0x5000);
    CHECK(reserves[0].fixed);
    CHECK(loaded.base == 0);
    CHECK(loaded.start == link);
    CHECK(loaded.end == link + 0x5000);
    CHECK(loaded.entry == link + 0x1020);
    CHECK(loaded.phdr == link + 64);
    check_segments_in_memory(info, mapper, loaded.base, file);
}

TEST_CASE("map_image zeroes a read-only segment's .bss and then restores its protection", "[elf][map]") {
    Image im(ET_DYN, 0x2000);
    im.load(PF_R, 0, 0, 0x234, 0x3000);
    std::vector<uint8_t> file = im.file();
    elf::Info info;
    REQUIRE(parse_file(file, &info) == Error::None);
    FakeMapper mapper(file);
    elf::Loaded loaded;
    REQUIRE(elf::map_image(info, mapper, 0, &loaded) == Error::None);
    CHECK(mapper.problem_list() == "");
    auto files = mapper.of(FakeMapper::Op::MapFile);
    REQUIRE(files.size() == 1);
    CHECK(files[0].size == kPage);
    auto zeros = mapper.of(FakeMapper::Op::MapZero);
    REQUIRE(zeros.size() == 1);
    CHECK(zeros[0].addr == loaded.base + kPage);
    CHECK(zeros[0].size == 0x2000);
    CHECK(zeros[0].prot == kR);
    check_segments_in_memory(info, mapper, loaded.base, file);
}

TEST_CASE("map_image maps a segment without file bytes as zeros only", "[elf][map]") {
    Image im(ET_DYN, 0x2000);
    im.load(PF_R | PF_X, 0, 0, 0x800, 0x800);
    im.load(PF_R | PF_W, 0, 0x3000, 0, 0x1800);
    std::vector<uint8_t> file = im.file();
    elf::Info info;
    REQUIRE(parse_file(file, &info) == Error::None);
    FakeMapper mapper(file);
    elf::Loaded loaded;
    REQUIRE(elf::map_image(info, mapper, 0, &loaded) == Error::None);
    CHECK(mapper.problem_list() == "");
    CHECK(mapper.of(FakeMapper::Op::MapFile).size() == 1);
    auto zeros = mapper.of(FakeMapper::Op::MapZero);
    REQUIRE(zeros.size() == 1);
    CHECK(zeros[0].addr == loaded.base + 0x3000);
    CHECK(zeros[0].size == 0x2000);
    CHECK(zeros[0].prot == (kR | kW));
    check_segments_in_memory(info, mapper, loaded.base, file);
}

// Linux maps every page of a PT_LOAD with the segment's own p_flags. When the file part of
// a read-only segment with a .bss ends exactly on a page boundary there is nothing to zero
// in the file's last page, so PROT_WRITE must not be added to it either.
TEST_CASE("map_image leaves no PROT_WRITE on a read-only segment whose file part ends on a page boundary",
          "[elf][map]") {
    Image im(ET_DYN, 0x2000);
    im.load(PF_R, 0, 0, 0x1000, 0x2000);
    std::vector<uint8_t> file = im.file();
    elf::Info info;
    REQUIRE(parse_file(file, &info) == Error::None);
    FakeMapper mapper(file);
    elf::Loaded loaded;
    REQUIRE(elf::map_image(info, mapper, 0, &loaded) == Error::None);
    CHECK(mapper.problem_list() == "");
    check_segments_in_memory(info, mapper, loaded.base, file);
}

TEST_CASE("map_image maps the host's /bin/true like the kernel would", "[elf][map][host]") {
    uint64_t size = 0;
    std::vector<uint8_t> file = read_file("/bin/true", 1 << 24, &size);
    REQUIRE(file.size() == size);
    elf::Info info;
    REQUIRE(parse_file(file, &info) == Error::None);
    FakeMapper mapper(file);
    elf::Loaded loaded;
    REQUIRE(elf::map_image(info, mapper, 0, &loaded) == Error::None);
    CHECK(mapper.problem_list() == "");
    CHECK(loaded.end - loaded.start == info.span_end - info.span_start);
    check_segments_in_memory(info, mapper, loaded.base, file);
    // The program headers are where AT_PHDR will say.
    REQUIRE(mapper.reserved(loaded.phdr, info.phnum * kPhdrSize));
    CHECK(memcmp(reinterpret_cast<const void*>(loaded.phdr), file.data() + info.phoff, info.phnum * kPhdrSize) == 0);
}

TEST_CASE("map_image returns the mapper's errors", "[elf][map]") {
    std::vector<uint8_t> file;
    elf::Info info;
    SECTION("reserve") {
        file = dyn_image().file();
        REQUIRE(parse_file(file, &info) == Error::None);
        FakeMapper mapper(file);
        mapper.fail_op = FakeMapper::Op::Reserve;
        mapper.fail_error = Error::TooBig;
        elf::Loaded loaded;
        CHECK(elf::map_image(info, mapper, 0, &loaded) == Error::TooBig);
        CHECK(mapper.calls.size() == 1);
    }
    SECTION("map_file") {
        file = dyn_image().file();
        REQUIRE(parse_file(file, &info) == Error::None);
        FakeMapper mapper(file);
        mapper.fail_op = FakeMapper::Op::MapFile;
        elf::Loaded loaded;
        CHECK(elf::map_image(info, mapper, 0, &loaded) == Error::Io);
        CHECK(mapper.calls.size() == 2);  // stops at the first failure
    }
    SECTION("map_zero") {
        file = dyn_image().file();
        REQUIRE(parse_file(file, &info) == Error::None);
        FakeMapper mapper(file);
        mapper.fail_op = FakeMapper::Op::MapZero;
        mapper.fail_error = Error::TooBig;
        elf::Loaded loaded;
        CHECK(elf::map_image(info, mapper, 0, &loaded) == Error::TooBig);
    }
    SECTION("protect") {
        Image im(ET_DYN, 0x2000);
        im.load(PF_R, 0, 0, 0x234, 0x3000);
        file = im.file();
        REQUIRE(parse_file(file, &info) == Error::None);
        FakeMapper mapper(file);
        mapper.fail_op = FakeMapper::Op::Protect;
        elf::Loaded loaded;
        CHECK(elf::map_image(info, mapper, 0, &loaded) == Error::Io);
        REQUIRE_FALSE(mapper.calls.empty());
        CHECK(mapper.calls.back().op == FakeMapper::Op::Protect);
    }
}
