// The application's ELF image, interpreter, initial stack and heap (see program.h).
#include "program.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <linux/auxvec.h>
#include <linux/fcntl.h>
#include <linux/mman.h>

#include "../fs/dentry.h"
#include "../fs/pseudo.h"
#include "../fs/vfs.h"
#include "../mm/mm.h"
#include "../proc/process.h"
#include "elf.h"

namespace carbyne::libos {

namespace {

constexpr uint64_t kPage = 4096;
constexpr size_t kHeadSize = 4096;  // the first bytes of an ELF file, where its headers are
// Where a position-independent program goes (Linux's choice without ASLR), so that its
// addresses are the same on every run and in every process of one Carbyne instance.
constexpr uint64_t kPieBase = 0x555555554000;

Errno errno_from_elf(elf::Error e) {
    switch (e) {
    case elf::Error::NotElf: return Errno(ENOEXEC);
    case elf::Error::Malformed: return Errno(ENOEXEC);  // as Linux's ELF loader, mostly
    case elf::Error::TooBig: return Errno(ENOMEM);
    case elf::Error::Io: return Errno(EIO);
    default: return Errno(ENOEXEC);
    }
}

// Maps through the memory manager, so that every segment is in the VMA list.
class VmaMapper final : public elf::Mapper {
public:
    explicit VmaMapper(fs::File* file) : m_file(file) {}

