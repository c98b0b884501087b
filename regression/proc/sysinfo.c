// sysinfo(2) agrees with /proc/meminfo, /proc/uptime and sysconf: the total and free memory
// (mem_unit taken into account), the uptime, at least this process's threads; a bad
// pointer is EFAULT. Passes natively first.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "../check.h"

static long meminfo_kb(const char *name) {
  FILE *f = fopen("/proc/meminfo", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof(line), f))
    if (!strncmp(line, name, strlen(name)))
      kb = strtol(line + strlen(name), NULL, 10);
  if (f)
    fclose(f);
  return kb;
}

int main(void) {
  struct sysinfo si;
  check("sysinfo", sysinfo(&si) == 0, "%s", strerrorname_np(errno));
  unsigned long long unit = si.mem_unit ? si.mem_unit : 1;
  unsigned long long total = si.totalram * unit, free = si.freeram * unit;
  long total_kb = meminfo_kb("MemTotal:");
  check("total-matches-meminfo", total / 1024 == (unsigned long long)total_kb, "sysinfo %llu kB, meminfo %ld kB",
        total / 1024, total_kb);
  check("free-below-total", free <= total && free > 0, "free %llu of %llu", free, total);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  check("sysconf-phys-pages", pages > 0 && (unsigned long long)pages * page == total / page * page,
        "%ld pages of %ld", pages, page);
  check("sysconf-avphys-pages", sysconf(_SC_AVPHYS_PAGES) > 0, "%ld", sysconf(_SC_AVPHYS_PAGES));
  double up = 0;
  FILE *f = fopen("/proc/uptime", "r");
  check("uptime-file", f && fscanf(f, "%lf", &up) == 1, "cannot read /proc/uptime");
  if (f)
    fclose(f);
  check("uptime-matches", si.uptime > 0 && (double)si.uptime > up - 2 && (double)si.uptime < up + 2, "%ld vs %.2f",
        si.uptime, up);
  check("procs", si.procs >= 1, "%u", si.procs);
  check("no-high-memory", si.totalhigh == 0 && si.freehigh == 0, "%lu %lu", si.totalhigh, si.freehigh);
  CHECK_FAILS_WITH("bad-pointer", syscall(SYS_sysinfo, (void *)8), EFAULT);
  return check_exit_status();
}
