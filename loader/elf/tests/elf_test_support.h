// What the loader/elf tests share: an in-memory ELF file builder, sample images, and
// helpers to parse them and to read host files.
#pragma once

#include <catch2/catch.hpp>

#include "elf.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace elf_test {

namespace elf = carbyne::elf;
using elf::Error;

inline const char* error_id(Error e) {
    switch (e) {
    case Error::None: return "None";
    case Error::NotElf: return "NotElf";
    case Error::Malformed: return "Malformed";
    case Error::TooBig: return "TooBig";
    case Error::Io: return "Io";
    case Error::BadRelocation: return "BadRelocation";
    }
    return "(out of range)";
}


inline constexpr uint64_t kPage = elf::kPageSize;
inline constexpr uint64_t kPhdrSize = sizeof(Elf64_Phdr);
inline constexpr char kInterp[] = "/lib64/ld-linux-x86-64.so.2";  // 28 bytes with the NUL

// A byte of the synthetic file contents at `offset`: never zero, so that zeroed memory
// stands out from file data.
inline uint8_t pattern(uint64_t offset) { return uint8_t((offset * 131 + 7) | 1); }

// An ELF file built in memory: the header and program headers are written over the
// pattern-filled contents by file().
struct Image {
    Elf64_Ehdr eh{};
    std::vector<Elf64_Phdr> phdrs;
    std::optional<uint16_t> phnum;  // e_phnum; the number of phdrs when unset
    std::vector<uint8_t> contents;

    Image(uint16_t type, size_t file_size) {
        memcpy(eh.e_ident, ELFMAG, SELFMAG);
        eh.e_ident[EI_CLASS] = ELFCLASS64;
        eh.e_ident[EI_DATA] = ELFDATA2LSB;
        eh.e_ident[EI_VERSION] = EV_CURRENT;
        eh.e_type = type;
        eh.e_machine = EM_X86_64;
        eh.e_version = EV_CURRENT;
        eh.e_phoff = sizeof(Elf64_Ehdr);
        eh.e_ehsize = sizeof(Elf64_Ehdr);
        eh.e_phentsize = sizeof(Elf64_Phdr);
        contents.resize(file_size);
        for (size_t i = 0; i < file_size; i++)
            contents[i] = pattern(i);
    }

    Image& add(uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr, uint64_t filesz, uint64_t memsz) {
        Elf64_Phdr ph{};
        ph.p_type = type;
        ph.p_flags = flags;
        ph.p_offset = offset;
        ph.p_vaddr = vaddr;
        ph.p_paddr = vaddr;
        ph.p_filesz = filesz;
        ph.p_memsz = memsz;
        ph.p_align = type == PT_LOAD ? kPage : 8;
        phdrs.push_back(ph);
        return *this;
    }
    Image& load(uint32_t flags, uint64_t offset, uint64_t vaddr, uint64_t filesz, uint64_t memsz) {
        return add(PT_LOAD, flags, offset, vaddr, filesz, memsz);
    }
    Image& put(uint64_t offset, const void* data, size_t size) {
        memcpy(contents.data() + offset, data, size);
        return *this;
    }

    // The file bytes. Program headers that would not fit in the file are left out (the
    // tests that place them there expect parse() to stop before reading them).
    std::vector<uint8_t> file() const {
        std::vector<uint8_t> f = contents;
        Elf64_Ehdr h = eh;
        h.e_phnum = phnum ? *phnum : uint16_t(phdrs.size());
        memcpy(f.data(), &h, std::min(sizeof(h), f.size()));
        uint64_t table_size = phdrs.size() * kPhdrSize;
        if (eh.e_phoff <= f.size() && table_size <= f.size() - eh.e_phoff && !phdrs.empty())
            memcpy(f.data() + eh.e_phoff, phdrs.data(), table_size);
        return f;
    }
};

// Parses the first `head_size` bytes of `file` (copied into a buffer of exactly that size,
// so that a sanitizer sees any read past it); `file_size` defaults to the file's.
inline Error parse_file(const std::vector<uint8_t>& file, elf::Info* info, size_t head_size = 4096,
                        std::optional<uint64_t> file_size = std::nullopt) {
    size_t n = std::min(head_size, file.size());
    std::vector<uint8_t> head(file.begin(), file.begin() + long(n));
    return elf::parse(head.data(), n, file_size ? *file_size : file.size(), info);
}

inline Error parse_image(const Image& im, elf::Info* info = nullptr) {
    elf::Info scratch;
    return parse_file(im.file(), info ? info : &scratch);
}

