// libFuzzer target: ELF parsing and mapping (loader/elf), as the LibOS runs them on the
// application's program and its PT_INTERP, and the PAL on libos.so.
//
// An input is a file as the loaders see it: a little-endian u64 file size, then the first
// bytes of the file (at most 4096 are used, the loaders' header buffer). parse() must
// reject the input or return an Info that keeps its promises (check_info). Accepted images
// are then mapped by map_image() through a Mapper that maps real memory in one reservation
// and checks every request it gets: inside the reservation, page-aligned, file offsets
// inside the file. Pages wholly past the end of the file are left inaccessible, as a
// real file mapping there would fault. An ET_EXEC image is mapped wherever the
// reservation lands (the real mappers place it at its link-time address); map_image()
// computes with the bias either way. Relocation is not fuzzed: relocate_self_contained()
// runs only on the PAL itself and on libos.so, which come with the installation.
#include "elf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <algorithm>
#include <vector>

namespace elf = carbyne::elf;

namespace {

constexpr size_t kHeadSize = 4096;  // the PAL's and the LibOS's header buffer
constexpr uint64_t kPage = elf::kPageSize;

[[noreturn]] void fail(const char* what) {
    fprintf(stderr, "elf fuzz: %s\n", what);
    abort();
}

void check(bool ok, const char* what) {
    if (!ok)
        fail(what);
}

// What the loaders trust after parse() returned None.
void check_info(const elf::Info& info, uint64_t file_size) {
    check(info.type == ET_EXEC || info.type == ET_DYN, "accepted an image that is neither ET_EXEC nor ET_DYN");
    check(info.segment_count > 0 && info.segment_count <= elf::kMaxSegments, "segment count out of range");
    for (unsigned i = 0; i < info.segment_count; i++) {
        const elf::Segment& s = info.segments[i];
        check(s.filesz <= s.memsz, "filesz > memsz");
        check(s.offset <= file_size && s.filesz <= file_size - s.offset, "a segment's file part is outside the file");
        check(s.vaddr <= elf::kUserTop && s.memsz <= elf::kUserTop - s.vaddr, "a segment above the user top");
        check(s.vaddr % kPage == s.offset % kPage, "vaddr and offset not congruent");
        if (i)
            check(s.vaddr >= info.segments[i - 1].vaddr + info.segments[i - 1].memsz,
                  "segments overlap or are out of order");
        check(s.vaddr >= info.span_start && s.vaddr + s.memsz <= info.span_end, "a segment outside the span");
    }
    check(info.span_start % kPage == 0 && info.span_end % kPage == 0 && info.span_start < info.span_end,
          "span not page-aligned or empty");
    check(info.span_end - info.span_start <= elf::kMaxImageSpan, "span above the maximum");
    check(info.type != ET_EXEC || info.span_start >= kPage, "ET_EXEC in page zero");
    if (info.interp_size) {
        check(info.interp_size >= 2 && info.interp_size <= elf::kMaxInterpSize, "PT_INTERP size out of range");
        check(info.interp_offset <= file_size && info.interp_size <= file_size - info.interp_offset,
              "PT_INTERP outside the file");
    }
}

// Host protection for an ELF one: no executable memory here; on x86 execute implies read.
int host_prot(int prot) {
    int out = 0;
    if (prot & (elf::kProtRead | elf::kProtExec))
        out |= PROT_READ;
    if (prot & elf::kProtWrite)
        out |= PROT_READ | PROT_WRITE;
    return out;
}

class SandboxMapper final : public elf::Mapper {
public:
    SandboxMapper(const uint8_t* head, size_t head_size, uint64_t file_size)
        : m_head(head), m_head_size(head_size), m_file_size(file_size) {}
    ~SandboxMapper() {
        if (m_start)
            munmap(reinterpret_cast<void*>(m_start), m_end - m_start);
    }

    elf::Error reserve(uint64_t addr, uint64_t size, bool fixed, uint64_t* out) override {
        (void)addr;
        (void)fixed;
        check(m_start == 0, "reserve() called twice");
        check(size > 0 && size % kPage == 0 && size <= elf::kMaxImageSpan, "reserve() of a bad size");
        void* p = mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return elf::Error::TooBig;
        m_start = uint64_t(p);
        m_end = m_start + size;
        *out = m_start;
        return elf::Error::None;
    }

