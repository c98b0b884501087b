// Unit tests of elf::relocate_self_contained on a synthetic image in a buffer.
#include <catch2/catch.hpp>

#include "elf_test_support.h"

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <functional>

using namespace elf_test;

namespace {

constexpr uint32_t kRelNone = 0, kRel64 = 1, kRelPc32 = 2, kRelGlobDat = 6, kRelJumpSlot = 7,
                   kRelRelative = 8, kRelTpoff64 = 18;

uint64_t r_info(uint64_t sym, uint32_t type) { return (sym << 32) | type; }

Elf64_Rela reloc(uint64_t offset, uint64_t info, int64_t addend) {
    Elf64_Rela r;
    r.r_offset = offset;
    r.r_info = info;
    r.r_addend = addend;
    return r;
}

Elf64_Dyn dyn_entry(int64_t tag, uint64_t value) {
    Elf64_Dyn d{};
    d.d_tag = tag;
    d.d_un.d_val = value;
    return d;
}

// A loaded image in a buffer: base is the buffer's address, link addresses are offsets.
//   0x000 dynamic section   0x100 .rela.dyn   0x300 .rela.plt   0x400 .dynsym
//   0x800 .. 0x1000 data (the relocation targets)
struct RelocImage {
    static constexpr uint64_t kSize = 0x1000;
    static constexpr uint64_t kRela = 0x100, kJmprel = 0x300, kSymtab = 0x400, kData = 0x800;
    enum : uint64_t { kSymDefined = 1, kSymUndefined = 2, kSymAbsolute = 3 };

    alignas(4096) uint8_t mem[kSize] = {};
    std::vector<Elf64_Rela> rela, jmprel;

    RelocImage() {
        auto* syms = reinterpret_cast<Elf64_Sym*>(mem + kSymtab);
        syms[kSymDefined].st_shndx = 12;
        syms[kSymDefined].st_value = 0x840;
        syms[kSymDefined].st_info = (STB_GLOBAL << 4) | STT_OBJECT;
        syms[kSymUndefined].st_shndx = SHN_UNDEF;
        syms[kSymUndefined].st_info = (STB_GLOBAL << 4) | STT_FUNC;
        syms[kSymAbsolute].st_shndx = SHN_ABS;
        syms[kSymAbsolute].st_value = 0x1234;
        syms[kSymAbsolute].st_info = (STB_GLOBAL << 4) | STT_NOTYPE;
        for (uint64_t off = kData; off < kSize; off += 8)
            slot(off) = 0x5a5a5a5a5a5a5a5a;
    }
    uint64_t base() const { return uint64_t(mem); }
    uint64_t& slot(uint64_t off) { return *reinterpret_cast<uint64_t*>(mem + off); }

