// ELF parsing, mapping and self-contained relocation (see elf.h).
#include "elf.h"

#include <carbyne/string.h>

namespace carbyne::elf {
namespace {

constexpr uint32_t kRelocNone = 0;       // R_X86_64_NONE
constexpr uint32_t kReloc64 = 1;         // R_X86_64_64
constexpr uint32_t kRelocGlobDat = 6;    // R_X86_64_GLOB_DAT
constexpr uint32_t kRelocJumpSlot = 7;   // R_X86_64_JUMP_SLOT
constexpr uint32_t kRelocRelative = 8;   // R_X86_64_RELATIVE

bool add_overflows(uint64_t a, uint64_t b, uint64_t* sum) { return __builtin_add_overflow(a, b, sum); }

int prot_of(uint32_t flags) {
    return ((flags & PF_R) ? kProtRead : 0) | ((flags & PF_W) ? kProtWrite : 0) |
           ((flags & PF_X) ? kProtExec : 0);
}

}  // namespace

const char* error_name(Error e) {
    switch (e) {
    case Error::None: return "ok";
    case Error::NotElf: return "not an x86-64 ELF executable";
    case Error::Malformed: return "malformed ELF file";
    case Error::TooBig: return "ELF image too large";
    case Error::Io: return "I/O error while mapping";
    case Error::BadRelocation: return "unsupported relocation";
    }
    return "?";
}

Error parse(const void* head, size_t head_size, uint64_t file_size, Info* out) {
    memset(out, 0, sizeof(*out));
    if (head_size > file_size || head_size < sizeof(Elf64_Ehdr))
        return Error::NotElf;
    Elf64_Ehdr eh;
    memcpy(&eh, head, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_ident[EI_VERSION] != EV_CURRENT ||
        eh.e_machine != EM_X86_64 || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
        return Error::NotElf;
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 65536 / sizeof(Elf64_Phdr))
        return Error::NotElf;
    uint64_t ph_end;
    if (add_overflows(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), &ph_end) || ph_end > file_size)
        return Error::Malformed;
    if (ph_end > head_size)
        return Error::Malformed;

    out->type = eh.e_type;
    out->entry = eh.e_entry;
    out->phoff = eh.e_phoff;
    out->phnum = eh.e_phnum;
    out->exec_stack = true;

    const auto* bytes = static_cast<const uint8_t*>(head);
    uint64_t prev_end = 0;
    bool have_interp = false;
    uint64_t explicit_phdr = 0;
    bool have_phdr = false;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, bytes + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
        switch (ph.p_type) {
        case PT_LOAD: {
            if (ph.p_memsz == 0)
                continue;
            if (out->segment_count == kMaxSegments)
                return Error::Malformed;
            uint64_t file_end, mem_end;
            if (ph.p_filesz > ph.p_memsz || add_overflows(ph.p_offset, ph.p_filesz, &file_end) ||
                file_end > file_size || add_overflows(ph.p_vaddr, ph.p_memsz, &mem_end) || mem_end > kUserTop)
                return Error::Malformed;
            if ((ph.p_vaddr & (kPageSize - 1)) != (ph.p_offset & (kPageSize - 1)))
                return Error::Malformed;
            if (out->segment_count && ph.p_vaddr < prev_end)
                return Error::Malformed;  // unordered or overlapping segments
            prev_end = mem_end;
            out->segments[out->segment_count++] =
                Segment{ph.p_vaddr, ph.p_memsz, ph.p_filesz, ph.p_offset, prot_of(ph.p_flags)};
            break;
        }
        case PT_INTERP: {
            uint64_t end;
            if (have_interp || ph.p_filesz < 2 || ph.p_filesz > kMaxInterpSize ||
                add_overflows(ph.p_offset, ph.p_filesz, &end) || end > file_size)
                return Error::Malformed;
            have_interp = true;
            out->interp_offset = ph.p_offset;
            out->interp_size = ph.p_filesz;
            break;
        }
        case PT_DYNAMIC:
            out->dynamic_vaddr = ph.p_vaddr;
            break;
        case PT_PHDR:
            have_phdr = true;
            explicit_phdr = ph.p_vaddr;
            break;
        case PT_GNU_STACK:
            out->exec_stack = (ph.p_flags & PF_X) != 0;
            break;
        case PT_TLS:
            out->has_tls = true;
            break;
        default:
            break;
        }
    }
    if (out->segment_count == 0)
        return Error::Malformed;
    out->span_start = page_down(out->segments[0].vaddr);
    out->span_end = page_up(prev_end);
    if (out->span_end - out->span_start > kMaxImageSpan)
        return Error::TooBig;
    if (out->type == ET_EXEC && out->span_start < kPageSize)
        return Error::Malformed;  // page zero cannot be mapped

    if (have_phdr) {
        out->phdr_vaddr = explicit_phdr;
    } else {
        // No PT_PHDR: the headers are in memory if a PT_LOAD maps that part of the file.
        for (unsigned i = 0; i < out->segment_count; i++) {
            const Segment& s = out->segments[i];
            if (eh.e_phoff >= s.offset && ph_end <= s.offset + s.filesz) {
                out->phdr_vaddr = s.vaddr + (eh.e_phoff - s.offset);
                break;
            }
        }
    }
    return Error::None;
}

