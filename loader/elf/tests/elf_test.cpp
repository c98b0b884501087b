// Unit tests of elf::parse: synthetic files accepted and rejected, the host's own
// binaries, and randomly corrupted headers.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "elf_test_support.h"

#include <iterator>
#include <map>
#include <random>

using namespace elf_test;

// ---------------------------------------------------------------------------------------
// parse: accepted files

TEST_CASE("parse accepts an ET_EXEC and reports its layout", "[elf][parse]") {
    elf::Info info;
    REQUIRE(parse_image(exec_image(), &info) == Error::None);
    CHECK(info.type == ET_EXEC);
    CHECK(info.entry == 0x401020);
    CHECK(info.phoff == 64);
    CHECK(info.phnum == 7);
    CHECK(info.phdr_vaddr == 0x400040);
    REQUIRE(info.segment_count == 3);
    CHECK(info.segments[0].vaddr == 0x400000);
    CHECK(info.segments[0].offset == 0);
    CHECK(info.segments[0].filesz == 0x400);
    CHECK(info.segments[0].memsz == 0x400);
    CHECK(info.segments[0].prot == elf::kProtRead);
    CHECK(info.segments[1].vaddr == 0x401000);
    CHECK(info.segments[1].prot == (elf::kProtRead | elf::kProtExec));
    CHECK(info.segments[2].vaddr == 0x402e10);
    CHECK(info.segments[2].offset == 0x2e10);
    CHECK(info.segments[2].filesz == 0x2f0);
    CHECK(info.segments[2].memsz == 0x1200);
    CHECK(info.segments[2].prot == (elf::kProtRead | elf::kProtWrite));
    CHECK(info.span_start == 0x400000);
    CHECK(info.span_end == 0x405000);  // page_up(0x402e10 + 0x1200)
    CHECK(info.interp_offset == 0x300);
    CHECK(info.interp_size == sizeof(kInterp));
    CHECK(info.dynamic_vaddr == 0x402e20);
    CHECK_FALSE(info.exec_stack);
    CHECK_FALSE(info.has_tls);
}

TEST_CASE("parse accepts an ET_DYN and finds its headers through the PT_LOAD at offset 0", "[elf][parse]") {
    elf::Info info;
    REQUIRE(parse_image(dyn_image(), &info) == Error::None);
    CHECK(info.type == ET_DYN);
    CHECK(info.entry == 0x1040);
    CHECK(info.phnum == 5);
    CHECK(info.phdr_vaddr == 64);  // no PT_PHDR: the first PT_LOAD maps offset 64 at 64
    REQUIRE(info.segment_count == 2);
    CHECK(info.segments[0].prot == (elf::kProtRead | elf::kProtExec));
    CHECK(info.segments[1].vaddr == 0x2e10);
    CHECK(info.segments[1].memsz == 0x3000);
    CHECK(info.span_start == 0);
    CHECK(info.span_end == 0x6000);
    CHECK(info.interp_size == 0);
    CHECK(info.dynamic_vaddr == 0x2e20);
    CHECK(info.exec_stack);  // PT_GNU_STACK with PF_X
    CHECK(info.has_tls);
}

