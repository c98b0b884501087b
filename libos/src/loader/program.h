// Loading the application: its ELF image, its interpreter (ld.so), the initial stack with
// argv, envp and auxv, and the heap's reservation.
#pragma once

#include <libos/result.h>
#include <stdint.h>

namespace carbyne::libos {

struct ProgramArgs {
    const char* path;          // the program, a LibOS path
    const char* const* argv;   // NULL-terminated
    const char* const* envp;   // NULL-terminated
    uint64_t stack_size;
    uint64_t brk_max_size;
};

struct StartState {
    uint64_t entry;  // where the first instruction is (ld.so's entry for dynamic programs)
    uint64_t sp;     // the initial stack pointer (argc)
};

// Loads the program into the current (fresh) address space.
Result<StartState> load_program(const ProgramArgs& args);

// The LibOS vDSO image mapped for the application (vdso.cpp); 0 when there is none.
uint64_t vdso_map();

}  // namespace carbyne::libos