    elf::Error reserve(uint64_t addr, uint64_t size, bool fixed, uint64_t* out) override {
        uint32_t flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (fixed ? MAP_FIXED_NOREPLACE : 0);
        auto r = mm::map(addr, size, PROT_NONE, flags, nullptr, 0);
        if (!r.ok())
            return elf::Error::TooBig;
        *out = r.value();
        return elf::Error::None;
    }
    elf::Error map_file(uint64_t addr, uint64_t size, uint64_t offset, int prot) override {
        return mm::map(addr, size, prot, MAP_PRIVATE | MAP_FIXED, m_file, offset).ok() ? elf::Error::None
                                                                                      : elf::Error::Io;
    }
    elf::Error map_zero(uint64_t addr, uint64_t size, int prot) override {
        return mm::map(addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, nullptr, 0).ok()
                   ? elf::Error::None
                   : elf::Error::TooBig;
    }
    elf::Error protect(uint64_t addr, uint64_t size, int prot) override {
        return mm::protect(addr, size, prot).ok() ? elf::Error::None : elf::Error::Io;
    }

private:
    fs::File* m_file;
};

struct Image {
    elf::Info info;
    elf::Loaded loaded;
    FileRef file;
    char interp[elf::kMaxInterpSize];  // empty when there is none
};

// Opens a program file for execution: a regular file with an execute bit (execve(2)'s
// EACCES otherwise); *size gets its size.
Result<FileRef> open_executable(const char* base, const char* path, uint64_t* size) {
    auto* r = static_cast<fs::Resolved*>(kmalloc(sizeof(fs::Resolved)));
    if (!r)
        return Errno(ENOMEM);
    HeapGuard guard{r};
    TRY(fs::vfs_resolve(base, path, true, r));
    if (!r->exists)
        return Errno(ENOENT);
    if ((r->stat.mode & S_IFMT) != S_IFREG)
        return Errno(EACCES);
    TRY(fs::check_permission(fs::FsIds::current(), fs::attrs_of(r->stat), fs::kMayExec));
    *size = r->stat.size;
    // Opened for execution, as Linux's open_exec: execute permission is what counts, not
    // read permission (a --x program runs), so not through vfs_open's checks.
    fs::File* f = TRY(r->mount->fs->open(*r, O_RDONLY, 0));
    f->set_mount(r->mount);
    f->set_dentry(fs::dentry_get(r->path));
    return FileRef(f);
}

// Opens an ELF program and reads its headers and interpreter's name; maps nothing.
Result<void> open_image(const char* base, const char* path, Image* out) {
    uint64_t size;
    out->file = TRY(open_executable(base, path, &size));
    fs::File* file = out->file.get();
    uint8_t* head = static_cast<uint8_t*>(kmalloc(kHeadSize));
    if (!head)
        return Errno(ENOMEM);
    HeapGuard guard{head};
    size_t n = TRY(file->pread(fs::IoBuf::kernel(head), kHeadSize, 0));
    elf::Error e = elf::parse(head, n, size, &out->info);
    if (e != elf::Error::None)
        return errno_from_elf(e);
    out->interp[0] = '\0';
    if (out->info.interp_size) {
        size_t got = TRY(file->pread(fs::IoBuf::kernel(out->interp), out->info.interp_size, out->info.interp_offset));
        if (got != out->info.interp_size || out->interp[got - 1] != '\0' || strlen(out->interp) + 1 != got)
            return Errno(ENOEXEC);
    }
    return {};
}

Result<void> map_image(Image* image, uint64_t hint) {
    VmaMapper mapper(image->file.get());
    elf::Error e = elf::map_image(image->info, mapper, hint, &image->loaded);
    if (e != elf::Error::None)
        return errno_from_elf(e);
    return {};
}

// Pushes bytes below *sp, returning their address.
uint64_t push_bytes(uint64_t* sp, const void* data, size_t size) {
    *sp -= size;
    memcpy(reinterpret_cast<void*>(*sp), data, size);
    return *sp;
}

uint64_t cpuid_edx_1() {
    uint32_t a = 1, b, c = 0, d;
    asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return d;
}

Result<uint64_t> build_stack(const ProgramArgs& args, const Image& app, const Image* interp, uint64_t vdso) {
    uint64_t stack = TRY(mm::map(0, args.stack_size, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, nullptr, 0));
    TRY(mm::record(stack, stack + args.stack_size, PROT_READ | PROT_WRITE, mm::kVmaStack | mm::kVmaAnonymous,
                   nullptr, 0));
    uint64_t top = stack + args.stack_size;
    uint64_t sp = top;

    size_t argc = 0, envc = 0;
    while (args.argv[argc])
        argc++;
    while (args.envp[envc])
        envc++;
    // Room check: strings and pointers must fit well inside the stack.
    size_t need = 256;
    for (size_t i = 0; i < argc; i++)
        need += strlen(args.argv[i]) + 1 + 8;
    for (size_t i = 0; i < envc; i++)
        need += strlen(args.envp[i]) + 1 + 8;
    if (need > args.stack_size / 4)
        return Errno(E2BIG);

    uint8_t random[16];
    TRY(pal_result(g_pal->random_bytes(random, sizeof(random))));
    uint64_t at_random = push_bytes(&sp, random, sizeof(random));
    uint64_t at_platform = push_bytes(&sp, "x86_64", 7);
    uint64_t at_execfn = push_bytes(&sp, args.path, strlen(args.path) + 1);
    auto* argv_ptrs = static_cast<uint64_t*>(kmalloc((argc + envc + 2) * 8));
    if (!argv_ptrs)
        return Errno(ENOMEM);
    HeapGuard guard{argv_ptrs};
    uint64_t* envp_ptrs = argv_ptrs + argc + 1;
    for (size_t i = envc; i-- > 0;)
        envp_ptrs[i] = push_bytes(&sp, args.envp[i], strlen(args.envp[i]) + 1);
    for (size_t i = argc; i-- > 0;)
        argv_ptrs[i] = push_bytes(&sp, args.argv[i], strlen(args.argv[i]) + 1);
    argv_ptrs[argc] = 0;
    envp_ptrs[envc] = 0;

    uint64_t auxv[][2] = {
        {AT_SYSINFO_EHDR, vdso},
        {AT_HWCAP, cpuid_edx_1()},
        {AT_PAGESZ, kPage},
        {AT_CLKTCK, 100},
        {AT_PHDR, app.loaded.phdr},
        {AT_PHENT, sizeof(Elf64_Phdr)},
        {AT_PHNUM, app.info.phnum},
        {AT_BASE, interp ? interp->loaded.base : 0},
        {AT_FLAGS, 0},
        {AT_ENTRY, app.loaded.entry},
        {AT_UID, g_process.uid},
        {AT_EUID, g_process.uid},
        {AT_GID, g_process.gid},
        {AT_EGID, g_process.gid},
        {AT_SECURE, 0},
        {AT_RANDOM, at_random},
        {AT_HWCAP2, 0},
        {AT_EXECFN, at_execfn},
        {AT_PLATFORM, at_platform},
        {AT_NULL, 0},
    };
    size_t auxv_skip = vdso ? 0 : 1;  // no AT_SYSINFO_EHDR without a vDSO
    size_t words = 1 + argc + 1 + envc + 1 + (sizeof(auxv) / 8 - auxv_skip * 2);
    sp = (sp - words * 8) & ~uint64_t{15};
    auto* out = reinterpret_cast<uint64_t*>(sp);
    *out++ = argc;
    memcpy(out, argv_ptrs, (argc + 1) * 8);
    out += argc + 1;
    memcpy(out, envp_ptrs, (envc + 1) * 8);
    out += envc + 1;
    memcpy(out, auxv[auxv_skip], sizeof(auxv) - auxv_skip * 16);
    return sp;
}

// A "#!" script: the interpreter and its one optional argument, as Linux's binfmt_script
// reads them from the first line (at most 256 bytes, BINPRM_BUF_SIZE).
struct Shebang {
    char interp[256];
    char arg[256];
};

Result<bool> read_shebang(const char* base, const char* path, Shebang* out) {
    uint64_t size;
    FileRef file = TRY(open_executable(base, path, &size));
    char line[256];
    size_t n = TRY(file->pread(fs::IoBuf::kernel(line), sizeof(line) - 1, 0));
    if (n < 2 || line[0] != '#' || line[1] != '!')
        return false;
    line[n] = '\0';
    char* end = line + 2;
    while (*end && *end != '\n')
        end++;
    if (!*end && n == sizeof(line) - 1)
        return Errno(ENOEXEC);  // the interpreter line does not fit
    *end = '\0';
    char* p = line + 2;
    while (*p == ' ' || *p == '\t')
        p++;
    char* interp = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (p == interp)
        return Errno(ENOEXEC);
    char* arg_start = p;
    if (*p)
        *p++ = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    arg_start = p;
    char* arg_end = p + strlen(p);
    while (arg_end > arg_start && (arg_end[-1] == ' ' || arg_end[-1] == '\t'))
        *--arg_end = '\0';
    strlcpy(out->interp, interp, sizeof(out->interp));
    strlcpy(out->arg, arg_start, sizeof(out->arg));
    return true;
}

}  // namespace

struct PreparedProgram {
    static constexpr int kMaxScriptDepth = 4;  // BINPRM_MAX_RECURSION
    ProgramArgs args;  // as asked
    ProgramArgs run;   // what runs: the last interpreter of the "#!" levels, its argv
    Shebang* shebang[kMaxScriptDepth] = {};
    const char** argv[kMaxScriptDepth] = {};
    Image app, interp;
    ~PreparedProgram() {
        for (int i = 0; i < kMaxScriptDepth; i++) {
            kfree(shebang[i]);
            kfree(argv[i]);
        }
    }
};

Result<void> check_executable(const char* base, const char* path) {
    uint64_t size;
    FileRef file = TRY(open_executable(base, path, &size));
    return {};
}

Result<PreparedProgram*> prepare_program(const ProgramArgs& args) {
    auto* p = make<PreparedProgram>();
    if (!p)
        return Errno(ENOMEM);
    auto fail = [p](Errno e) -> Result<PreparedProgram*> {
        destroy(p);
        return e;
    };
    p->args = args;
    if (!p->args.name)
        p->args.name = args.path;
    ProgramArgs& run = p->run;
    run = args;
    // Scripts first: each "#!" level puts its interpreter (and argument) in front of argv.
    for (int depth = 0;; depth++) {
        Shebang probe;
        auto script = read_shebang(args.base, run.path, &probe);
        if (!script.ok())
            return fail(script.error());
        if (!script.value())
            break;
        if (depth == PreparedProgram::kMaxScriptDepth)
            return fail(Errno(ELOOP));
        size_t argc = 0;
        while (run.argv[argc])
            argc++;
        auto* sb = static_cast<Shebang*>(kmalloc(sizeof(Shebang)));
        auto* argv = static_cast<const char**>(kmalloc((argc + 3) * sizeof(char*)));
        p->shebang[depth] = sb;
        p->argv[depth] = argv;
        if (!sb || !argv)
            return fail(Errno(ENOMEM));
        *sb = probe;
        // argv becomes: interpreter [argument] script argv[1..]
        size_t k = 0;
        argv[k++] = sb->interp;
        if (sb->arg[0])
            argv[k++] = sb->arg;
        argv[k++] = run.path;
        for (size_t i = 1; i < argc; i++)
            argv[k++] = run.argv[i];
        argv[k] = nullptr;
        run.argv = argv;
        run.path = sb->interp;
    }
    auto opened = open_image(args.base, run.path, &p->app);
    if (!opened.ok())
        return fail(opened.error());
    if (p->app.interp[0]) {
        opened = open_image(args.base, p->app.interp, &p->interp);
        if (!opened.ok()) {
            log_error("%s: cannot load its interpreter %s", run.path, p->app.interp);
            return fail(opened.error());
        }
        if (p->interp.interp[0])
            return fail(Errno(ELIBBAD));  // an interpreter with an interpreter
    }
    return p;
}

void discard_program(PreparedProgram* p) { destroy(p); }

Result<StartState> start_program(PreparedProgram* p) {
    struct Discard {
        PreparedProgram* p;
        ~Discard() { destroy(p); }
    } discard{p};
    const ProgramArgs& run = p->run;
    bool dynamic = p->app.interp[0] != '\0';
    TRY(map_image(&p->app, kPieBase));
    if (dynamic)
        TRY(map_image(&p->interp, 0));
    TRY(mm::heap_init(mm::page_up(p->app.loaded.end), run.brk_max_size));
    uint64_t vdso = vdso_map();
    // AT_EXECFN stays the name the program was started by (the script, for a script).
    ProgramArgs stack_args = run;
    stack_args.path = p->args.name;
    uint64_t sp = TRY(build_stack(stack_args, p->app, dynamic ? &p->interp : nullptr, vdso));
    // /proc/self/exe: the file run (the interpreter of a script), symlinks resolved.
    char* path = static_cast<char*>(kmalloc(fs::kPathMax));
    if (!path)
        return Errno(ENOMEM);
    HeapGuard guard{path};
    bool deleted;
    TRY(p->app.file->path(path, fs::kPathMax, &deleted));
    TRY(process_set_exe(path, p->args.name));
    // /proc/self/cmdline shows the argv the program really got (interpreter first).
    TRY(fs::procfs_set_args(run.argv, run.envp));
    return StartState{dynamic ? p->interp.loaded.entry : p->app.loaded.entry, sp};
}

Result<StartState> load_program(const ProgramArgs& args) {
    PreparedProgram* p = TRY(prepare_program(args));
    return start_program(p);
}

}  // namespace carbyne::libos