    elf::Error map_file(uint64_t addr, uint64_t size, uint64_t offset, int prot) override {
        check_range(addr, size, "map_file()");
        check(offset % kPage == 0 && offset < m_file_size, "map_file() at an offset outside the file");
        map_anonymous(addr, size, PROT_READ | PROT_WRITE);
        if (offset < m_head_size)
            memcpy(reinterpret_cast<void*>(addr), m_head + offset, std::min<uint64_t>(size, m_head_size - offset));
        // Pages wholly past the end of the file: a real file mapping faults there (SIGBUS).
        uint64_t file_left = m_file_size - offset;
        uint64_t file_pages = file_left >= size ? size : elf::page_up(file_left);
        if (size > file_pages)
            protect_range(addr + file_pages, size - file_pages, PROT_NONE);
        protect_range(addr, std::min(size, file_pages), host_prot(prot));
        return elf::Error::None;
    }

    elf::Error map_zero(uint64_t addr, uint64_t size, int prot) override {
        check_range(addr, size, "map_zero()");
        map_anonymous(addr, size, host_prot(prot));
        return elf::Error::None;
    }

    elf::Error protect(uint64_t addr, uint64_t size, int prot) override {
        check_range(addr, size, "protect()");
        protect_range(addr, size, host_prot(prot));
        return elf::Error::None;
    }

    uint64_t start() const { return m_start; }
    uint64_t end() const { return m_end; }

private:
    void check_range(uint64_t addr, uint64_t size, const char* what) {
        if (m_start == 0 || addr % kPage || size % kPage || size == 0 || addr < m_start || addr > m_end ||
            size > m_end - addr) {
            fprintf(stderr, "elf fuzz: %s of [%#lx, +%#lx) outside the reservation [%#lx, %#lx)\n", what,
                    (unsigned long)addr, (unsigned long)size, (unsigned long)m_start, (unsigned long)m_end);
            abort();
        }
    }

    static void map_anonymous(uint64_t addr, uint64_t size, int prot) {
        void* p = mmap(reinterpret_cast<void*>(addr), size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
                       -1, 0);
        check(p == reinterpret_cast<void*>(addr), "mmap in the reservation failed");
    }

    static void protect_range(uint64_t addr, uint64_t size, int prot) {
        if (size)
            check(mprotect(reinterpret_cast<void*>(addr), size, prot) == 0, "mprotect in the reservation failed");
    }

    const uint8_t* m_head;
    size_t m_head_size;
    uint64_t m_file_size;
    uint64_t m_start = 0;
    uint64_t m_end = 0;
};

// After map_image(): the image fills the reservation, and the .bss part of each segment's
// last file page reads as zero (unless the next segment is mapped over that page).
void check_loaded(const elf::Info& info, const elf::Loaded& loaded, const SandboxMapper& mapper) {
    check(loaded.start == mapper.start() && loaded.end == mapper.end(), "the image does not fill its reservation");
    check(loaded.base == loaded.start - info.span_start, "the load bias does not match the reservation");
    for (unsigned i = 0; i < info.segment_count; i++) {
        const elf::Segment& s = info.segments[i];
        if (s.memsz == s.filesz || host_prot(s.prot) == 0)
            continue;
        uint64_t zero_start = s.vaddr + s.filesz;
        uint64_t zero_end = std::min(s.vaddr + s.memsz, elf::page_up(zero_start));
        if (i + 1 < info.segment_count && elf::page_down(info.segments[i + 1].vaddr) < elf::page_up(zero_start))
            continue;
        const auto* bytes = reinterpret_cast<const uint8_t*>(loaded.base + zero_start);
        for (uint64_t k = 0; k < zero_end - zero_start; k++)
            check(bytes[k] == 0, "a .bss byte in the last file page is not zero");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 8)
        return 0;
    uint64_t file_size = 0;
    for (int i = 7; i >= 0; i--)
        file_size = (file_size << 8) | data[i];
    // An exact-size copy of the header buffer, so that ASan sees any read past it.
    std::vector<uint8_t> head(data + 8, data + 8 + std::min<size_t>(size - 8, kHeadSize));

    elf::Info info;
    elf::Error e = elf::parse(head.data(), head.size(), file_size, &info);
    check(elf::error_name(e) != nullptr, "error_name() without a name");
    if (e != elf::Error::None)
        return 0;
    check_info(info, file_size);

    SandboxMapper mapper(head.data(), head.size(), file_size);
    elf::Loaded loaded;
    e = elf::map_image(info, mapper, 0, &loaded);
    if (e == elf::Error::None)
        check_loaded(info, loaded, mapper);
    else
        check(e == elf::Error::TooBig, "map_image() failed with a mapper that only fails to reserve");
    return 0;
}
