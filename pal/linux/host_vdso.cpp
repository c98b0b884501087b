// The host's vDSO, used by the PAL (never by the application) for fast clock reads.
#include <carbyne/string.h>

#include "elf.h"
#include "pal_internal.h"

namespace carbyne::pal {

namespace {

// Finds a dynamic symbol by walking the vDSO's section headers (the kernel maps them).
uint64_t find_symbol(uint64_t base, const char* name) {
    const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
    const auto* ph = reinterpret_cast<const Elf64_Phdr*>(base + eh->e_phoff);
    uint64_t load_vaddr = ~uint64_t{0};
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < load_vaddr)
            load_vaddr = ph[i].p_vaddr;
    if (!eh->e_shoff || eh->e_shentsize != sizeof(Elf64_Shdr) || load_vaddr == ~uint64_t{0})
        return 0;
    const auto* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
            continue;
        const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + sh[i].sh_offset);
        const char* strs = reinterpret_cast<const char*>(base + sh[sh[i].sh_link].sh_offset);
        for (uint64_t j = 0; j < sh[i].sh_size / sizeof(Elf64_Sym); j++)
            if (syms[j].st_shndx != SHN_UNDEF && strcmp(strs + syms[j].st_name, name) == 0)
                return base + syms[j].st_value - load_vaddr;
    }
    return 0;
}

}  // namespace

void host_vdso_init(uint64_t base) {
    if (!base)
        return;
    const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
        return;
    const auto* ph = reinterpret_cast<const Elf64_Phdr*>(base + eh->e_phoff);
    uint64_t end = 0;
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr + ph[i].p_memsz > end)
            end = ph[i].p_vaddr + ph[i].p_memsz;
    g_pal.host_vdso_start = base;
    g_pal.host_vdso_end = base + elf::page_up(end);
    g_pal.vdso_clock_gettime =
        reinterpret_cast<long (*)(long, void*)>(find_symbol(base, "__vdso_clock_gettime"));
    g_pal.vdso_getcpu =
        reinterpret_cast<long (*)(unsigned*, unsigned*, void*)>(find_symbol(base, "__vdso_getcpu"));
}

}  // namespace carbyne::pal
