// capget/capset, personality and /proc/self/limits: libcap's version probe (EINVAL with the
// preferred version written back), the sets of this process (as root: CAP_CHOWN,
// CAP_DAC_OVERRIDE, CAP_SYS_ADMIN at least) agreeing with /proc/self/status, capset of the
// sets held, another pid (ESRCH); personality stored and reported; /proc/self/limits
// agreeing with getrlimit. Passes natively first.
#define _GNU_SOURCE
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../check.h"

static unsigned long long status_hex(const char *name) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  unsigned long long v = ~0ull;
  while (f && fgets(line, sizeof(line), f))
    if (!strncmp(line, name, strlen(name)))
      v = strtoull(line + strlen(name), NULL, 16);
  if (f)
    fclose(f);
  return v;
}

int main(void) {
  struct __user_cap_header_struct h = {0x12345678, 0};
  struct __user_cap_data_struct d[2];
  errno = 0;
  long r = syscall(SYS_capget, &h, d);
  check("capget-probe", r == -1 && errno == EINVAL && h.version == _LINUX_CAPABILITY_VERSION_3, "%ld %s %#x", r,
        strerrorname_np(errno), h.version);
  h.version = _LINUX_CAPABILITY_VERSION_3;
  h.pid = 0;
  check("capget-null-data", syscall(SYS_capget, &h, NULL) == 0, "%s", strerrorname_np(errno));
  r = syscall(SYS_capget, &h, d);
  unsigned long long eff = d[0].effective | (unsigned long long)d[1].effective << 32;
  check("capget", r == 0, "%s", strerrorname_np(errno));
  if (geteuid() == 0) {
    unsigned long long want = (1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) | (1ull << CAP_SYS_ADMIN);
    check("root-caps", (eff & want) == want, "%#llx", eff);
  } else {
    check("user-caps", eff == 0, "%#llx", eff);
  }
  check("status-capeff", status_hex("CapEff:") == eff, "status %#llx, capget %#llx", status_hex("CapEff:"), eff);
  check("capset-same", syscall(SYS_capset, &h, d) == 0, "%s", strerrorname_np(errno));
  h.pid = 0x3fffffff;
  CHECK_FAILS_WITH("capget-other-pid", syscall(SYS_capget, &h, d), ESRCH);

  int old = personality(0xffffffff);
  check("personality-query", old == PER_LINUX, "%#x", old);
  check("personality-set", personality(PER_LINUX | ADDR_NO_RANDOMIZE) == old &&
                               personality(0xffffffff) == (PER_LINUX | ADDR_NO_RANDOMIZE),
        "%#x", personality(0xffffffff));
  personality(old);

  FILE *f = fopen("/proc/self/limits", "r");
  char line[256];
  int rows = 0, files_ok = 0;
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  char want[128];
  snprintf(want, sizeof(want), "Max open files            %-20llu %-20llu files", (unsigned long long)nofile.rlim_cur,
           (unsigned long long)nofile.rlim_max);
  while (f && fgets(line, sizeof(line), f)) {
    rows++;
    files_ok |= !strncmp(line, want, strlen(want));
  }
  if (f)
    fclose(f);
  check("limits-rows", rows == 17, "%d lines", rows);
  check("limits-open-files", files_ok, "no line '%s'", want);
  return check_exit_status();
}