// A non-PIE executable: headers and rodata, text, then data with a .bss tail, at 0x400000.
inline Image exec_image() {
    Image im(ET_EXEC, 0x3100);
    im.eh.e_entry = 0x401020;
    im.add(PT_PHDR, PF_R, 64, 0x400040, 7 * kPhdrSize, 7 * kPhdrSize);
    im.add(PT_INTERP, PF_R, 0x300, 0x400300, sizeof(kInterp), sizeof(kInterp));
    im.load(PF_R, 0, 0x400000, 0x400, 0x400);
    im.load(PF_R | PF_X, 0x1000, 0x401000, 0x800, 0x800);
    im.load(PF_R | PF_W, 0x2e10, 0x402e10, 0x2f0, 0x1200);
    im.add(PT_DYNAMIC, PF_R | PF_W, 0x2e20, 0x402e20, 0x100, 0x100);
    im.add(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
    im.put(0x300, kInterp, sizeof(kInterp));
    return im;
}

// A shared object / PIE without PT_PHDR or PT_INTERP: text, then data with a .bss tail
// that spans whole pages beyond the file, a TLS segment and an executable-stack marker.
inline Image dyn_image() {
    Image im(ET_DYN, 0x3000);
    im.eh.e_entry = 0x1040;
    im.load(PF_R | PF_X, 0, 0, 0x1234, 0x1234);
    im.load(PF_R | PF_W, 0x1e10, 0x2e10, 0x300, 0x3000);
    im.add(PT_DYNAMIC, PF_R | PF_W, 0x1e20, 0x2e20, 0x1a0, 0x1a0);
    im.add(PT_TLS, PF_R, 0x1e10, 0x2e10, 0x10, 0x20);
    im.add(PT_GNU_STACK, PF_R | PF_W | PF_X, 0, 0, 0, 0);
    return im;
}

// An ET_DYN image with one PT_LOAD (and nothing else) in a file of 0x3000 bytes.
inline Image one_load(uint64_t offset, uint64_t vaddr, uint64_t filesz, uint64_t memsz) {
    Image im(ET_DYN, 0x3000);
    im.load(PF_R, offset, vaddr, filesz, memsz);
    return im;
}

inline std::vector<uint8_t> read_file(const char* path, size_t max_size, uint64_t* file_size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return {};
    struct stat st;
    std::vector<uint8_t> data;
    if (fstat(fd, &st) == 0) {
        *file_size = uint64_t(st.st_size);
        data.resize(std::min<uint64_t>(max_size, *file_size));
        ssize_t n = pread(fd, data.data(), data.size(), 0);
        data.resize(n < 0 ? 0 : size_t(n));
    }
    close(fd);
    return data;
}

// What every accepted file must satisfy: the promises parse() makes to the loader.
inline std::string check_accepted(const elf::Info& info, uint64_t file_size) {
    if (info.type != ET_EXEC && info.type != ET_DYN)
        return "type " + std::to_string(info.type);
    if (info.segment_count == 0 || info.segment_count > elf::kMaxSegments)
        return "segment_count " + std::to_string(info.segment_count);
    for (unsigned i = 0; i < info.segment_count; i++) {
        const elf::Segment& s = info.segments[i];
        std::string where = "segment " + std::to_string(i) + ": ";
        if (s.filesz > s.memsz)
            return where + "filesz > memsz";
        if (s.offset > file_size || s.filesz > file_size - s.offset)
            return where + "file part outside the file";
        if (s.vaddr > elf::kUserTop || s.memsz > elf::kUserTop - s.vaddr)
            return where + "memory part above the user top";
        if ((s.vaddr % kPage) != (s.offset % kPage))
            return where + "vaddr and offset not congruent";
        if (i && s.vaddr < info.segments[i - 1].vaddr + info.segments[i - 1].memsz)
            return where + "overlaps or precedes the previous segment";
        if (s.vaddr < info.span_start || s.vaddr + s.memsz > info.span_end)
            return where + "outside the span";
    }
    if (info.span_start % kPage || info.span_end % kPage || info.span_end < info.span_start)
        return "span not page-aligned or reversed";
    if (info.span_end - info.span_start > elf::kMaxImageSpan)
        return "span above the maximum";
    if (info.type == ET_EXEC && info.span_start < kPage)
        return "ET_EXEC in page zero";
    if (info.interp_size) {
        if (info.interp_size < 2 || info.interp_size > elf::kMaxInterpSize)
            return "interp_size " + std::to_string(info.interp_size);
        if (info.interp_offset > file_size || info.interp_size > file_size - info.interp_offset)
            return "interpreter outside the file";
    }
    return "";
}


}  // namespace elf_test

namespace Catch {
template <>
struct StringMaker<carbyne::elf::Error> {
    static std::string convert(carbyne::elf::Error e) { return elf_test::error_id(e); }
};
}  // namespace Catch
