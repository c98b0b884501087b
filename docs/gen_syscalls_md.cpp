// Writes docs/syscalls.md, the compatibility table users read, from the LibOS's syscall
// table (libos/src/entry/syscall_table.h).
#include <cstdio>
#include <cstring>

#include "syscall_table.h"

namespace {

struct Row {
    int nr;
    const char* name;
    const char* level;
    const char* note;
};

#define CARBYNE_ROW(nr, name, level, args, note) {nr, #name, #level, note},
const Row kRows[] = {CARBYNE_SYSCALLS(CARBYNE_ROW)};
#undef CARBYNE_ROW

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT\n", argv[0]);
        return 2;
    }
    std::FILE* f = std::fopen(argv[1], "w");
    if (!f)
        return 1;
    int full = 0, partial = 0, enosys = 0;
    for (const Row& r : kRows) {
        full += std::strcmp(r.level, "Full") == 0;
        partial += std::strcmp(r.level, "Partial") == 0;
        enosys += std::strcmp(r.level, "Enosys") == 0;
    }
    std::fprintf(f,
                 "# System calls under Carbyne\n\n"
                 "Generated from `libos/src/entry/syscall_table.h` by the build; do not edit.\n\n"
                 "- **Full**: behaves as on Linux, errno values included.\n"
                 "- **Partial**: works for common uses; the note says what is missing.\n"
                 "- **Enosys**: deliberately answered `-ENOSYS`; the note says why.\n\n"
                 "Every system call not listed here is answered `-ENOSYS` and logged once "
                 "(at log level `warning`). None reaches the host kernel.\n\n"
                 "%d full, %d partial, %d answered ENOSYS on purpose.\n\n"
                 "| nr | name | support | notes |\n|---:|---|---|---|\n",
                 full, partial, enosys);
    for (const Row& r : kRows)
        std::fprintf(f, "| %d | `%s` | %s | %s |\n", r.nr, r.name, r.level, r.note);
    return std::fclose(f) == 0 ? 0 : 1;
}