    // Writes the tables and the dynamic section (with `extra` entries last, so that they
    // override the usual ones) into mem, and relocates with the span [span_start, span_end).
    Error relocate(std::vector<Elf64_Dyn> extra = {}, uint64_t span_start = 0, uint64_t span_end = kSize) {
        REQUIRE(rela.size() * sizeof(Elf64_Rela) <= kJmprel - kRela);
        REQUIRE(jmprel.size() * sizeof(Elf64_Rela) <= kSymtab - kJmprel);
        if (!rela.empty())
            memcpy(mem + kRela, rela.data(), rela.size() * sizeof(Elf64_Rela));
        if (!jmprel.empty())
            memcpy(mem + kJmprel, jmprel.data(), jmprel.size() * sizeof(Elf64_Rela));
        std::vector<Elf64_Dyn> dyn;
        auto add = [&](int64_t tag, uint64_t value) { dyn.push_back(dyn_entry(tag, value)); };
        add(DT_SYMTAB, kSymtab);
        add(DT_SYMENT, sizeof(Elf64_Sym));
        if (!rela.empty()) {
            add(DT_RELA, kRela);
            add(DT_RELASZ, rela.size() * sizeof(Elf64_Rela));
            add(DT_RELAENT, sizeof(Elf64_Rela));
        }
        if (!jmprel.empty()) {
            add(DT_JMPREL, kJmprel);
            add(DT_PLTRELSZ, jmprel.size() * sizeof(Elf64_Rela));
            add(DT_PLTREL, DT_RELA);
        }
        dyn.insert(dyn.end(), extra.begin(), extra.end());
        add(DT_NULL, 0);
        REQUIRE(dyn.size() * sizeof(Elf64_Dyn) <= kRela);
        memcpy(mem, dyn.data(), dyn.size() * sizeof(Elf64_Dyn));
        return elf::relocate_self_contained(base(), reinterpret_cast<const Elf64_Dyn*>(mem), base() + span_start,
                                            base() + span_end);
    }
};

// Runs `fn` in a child process, so that a wild write kills only the child; returns the
// child's exit status, or -signal when it was killed.
int in_child(const std::function<int()>& fn) {
    fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        // Die of the signal itself rather than through the test framework's report.
        for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
            signal(sig, SIG_DFL);
        _exit(fn());
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1000;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace

TEST_CASE("relocate_self_contained applies RELATIVE, 64, GLOB_DAT and JUMP_SLOT", "[elf][reloc]") {
    RelocImage im;
    const uint64_t base = im.base();
    im.rela.push_back(reloc(0x800, r_info(0, kRelRelative), 0x123));
    im.rela.push_back(reloc(0x808, r_info(RelocImage::kSymDefined, kRel64), 0x10));
    im.rela.push_back(reloc(0x810, r_info(RelocImage::kSymDefined, kRelGlobDat), 0));
    im.rela.push_back(reloc(0x818, r_info(RelocImage::kSymDefined, kRelNone), 0));
    im.rela.push_back(reloc(0x820, r_info(RelocImage::kSymDefined, kRel64), -8));
    im.jmprel.push_back(reloc(0x828, r_info(RelocImage::kSymDefined, kRelJumpSlot), 0));
    im.jmprel.push_back(reloc(0xff8, r_info(0, kRelRelative), 0x800));  // the last slot of the span
    REQUIRE(im.relocate() == Error::None);
    CHECK(im.slot(0x800) == base + 0x123);
    CHECK(im.slot(0x808) == base + 0x840 + 0x10);
    CHECK(im.slot(0x810) == base + 0x840);
    CHECK(im.slot(0x818) == 0x5a5a5a5a5a5a5a5a);  // R_X86_64_NONE writes nothing
    CHECK(im.slot(0x820) == base + 0x840 - 8);
    CHECK(im.slot(0x828) == base + 0x840);
    CHECK(im.slot(0xff8) == base + 0x800);
    CHECK(im.slot(0x830) == 0x5a5a5a5a5a5a5a5a);  // untouched
}

TEST_CASE("relocate_self_contained accepts an image without relocations", "[elf][reloc]") {
    RelocImage im;
    CHECK(im.relocate() == Error::None);
    CHECK(im.slot(0x800) == 0x5a5a5a5a5a5a5a5a);
}

TEST_CASE("relocate_self_contained rejects what a self-contained image cannot need", "[elf][reloc]") {
    RelocImage im;
    SECTION("a symbol defined elsewhere") {
        im.rela.push_back(reloc(0x800, r_info(RelocImage::kSymUndefined, kRelGlobDat), 0));
        CHECK(im.relocate() == Error::BadRelocation);
    }
    SECTION("a JUMP_SLOT to a function defined elsewhere") {
        im.jmprel.push_back(reloc(0x800, r_info(RelocImage::kSymUndefined, kRelJumpSlot), 0));
        CHECK(im.relocate() == Error::BadRelocation);
    }
    SECTION("R_X86_64_64 against an undefined symbol") {
        im.rela.push_back(reloc(0x800, r_info(RelocImage::kSymUndefined, kRel64), 0));
        CHECK(im.relocate() == Error::BadRelocation);
    }
    SECTION("an unknown type") {
        im.rela.push_back(reloc(0x800, r_info(RelocImage::kSymDefined, kRelPc32), 0));
        CHECK(im.relocate() == Error::BadRelocation);
    }
    SECTION("a TLS type") {
        im.rela.push_back(reloc(0x800, r_info(RelocImage::kSymDefined, kRelTpoff64), 0));
        CHECK(im.relocate() == Error::BadRelocation);
    }
    SECTION("DT_NEEDED") {
        im.rela.push_back(reloc(0x800, r_info(0, kRelRelative), 0));
        CHECK(im.relocate({dyn_entry(DT_NEEDED, 1)}) == Error::BadRelocation);
    }
    SECTION("a DT_RELAENT other than sizeof(Elf64_Rela)") {
        im.rela.push_back(reloc(0x800, r_info(0, kRelRelative), 0));
        CHECK(im.relocate({dyn_entry(DT_RELAENT, 16)}) == Error::BadRelocation);
    }
    SECTION("a write at the end of the span") {
        im.rela.push_back(reloc(0x1000, r_info(0, kRelRelative), 0));
        CHECK(im.relocate() == Error::BadRelocation);
    }
    SECTION("a write that straddles the end of the span") {
        im.rela.push_back(reloc(0xffc, r_info(0, kRelRelative), 0));
        CHECK(im.relocate() == Error::BadRelocation);
    }
    SECTION("a write below the span") {
        im.rela.push_back(reloc(0x7f8, r_info(0, kRelRelative), 0));
        CHECK(im.relocate({}, 0x800) == Error::BadRelocation);
        CHECK(im.slot(0x7f8) == 0);  // below the data: still zero
    }
    SECTION("a write below the image (negative offset)") {
        im.rela.push_back(reloc(uint64_t(-8), r_info(0, kRelRelative), 0));
        CHECK(im.relocate() == Error::BadRelocation);
    }
    SECTION("a write far above the image") {
        im.jmprel.push_back(reloc(uint64_t(1) << 40, r_info(RelocImage::kSymDefined, kRelJumpSlot), 0));
        CHECK(im.relocate() == Error::BadRelocation);
    }
}

// The span check computes `where + 8`, which wraps for a target in the last 8 bytes of the
// address space: such a relocation must still be refused, not written. Run in a child so
// that a wild write fails this test instead of ending the run.
TEST_CASE("relocate_self_contained refuses a target whose end wraps around the address space",
          "[elf][reloc]") {
    const int expected = 100 + int(Error::BadRelocation);
    int status = in_child([] {
        RelocImage im;
        // base + r_offset == 2^64 - 7, so where + 8 wraps to 1.
        im.rela.push_back(reloc(uint64_t(0) - 7 - im.base(), r_info(0, kRelRelative), 0));
        Error e = im.relocate();
        return 100 + int(e);
    });
    INFO("child status " << status << " (negative: killed by that signal; expected " << expected << ")");
    CHECK(status == expected);
}

// gABI: "SHN_ABS: the symbol has an absolute value that will not change because of
// relocation". glibc's ld.so resolves such a symbol to st_value, without the load bias.
// Refusing it would also be acceptable for a self-contained image; adding the bias is not.
TEST_CASE("relocate_self_contained does not move an absolute symbol", "[elf][reloc]") {
    RelocImage im;
    im.rela.push_back(reloc(0x800, r_info(RelocImage::kSymAbsolute, kRel64), 0));
    Error e = im.relocate();
    INFO("returned " << error_id(e) << ", slot holds 0x" << std::hex << im.slot(0x800) << ", base 0x" << im.base());
    CHECK((e == Error::BadRelocation || (e == Error::None && im.slot(0x800) == 0x1234)));
}

