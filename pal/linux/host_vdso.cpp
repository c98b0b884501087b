// The host's vDSO, used by the PAL (never by the application) for fast clock reads.
#include <asm/unistd.h>
#include <carbyne/string.h>

#include "elf.h"
#include "pal_internal.h"

namespace carbyne::pal {

namespace {

long (*g_vdso_clock_gettime)(long clock, void* ts);
long (*g_vdso_getcpu)(unsigned* cpu, unsigned* node, void* unused);

// Marks the thread as inside the host vDSO for the PAL while it lives. Nested uses (a
// host signal handler that reads a clock) keep the outer mark.
class InHostVdso {
public:
    InHostVdso() : m_tcb(current_tcb()), m_was(m_tcb->in_host_vdso) { set(1); }
    ~InHostVdso() { set(m_was); }
    InHostVdso(const InHostVdso&) = delete;
    InHostVdso& operator=(const InHostVdso&) = delete;

private:
    void set(uint8_t v) {
        // The SIGSYS handler reads the mark on this same thread: a signal fence orders it.
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        __atomic_store_n(&m_tcb->in_host_vdso, v, __ATOMIC_RELAXED);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
    Tcb* m_tcb;
    uint8_t m_was;
};

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
    g_vdso_clock_gettime = reinterpret_cast<long (*)(long, void*)>(find_symbol(base, "__vdso_clock_gettime"));
    g_vdso_getcpu = reinterpret_cast<long (*)(unsigned*, unsigned*, void*)>(find_symbol(base, "__vdso_getcpu"));
}

long host_clock_gettime(int clock, void* ts) {
    if (!g_vdso_clock_gettime)
        return host_syscall2(__NR_clock_gettime, clock, long(ts));
    InHostVdso mark;
    return g_vdso_clock_gettime(clock, ts);
}

long host_getcpu(unsigned* cpu, unsigned* node) {
    if (!g_vdso_getcpu)
        return host_syscall3(__NR_getcpu, long(cpu), long(node), 0);
    InHostVdso mark;
    return g_vdso_getcpu(cpu, node, nullptr);
}

bool host_vdso_fallback(const Tcb* tcb, uint64_t rip, uint64_t nr) {
    // The functions above are the only ones the PAL calls, and each falls back to its own
    // system call only.
    return tcb && __atomic_load_n(&tcb->in_host_vdso, __ATOMIC_RELAXED) && rip >= g_pal.host_vdso_start &&
           rip < g_pal.host_vdso_end && (nr == __NR_clock_gettime || nr == __NR_getcpu);
}

bool in_pal_code(const Tcb* tcb, uint64_t rip) {
    if (rip >= g_pal.pal_text_start && rip < g_pal.pal_text_end)
        return true;
    return tcb && __atomic_load_n(&tcb->in_host_vdso, __ATOMIC_RELAXED) && rip >= g_pal.host_vdso_start &&
           rip < g_pal.host_vdso_end;
}

}  // namespace carbyne::pal
