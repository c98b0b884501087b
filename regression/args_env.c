// argv, environment and the auxiliary vector as the program sees them at startup.
// Prints its arguments and one chosen variable, then named checks of getauxval().
#define _GNU_SOURCE  // strerrorname_np() in check.h
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "check.h"

// Provided by the linker: the ELF header of this executable, mapped with its first
// segment, and the entry point.
extern const Elf64_Ehdr __ehdr_start;
extern void _start(void);

// The variable whose value is printed; the test harness sets it.
static const char k_variable[] = "CARBYNE_TEST_VAR";

// getauxval() returns 0 both for a missing entry and for a zero value; errno tells.
static int has_auxval(unsigned long type) {
  errno = 0;
  (void)getauxval(type);
  return errno == 0;
}

static void check_strings(int argc, char **argv) {
  printf("argc %d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d] %s\n", i, argv[i]);
  const char *value = getenv(k_variable);
  if (value != NULL)
    printf("env %s=%s\n", k_variable, value);
  else
    printf("env %s unset\n", k_variable);
  check("argv_terminated", argv[argc] == NULL, "argv[argc] is not NULL");
}

static void check_auxv(char **argv) {
  check("at_pagesz", getauxval(AT_PAGESZ) == 4096, "AT_PAGESZ %lu, want 4096",
        getauxval(AT_PAGESZ));
  check("at_pagesz_sysconf", sysconf(_SC_PAGESIZE) == 4096,
        "sysconf(_SC_PAGESIZE) %ld, want 4096", sysconf(_SC_PAGESIZE));

  const unsigned char *random_bytes = (const unsigned char *)getauxval(AT_RANDOM);
  check("at_random", random_bytes != NULL, "AT_RANDOM is NULL");
  if (random_bytes != NULL) {
    // Sixteen bytes must be readable; all zero would mean nobody filled them.
    unsigned int any = 0;
    for (int i = 0; i < 16; i++) any |= random_bytes[i];
    check("at_random_filled", any != 0, "AT_RANDOM bytes are all zero");
  }

  const uintptr_t own_phdr = (uintptr_t)&__ehdr_start + __ehdr_start.e_phoff;
  check("at_phdr", getauxval(AT_PHDR) == own_phdr,
        "AT_PHDR is not __ehdr_start + e_phoff");
  check("at_phent", getauxval(AT_PHENT) == sizeof(Elf64_Phdr), "AT_PHENT %lu, want %zu",
        getauxval(AT_PHENT), sizeof(Elf64_Phdr));
  check("at_phnum", getauxval(AT_PHNUM) == __ehdr_start.e_phnum, "AT_PHNUM %lu, want %u",
        getauxval(AT_PHNUM), (unsigned)__ehdr_start.e_phnum);
  check("at_entry", getauxval(AT_ENTRY) == (uintptr_t)&_start,
        "AT_ENTRY is not the address of _start");

  const char *execfn = (const char *)getauxval(AT_EXECFN);
  int execfn_ok = 0;
  if (execfn != NULL) {
    char real_execfn[PATH_MAX];
    char real_argv0[PATH_MAX];
    execfn_ok = strcmp(execfn, argv[0]) == 0 ||
                (realpath(execfn, real_execfn) != NULL &&
                 realpath(argv[0], real_argv0) != NULL &&
                 strcmp(real_execfn, real_argv0) == 0);
  }
  check("at_execfn", execfn_ok, "AT_EXECFN is not the path of argv[0]");

  check("at_uid", getauxval(AT_UID) == getuid(), "AT_UID %lu, getuid() %lu",
        getauxval(AT_UID), (unsigned long)getuid());
  check("at_euid", getauxval(AT_EUID) == geteuid(), "AT_EUID %lu, geteuid() %lu",
        getauxval(AT_EUID), (unsigned long)geteuid());
  check("at_gid", getauxval(AT_GID) == getgid(), "AT_GID %lu, getgid() %lu",
        getauxval(AT_GID), (unsigned long)getgid());
  check("at_egid", getauxval(AT_EGID) == getegid(), "AT_EGID %lu, getegid() %lu",
        getauxval(AT_EGID), (unsigned long)getegid());
  check("at_secure", has_auxval(AT_SECURE) && getauxval(AT_SECURE) == 0,
        "AT_SECURE missing or %lu", getauxval(AT_SECURE));
  check("at_clktck", getauxval(AT_CLKTCK) == 100, "AT_CLKTCK %lu, want 100",
        getauxval(AT_CLKTCK));

  // A vDSO must be there (Carbyne's own, not the host's), and start with ELF magic.
  const unsigned char *vdso = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
  check("at_sysinfo_ehdr", vdso != NULL && memcmp(vdso, ELFMAG, SELFMAG) == 0,
        "AT_SYSINFO_EHDR missing or not an ELF image");
}

int main(int argc, char **argv) {
  check_strings(argc, argv);
  check_auxv(argv);
  return check_exit_status();
}