TEST_CASE("parse: details of accepted files", "[elf][parse]") {
    elf::Info info;
    SECTION("no PT_GNU_STACK means an executable stack") {
        Image im(ET_DYN, 0x2000);
        im.load(PF_R, 0, 0, 0x1000, 0x1000);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK(info.exec_stack);
    }
    SECTION("PT_GNU_STACK without PF_X means a non-executable stack") {
        Image im(ET_DYN, 0x2000);
        im.load(PF_R, 0, 0, 0x1000, 0x1000).add(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK_FALSE(info.exec_stack);
    }
    SECTION("program headers mapped by no PT_LOAD give phdr_vaddr 0") {
        Image im(ET_DYN, 0x3000);
        im.load(PF_R, 0x1000, 0x1000, 0x1000, 0x1000);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK(info.phdr_vaddr == 0);
    }
    SECTION("program headers in a PT_LOAD's .bss, not its file part, give phdr_vaddr 0") {
        Image im(ET_DYN, 0x2000);
        im.load(PF_R | PF_W, 0, 0, 0x40, 0x1000);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK(info.phdr_vaddr == 0);
    }
    SECTION("program headers inside a later PT_LOAD are found there") {
        Image im(ET_DYN, 0x3000);
        im.eh.e_phoff = 0x900;
        im.load(PF_R, 0, 0, 0x100, 0x100).load(PF_R, 0x800, 0x5800, 0x400, 0x400);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK(info.phdr_vaddr == 0x5900);
    }
    SECTION("PT_PHDR wins over the computed address") {
        Image im(ET_DYN, 0x2000);
        im.add(PT_PHDR, PF_R, 64, 0x777040, 2 * kPhdrSize, 2 * kPhdrSize).load(PF_R, 0, 0, 0x1000, 0x1000);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK(info.phdr_vaddr == 0x777040);
    }
    SECTION("segments may touch") {
        Image im(ET_DYN, 0x3000);
        im.load(PF_R, 0, 0x1000, 0x800, 0x800).load(PF_R | PF_W, 0x800, 0x1800, 0x800, 0x800);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK(info.segment_count == 2);
        CHECK(info.span_start == 0x1000);
        CHECK(info.span_end == 0x2000);
    }
    SECTION("a file part that ends exactly at the end of the file") {
        CHECK(parse_image(one_load(0x2000, 0x2000, 0x1000, 0x1000), &info) == Error::None);
    }
    SECTION("a segment just below the user top") {
        CHECK(parse_image(one_load(0, elf::kUserTop - 2 * kPage, 0x100, kPage), &info) == Error::None);
        CHECK(info.span_end == elf::kUserTop - kPage);
    }
    SECTION("exactly 16 PT_LOADs") {
        Image im(ET_DYN, 0x2000);
        for (uint64_t i = 0; i < elf::kMaxSegments; i++)
            im.load(PF_R, 0, i * kPage, 0x100, 0x100);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK(info.segment_count == elf::kMaxSegments);
        CHECK(info.segments[15].vaddr == 15 * kPage);
    }
    SECTION("a span of exactly 64 GiB") {
        Image im(ET_DYN, 0x2000);
        im.load(PF_R, 0, 0, 0x100, 0x100).load(PF_R, 0, elf::kMaxImageSpan - kPage, 0x100, kPage);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK(info.span_end - info.span_start == elf::kMaxImageSpan);
    }
    SECTION("an interpreter path of exactly 4096 bytes") {
        Image im(ET_DYN, 0x3000);
        im.add(PT_INTERP, PF_R, 0x1000, 0, elf::kMaxInterpSize, elf::kMaxInterpSize).load(PF_R, 0, 0, 0x100, 0x100);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK(info.interp_size == elf::kMaxInterpSize);
    }
    SECTION("ET_EXEC in the second page") {
        Image im(ET_EXEC, 0x2000);
        im.load(PF_R, 0, 0x1000, 0x100, 0x100);
        REQUIRE(parse_image(im, &info) == Error::None);
        CHECK(info.span_start == 0x1000);
    }
    SECTION("program headers past the first 4096 bytes, when the caller passes them") {
        Image im(ET_DYN, 0x3000);
        im.eh.e_phoff = 4000;
        im.load(PF_R, 0, 0, 0x100, 0x100).load(PF_R, 0, 0x1000, 0x100, 0x100).load(PF_R, 0, 0x2000, 0x100, 0x100);
        CHECK(parse_file(im.file(), &info, 0x3000) == Error::None);
    }
}

// ---------------------------------------------------------------------------------------
// parse: rejected files

TEST_CASE("parse rejects files that are not x86-64 executables as NotElf", "[elf][parse]") {
    Image im = dyn_image();
    REQUIRE(parse_image(im) == Error::None);
    SECTION("bad magic") {
        im.eh.e_ident[EI_MAG1] = 'F';
        CHECK(parse_image(im) == Error::NotElf);
    }
    SECTION("32-bit class") {
        im.eh.e_ident[EI_CLASS] = ELFCLASS32;
        CHECK(parse_image(im) == Error::NotElf);
    }
    SECTION("big-endian") {
        im.eh.e_ident[EI_DATA] = ELFDATA2MSB;
        CHECK(parse_image(im) == Error::NotElf);
    }
    SECTION("unknown ELF version") {
        im.eh.e_ident[EI_VERSION] = 2;
        CHECK(parse_image(im) == Error::NotElf);
    }
    SECTION("wrong machine") {
        im.eh.e_machine = EM_386;
        CHECK(parse_image(im) == Error::NotElf);
        im.eh.e_machine = EM_AARCH64;
        CHECK(parse_image(im) == Error::NotElf);
    }
    SECTION("ET_REL") {
        im.eh.e_type = ET_REL;
        CHECK(parse_image(im) == Error::NotElf);
    }
    SECTION("ET_CORE") {
        im.eh.e_type = ET_CORE;
        CHECK(parse_image(im) == Error::NotElf);
    }
    SECTION("ET_NONE") {
        im.eh.e_type = ET_NONE;
        CHECK(parse_image(im) == Error::NotElf);
    }
    SECTION("wrong e_phentsize") {
        im.eh.e_phentsize = 32;
        CHECK(parse_image(im) == Error::NotElf);
        im.eh.e_phentsize = 64;
        CHECK(parse_image(im) == Error::NotElf);
    }
    SECTION("no program headers") {
        im.phnum = 0;
        CHECK(parse_image(im) == Error::NotElf);
    }
    SECTION("a header shorter than the ELF header") {
        elf::Info info;
        CHECK(parse_file(im.file(), &info, 63) == Error::NotElf);
        CHECK(parse_file(im.file(), &info, 0) == Error::NotElf);
    }
    SECTION("a header longer than the file") {
        elf::Info info;
        CHECK(parse_file(im.file(), &info, 4096, 4000) == Error::NotElf);
    }
}

TEST_CASE("parse rejects program headers outside the file or the header buffer as Malformed", "[elf][parse]") {
    Image im = dyn_image();
    elf::Info info;
    SECTION("past the end of the file") {
        im.eh.e_phoff = im.contents.size() - kPhdrSize;  // 5 headers, 1 fits
        CHECK(parse_file(im.file(), &info, im.contents.size()) == Error::Malformed);
    }
    SECTION("inside the file but past head_size") {
        im.eh.e_phoff = 4096 - 2 * kPhdrSize;  // 5 headers, 2 within the first 4096 bytes
        CHECK(parse_file(im.file(), &info, 4096) == Error::Malformed);
        CHECK(parse_file(im.file(), &info, im.contents.size()) == Error::None);
    }
    SECTION("e_phoff + e_phnum * 56 overflows") {
        im.eh.e_phoff = UINT64_MAX - 100;
        CHECK(parse_image(im) == Error::Malformed);
        im.eh.e_phoff = UINT64_MAX - 5 * kPhdrSize + 1;
        CHECK(parse_image(im) == Error::Malformed);
    }
    SECTION("e_phoff far past the file") {
        im.eh.e_phoff = uint64_t(1) << 40;
        CHECK(parse_image(im) == Error::Malformed);
    }
}

TEST_CASE("parse rejects inconsistent PT_LOADs as Malformed", "[elf][parse]") {
    SECTION("p_filesz > p_memsz") {
        CHECK(parse_image(one_load(0, 0, 0x200, 0x100)) == Error::Malformed);
    }
    SECTION("file part past the end of the file") {
        CHECK(parse_image(one_load(0x2000, 0x2000, 0x1001, 0x1001)) == Error::Malformed);
        CHECK(parse_image(one_load(0x3000, 0x3000, 1, 1)) == Error::Malformed);
    }
    SECTION("p_offset + p_filesz overflows") {
        CHECK(parse_image(one_load(UINT64_MAX & ~(kPage - 1), 0, 0x2000, 0x2000)) == Error::Malformed);
    }
    SECTION("p_vaddr + p_memsz overflows") {
        CHECK(parse_image(one_load(0, UINT64_MAX & ~(kPage - 1), 0, 0x2000)) == Error::Malformed);
    }
    SECTION("memory part above 1 << 47") {
        CHECK(parse_image(one_load(0, elf::kUserTop - kPage, 0, kPage + 1)) == Error::Malformed);
        CHECK(parse_image(one_load(0, elf::kUserTop, 0, 1)) == Error::Malformed);
        CHECK(parse_image(one_load(0, uint64_t(1) << 63, 0, kPage)) == Error::Malformed);
    }
    SECTION("p_vaddr and p_offset not congruent modulo the page size") {
        CHECK(parse_image(one_load(0x1000, 0x1010, 0x100, 0x100)) == Error::Malformed);
        CHECK(parse_image(one_load(0x10, 0x2000, 0x100, 0x100)) == Error::Malformed);
    }
    SECTION("segments out of order") {
        Image im(ET_DYN, 0x3000);
        im.load(PF_R, 0, 0x2000, 0x100, 0x100).load(PF_R, 0, 0x1000, 0x100, 0x100);
        CHECK(parse_image(im) == Error::Malformed);
    }
    SECTION("overlapping segments") {
        Image im(ET_DYN, 0x3000);
        im.load(PF_R, 0, 0x1000, 0x800, 0x800).load(PF_R, 0x700, 0x1700, 0x100, 0x100);
        CHECK(parse_image(im) == Error::Malformed);
    }
    SECTION("a .bss that overlaps the next segment") {
        Image im(ET_DYN, 0x3000);
        im.load(PF_R | PF_W, 0, 0x1000, 0x100, 0x2000).load(PF_R, 0, 0x2000, 0x100, 0x100);
        CHECK(parse_image(im) == Error::Malformed);
    }
    SECTION("more than 16 PT_LOADs") {
        Image im(ET_DYN, 0x2000);
        for (uint64_t i = 0; i < elf::kMaxSegments + 1; i++)
            im.load(PF_R, 0, i * kPage, 0x100, 0x100);
        CHECK(parse_image(im) == Error::Malformed);
    }
    SECTION("no PT_LOAD") {
        Image im(ET_DYN, 0x2000);
        im.add(PT_DYNAMIC, PF_R, 0, 0, 0x10, 0x10).add(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
        CHECK(parse_image(im) == Error::Malformed);
    }
}

TEST_CASE("parse rejects a bad PT_INTERP as Malformed", "[elf][parse]") {
    auto with_interp = [](uint64_t offset, uint64_t size) {
        Image im(ET_DYN, 0x3000);
        im.add(PT_INTERP, PF_R, offset, offset, size, size).load(PF_R, 0, 0, 0x1000, 0x1000);
        im.put(0x300, kInterp, sizeof(kInterp));
        return im;
    };
    REQUIRE(parse_image(with_interp(0x300, sizeof(kInterp))) == Error::None);
    SECTION("two PT_INTERPs") {
        Image im = with_interp(0x300, sizeof(kInterp));
        im.add(PT_INTERP, PF_R, 0x300, 0x300, sizeof(kInterp), sizeof(kInterp));
        CHECK(parse_image(im) == Error::Malformed);
    }
    SECTION("size 0") { CHECK(parse_image(with_interp(0x300, 0)) == Error::Malformed); }
    SECTION("size 1") { CHECK(parse_image(with_interp(0x300, 1)) == Error::Malformed); }
    SECTION("more than 4096 bytes") {
        CHECK(parse_image(with_interp(0x300, elf::kMaxInterpSize + 1)) == Error::Malformed);
    }
    SECTION("past the end of the file") {
        CHECK(parse_image(with_interp(0x2ff0, 0x11)) == Error::Malformed);
        CHECK(parse_image(with_interp(0x3000, 2)) == Error::Malformed);
    }
    SECTION("p_offset + p_filesz overflows") {
        CHECK(parse_image(with_interp(UINT64_MAX - 4, 0x10)) == Error::Malformed);
    }
}

TEST_CASE("parse rejects a span above 64 GiB as TooBig", "[elf][parse]") {
    Image im(ET_DYN, 0x2000);
    im.load(PF_R, 0, 0, 0x100, 0x100).load(PF_R, 0, elf::kMaxImageSpan, 0x100, 0x100);
    CHECK(parse_image(im) == Error::TooBig);

    Image one(ET_DYN, 0x2000);
    one.load(PF_R | PF_W, 0, 0x10000, 0x100, elf::kMaxImageSpan + 1);
    CHECK(parse_image(one) == Error::TooBig);
}

TEST_CASE("parse rejects an ET_EXEC in page zero as Malformed", "[elf][parse]") {
    Image im(ET_EXEC, 0x2000);
    im.load(PF_R, 0, 0, 0x100, 0x100);
    CHECK(parse_image(im) == Error::Malformed);
    Image inside(ET_EXEC, 0x2000);
    inside.load(PF_R, 0x800, 0x800, 0x100, 0x100);
    CHECK(parse_image(inside) == Error::Malformed);
    // The same layout is fine for ET_DYN, which is moved anyway.
    Image dyn(ET_DYN, 0x2000);
    dyn.load(PF_R, 0, 0, 0x100, 0x100);
    CHECK(parse_image(dyn) == Error::None);
}

// ---------------------------------------------------------------------------------------
// parse: real files

TEST_CASE("parse accepts /bin/ls, a PIE with the glibc interpreter", "[elf][parse][host]") {
    uint64_t size = 0;
    std::vector<uint8_t> head = read_file("/bin/ls", 4096, &size);
    REQUIRE(head.size() == 4096);
    elf::Info info;
    REQUIRE(elf::parse(head.data(), head.size(), size, &info) == Error::None);
    CHECK(check_accepted(info, size) == "");
    CHECK(info.type == ET_DYN);
    CHECK(info.segment_count >= 2);
    CHECK(info.dynamic_vaddr != 0);
    CHECK(info.phdr_vaddr == info.phoff);  // PT_PHDR of a PIE: its file offset
    CHECK_FALSE(info.exec_stack);
    REQUIRE(info.interp_size == sizeof(kInterp));
    REQUIRE(info.interp_offset + info.interp_size <= head.size());
    CHECK(std::string(reinterpret_cast<const char*>(head.data() + info.interp_offset), info.interp_size - 1) ==
          kInterp);
    CHECK(head[info.interp_offset + info.interp_size - 1] == 0);
}

TEST_CASE("parse accepts the host's libc.so.6", "[elf][parse][host]") {
    uint64_t size = 0;
    std::vector<uint8_t> head = read_file("/usr/lib/x86_64-linux-gnu/libc.so.6", 4096, &size);
    REQUIRE(head.size() == 4096);
    elf::Info info;
    REQUIRE(elf::parse(head.data(), head.size(), size, &info) == Error::None);
    CHECK(check_accepted(info, size) == "");
    CHECK(info.type == ET_DYN);
    CHECK(info.span_start == 0);
    CHECK(info.has_tls);  // errno and friends
    CHECK(info.dynamic_vaddr != 0);
}

TEST_CASE("parse survives randomly corrupted and truncated headers", "[elf][parse][fuzz]") {
    uint64_t true_size = 0;
    std::vector<uint8_t> base = read_file("/bin/true", 4096, &true_size);
    REQUIRE(base.size() == 4096);
    elf::Info info;
    REQUIRE(elf::parse(base.data(), base.size(), true_size, &info) == Error::None);
    const size_t header_end = 64 + size_t(info.phnum) * kPhdrSize;

    std::mt19937_64 rng(0xC0FFEE);
    auto below = [&](uint64_t n) { return n ? rng() % n : 0; };
    const uint64_t specials[] = {
        0, 1, kPage - 1, kPage, 4096, true_size, elf::kUserTop, elf::kUserTop - kPage,
        elf::kMaxImageSpan, uint64_t(1) << 63, UINT64_MAX, UINT64_MAX - 55,
    };
    std::map<std::string, int> results;
    int violations = 0;
    std::string first_violation;
    for (int iter = 0; iter < 20000; iter++) {
        std::vector<uint8_t> buf = base;
        int mutations = 1 + int(below(8));
        for (int m = 0; m < mutations; m++) {
            size_t pos = below(2) ? below(header_end) : below(buf.size());
            switch (below(4)) {
            case 0: buf[pos] ^= uint8_t(1u << below(8)); break;
            case 1: buf[pos] = uint8_t(rng()); break;
            case 2: {  // a 64-bit field set to a boundary value
                pos = std::min<size_t>(pos & ~size_t(7), buf.size() - 8);
                uint64_t v = specials[below(std::size(specials))];
                memcpy(&buf[pos], &v, 8);
                break;
            }
            default: {  // a 16-bit field (e_phnum, e_phentsize, e_type...) set to a small value
                pos = std::min<size_t>(pos & ~size_t(1), buf.size() - 2);
                uint16_t v = uint16_t(below(3) ? below(40) : rng());
                memcpy(&buf[pos], &v, 2);
                break;
            }
            }
        }
        size_t head_size = below(10) < 7 ? buf.size() : below(buf.size() + 1);
        uint64_t file_size;
        switch (below(6)) {
        case 0: file_size = head_size + below(1 << 20); break;
        case 1: file_size = specials[below(std::size(specials))]; break;
        case 2: file_size = rng(); break;
        default: file_size = true_size; break;
        }
        // Exactly head_size bytes on the heap: a sanitizer build sees any read past them.
        std::vector<uint8_t> head(buf.begin(), buf.begin() + long(head_size));
        Error e = elf::parse(head.data(), head_size, file_size, &info);
        results[error_id(e)]++;
        std::string problem;
        if (e == Error::None)
            problem = check_accepted(info, file_size);
        else if (e != Error::NotElf && e != Error::Malformed && e != Error::TooBig)
            problem = std::string("unexpected error ") + error_id(e);
        if (!problem.empty() && violations++ == 0)
            first_violation = "iteration " + std::to_string(iter) + ": " + problem;
    }
    for (const auto& [name, count] : results)
        UNSCOPED_INFO(name << ": " << count);
    INFO("first violation: " << first_violation);
    CHECK(violations == 0);
    // The corruption must reach past the first checks, or this test proves little.
    CHECK(results["None"] > 1000);
    CHECK(results["Malformed"] > 1000);
    CHECK(results["NotElf"] > 1000);
}
