// Loading the application: its ELF image, its interpreter (ld.so), the initial stack with
// argv, envp and auxv, and the heap's reservation.
#pragma once

#include <libos/result.h>
#include <stdint.h>

namespace carbyne::libos {

struct ProgramArgs {
    const char* path;          // the program, a LibOS path
    const char* base;          // where a relative path starts (the working directory)
    const char* const* argv;   // NULL-terminated
    const char* const* envp;   // NULL-terminated
    uint64_t stack_size;
    uint64_t brk_max_size;
    const char* name = nullptr;  // the name it was started by (AT_EXECFN, comm); null: path
};

struct StartState {
    uint64_t entry;  // where the first instruction is (ld.so's entry for dynamic programs)
    uint64_t sp;     // the initial stack pointer (argc)
};

// A program opened and checked but not mapped yet: its "#!" levels resolved, its ELF
// headers and its interpreter's read. Everything execve(2) can fail on while the old image
// still runs fails here (ENOENT, EACCES, ENOEXEC, ELOOP, ELIBBAD...).
struct PreparedProgram;
// `args` and the strings it points to must outlive the PreparedProgram.
Result<PreparedProgram*> prepare_program(const ProgramArgs& args);
// Maps a prepared program into the current address space (fresh, or emptied by execve)
// and builds its stack; frees `p` whatever the outcome.
Result<StartState> start_program(PreparedProgram* p);
void discard_program(PreparedProgram* p);

// Opens `path` (relative to `base`) as execve's first check does: ENOENT, ENOTDIR, ELOOP,
// and EACCES for what is not a regular file with execute permission.
Result<void> check_executable(const char* base, const char* path);

// prepare_program, then start_program.
Result<StartState> load_program(const ProgramArgs& args);

// The LibOS vDSO image mapped for the application (vdso.cpp); 0 when there is none.
uint64_t vdso_map();

}  // namespace carbyne::libos