Error map_image(const Info& info, Mapper& mapper, uint64_t dyn_hint, Loaded* out) {
    uint64_t span = info.span_end - info.span_start;
    uint64_t start;
    bool fixed = info.type == ET_EXEC;
    Error err = mapper.reserve(fixed ? info.span_start : dyn_hint, span, fixed, &start);
    if (err != Error::None)
        return err;
    uint64_t base = start - info.span_start;

    for (unsigned i = 0; i < info.segment_count; i++) {
        const Segment& s = info.segments[i];
        uint64_t map_start = page_down(s.vaddr) + base;
        uint64_t file_map_end = page_up(s.vaddr + s.filesz) + base;
        uint64_t mem_end = page_up(s.vaddr + s.memsz) + base;
        if (s.filesz) {
            // The file's last page may hold bytes past p_filesz that belong to .bss: they are
            // zeroed, which needs the page writable for a moment.
            uint64_t bss_start = s.vaddr + s.filesz + base;
            bool bss_in_last_page = s.memsz > s.filesz && bss_start < file_map_end;
            err = mapper.map_file(map_start, file_map_end - map_start, page_down(s.offset),
                                  s.prot | (bss_in_last_page ? kProtWrite : 0));
            if (err != Error::None)
                return err;
            if (bss_in_last_page) {
                memset(reinterpret_cast<void*>(bss_start), 0, file_map_end - bss_start);
                if (!(s.prot & kProtWrite)) {
                    err = mapper.protect(map_start, file_map_end - map_start, s.prot);
                    if (err != Error::None)
                        return err;
                }
            }
        } else {
            file_map_end = map_start;
        }
        if (mem_end > file_map_end) {
            err = mapper.map_zero(file_map_end, mem_end - file_map_end, s.prot);
            if (err != Error::None)
                return err;
        }
    }
    out->base = base;
    out->entry = info.entry + base;
    out->phdr = info.phdr_vaddr ? info.phdr_vaddr + base : 0;
    out->start = start;
    out->end = start + span;
    return Error::None;
}

Error relocate_self_contained(uint64_t base, const Elf64_Dyn* dynamic, uint64_t span_start,
                              uint64_t span_end) {
    uint64_t rela = 0, rela_size = 0, rela_ent = sizeof(Elf64_Rela);
    uint64_t jmprel = 0, jmprel_size = 0, symtab = 0;
    for (const Elf64_Dyn* d = dynamic; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_RELA: rela = d->d_un.d_ptr; break;
        case DT_RELASZ: rela_size = d->d_un.d_val; break;
        case DT_RELAENT: rela_ent = d->d_un.d_val; break;
        case DT_JMPREL: jmprel = d->d_un.d_ptr; break;
        case DT_PLTRELSZ: jmprel_size = d->d_un.d_val; break;
        case DT_SYMTAB: symtab = d->d_un.d_ptr; break;
        case DT_NEEDED: return Error::BadRelocation;
        default: break;
        }
    }
    if (rela_ent != sizeof(Elf64_Rela))
        return Error::BadRelocation;
    const uint64_t tables[2][2] = {{rela, rela_size}, {jmprel, jmprel_size}};
    for (const auto& table : tables) {
        if (!table[1])
            continue;
        const auto* r = reinterpret_cast<const Elf64_Rela*>(base + table[0]);
        for (uint64_t i = 0; i < table[1] / sizeof(Elf64_Rela); i++, r++) {
            uint64_t where;
            if (add_overflows(base, r->r_offset, &where) || where < span_start || span_end < 8 ||
                where > span_end - 8)
                return Error::BadRelocation;
            uint32_t type = uint32_t(ELF64_R_TYPE(r->r_info));
            uint64_t value;
            if (type == kRelocNone)
                continue;
            if (type == kRelocRelative) {
                value = base + r->r_addend;
            } else if (type == kReloc64 || type == kRelocGlobDat || type == kRelocJumpSlot) {
                if (!symtab)
                    return Error::BadRelocation;
                const auto* sym = reinterpret_cast<const Elf64_Sym*>(base + symtab) + ELF64_R_SYM(r->r_info);
                if (sym->st_shndx == SHN_UNDEF)
                    return Error::BadRelocation;  // would need a symbol from another object
                uint64_t sym_base = sym->st_shndx == SHN_ABS ? 0 : base;  // absolute symbols do not move
                value = sym_base + sym->st_value + (type == kReloc64 ? r->r_addend : 0);
            } else {
                return Error::BadRelocation;
            }
            *reinterpret_cast<uint64_t*>(where) = value;
        }
    }
    return Error::None;
}

}  // namespace carbyne::elf
