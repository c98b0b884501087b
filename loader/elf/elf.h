// Freestanding ELF parsing, mapping and self-contained relocation, used by the PAL (to load
// libos.so and to relocate itself) and by the LibOS (to load the application and its ld.so).
// Everything here is pure: memory is mapped through the Mapper a caller provides, so the same
// code runs on raw host syscalls, on the LibOS's memory manager, and in host unit tests.
#pragma once

#include <linux/elf.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::elf {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr unsigned kMaxSegments = 16;
inline constexpr uint64_t kMaxInterpSize = 4096;       // PATH_MAX, NUL included
inline constexpr uint64_t kMaxImageSpan = 1ull << 36;  // 64 GiB of address space
inline constexpr uint64_t kUserTop = 1ull << 47;

inline uint64_t page_down(uint64_t v) { return v & ~(kPageSize - 1); }
inline uint64_t page_up(uint64_t v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }

// Why a file cannot be loaded. The caller turns these into ENOEXEC / EINVAL / ENOMEM / EIO.
enum class Error {
    None = 0,
    NotElf,        // ENOEXEC: not an x86-64 ELF executable or shared object
    Malformed,     // EINVAL: offsets, sizes or segments that do not add up
    TooBig,        // ENOMEM: more address space than allowed, or no room for it
    Io,            // EIO: the mapper could not read or map the file
    BadRelocation, // a relocation the self-contained relocator does not handle
};

const char* error_name(Error e);

// Protection bits as PROT_READ/WRITE/EXEC (1, 2, 4).
enum : int { kProtRead = 1, kProtWrite = 2, kProtExec = 4 };

struct Segment {
    uint64_t vaddr;
    uint64_t memsz;
    uint64_t filesz;
    uint64_t offset;
    int prot;
};

struct Info {
    uint16_t type;  // ET_EXEC or ET_DYN
    uint64_t entry;
    uint64_t phoff;
    uint16_t phnum;
    uint64_t phdr_vaddr;  // link-time address of the program headers in memory, 0 if not loaded
    Segment segments[kMaxSegments];
    unsigned segment_count;
    uint64_t span_start;  // page_down(first PT_LOAD vaddr)
    uint64_t span_end;    // page_up(end of the last PT_LOAD)
    uint64_t interp_offset;  // PT_INTERP in the file; interp_size == 0 when there is none
    uint64_t interp_size;
    uint64_t dynamic_vaddr;  // PT_DYNAMIC, 0 when there is none
    bool exec_stack;         // PT_GNU_STACK with PF_X, or no PT_GNU_STACK
    bool has_tls;
};

// Validates the ELF header and program headers in `head` (the first `head_size` bytes of a
// file of `file_size` bytes) and fills `out`. Everything the loader later trusts is checked
// here: offsets and sizes inside the file, no overflow, PT_LOADs ascending and disjoint,
// the total span bounded. The program headers must lie within `head`.
Error parse(const void* head, size_t head_size, uint64_t file_size, Info* out);

// Where and how to map; implemented by the PAL, the LibOS and the tests.
class Mapper {
public:
    // Reserves `size` bytes of inaccessible address space at `addr` (exactly, when `fixed`) or
    // anywhere (addr is a hint, 0 for none); returns the start in `*out`.
    virtual Error reserve(uint64_t addr, uint64_t size, bool fixed, uint64_t* out) = 0;
    // Maps file bytes [offset, offset+size) privately at `addr` (both page-aligned), replacing
    // the reservation there.
    virtual Error map_file(uint64_t addr, uint64_t size, uint64_t offset, int prot) = 0;
    // Maps zeroed anonymous memory at `addr`, replacing the reservation there.
    virtual Error map_zero(uint64_t addr, uint64_t size, int prot) = 0;
    virtual Error protect(uint64_t addr, uint64_t size, int prot) = 0;

protected:
    ~Mapper() = default;
};

struct Loaded {
    uint64_t base;   // load bias: runtime address minus link-time address
    uint64_t entry;  // runtime entry point
    uint64_t phdr;   // runtime address of the program headers (AT_PHDR), 0 if not mapped
    uint64_t start;  // runtime span of the image
    uint64_t end;
};

// Maps every PT_LOAD of a parsed file. ET_EXEC goes at its link-time addresses; ET_DYN at
// `dyn_hint` when nonzero (as a hint) or wherever the mapper reserves.
Error map_image(const Info& info, Mapper& mapper, uint64_t dyn_hint, Loaded* out);

// Applies the dynamic relocations of an image that needs nothing from outside itself (the
// PAL relocating itself, the PAL relocating libos.so): R_X86_64_RELATIVE, and 64, GLOB_DAT
// and JUMP_SLOT against symbols the image defines. Uses no relocated data, so it can run
// before the caller's own relocation. `writable_span` bounds every write.
Error relocate_self_contained(uint64_t base, const Elf64_Dyn* dynamic, uint64_t span_start,
                              uint64_t span_end);

}  // namespace carbyne::elf
