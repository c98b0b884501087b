// NUMA memory policies: set_mempolicy and get_mempolicy of the thread, mbind of a range and
// get_mempolicy(MPOL_F_ADDR) of it, MPOL_F_MEMS_ALLOWED, set_mempolicy_home_node,
// migrate_pages, move_pages' status, and the errors of each. Node 0 exists on every Linux
// machine; the checks use no other node as an allowed one.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../check.h"

enum { MPOL_DEFAULT, MPOL_PREFERRED, MPOL_BIND, MPOL_INTERLEAVE, MPOL_LOCAL };
#define MPOL_F_NODE 1
#define MPOL_F_ADDR 2
#define MPOL_F_MEMS_ALLOWED 4
#define MPOL_F_STATIC_NODES (1 << 15)
#define MPOL_F_RELATIVE_NODES (1 << 14)
#define MPOL_MF_STRICT 1

static long set_policy(int mode, const unsigned long *mask, unsigned long maxnode) {
  return syscall(SYS_set_mempolicy, mode, mask, maxnode);
}
static long get_policy(int *mode, unsigned long *mask, unsigned long maxnode, void *addr, unsigned long flags) {
  return syscall(SYS_get_mempolicy, mode, mask, maxnode, addr, flags);
}
static long mbind_(void *addr, unsigned long len, int mode, const unsigned long *mask, unsigned long maxnode,
                   unsigned flags) {
  return syscall(SYS_mbind, addr, len, mode, mask, maxnode, flags);
}

int main(void) {
  unsigned long node0 = 1, none = 0, node1 = 2, mask = 0;
  int mode = -1;
  check("get-default", get_policy(&mode, &mask, 64, NULL, 0) == 0 && mode == MPOL_DEFAULT && mask == 0,
        "mode %d mask %#lx errno %s", mode, mask, strerrorname_np(errno));
  check("get-mems-allowed", get_policy(&mode, &mask, 64, NULL, MPOL_F_MEMS_ALLOWED) == 0 && (mask & 1), "mask %#lx",
        mask);
  check("set-bind", set_policy(MPOL_BIND, &node0, 64) == 0, "errno %s", strerrorname_np(errno));
  check("get-bind", get_policy(&mode, &mask, 64, NULL, 0) == 0 && mode == MPOL_BIND && mask == 1,
        "mode %d mask %#lx", mode, mask);
  check("set-interleave", set_policy(MPOL_INTERLEAVE, &node0, 64) == 0, "errno %s", strerrorname_np(errno));
  check("get-next-interleave-node", get_policy(&mode, NULL, 0, NULL, MPOL_F_NODE) == 0 && mode == 0, "node %d", mode);
  check("set-preferred-empty-is-local", set_policy(MPOL_PREFERRED, &none, 64) == 0 &&
                                            get_policy(&mode, NULL, 0, NULL, 0) == 0 && mode == MPOL_LOCAL,
        "mode %d", mode);
  check("set-static", set_policy(MPOL_BIND | MPOL_F_STATIC_NODES, &node0, 64) == 0 &&
                          get_policy(&mode, &mask, 64, NULL, 0) == 0 &&
                          mode == (MPOL_BIND | MPOL_F_STATIC_NODES) && mask == 1,
        "mode %#x mask %#lx", mode, mask);
  check("set-default", set_policy(MPOL_DEFAULT, NULL, 0) == 0, "errno %s", strerrorname_np(errno));
  CHECK_FAILS_WITH("default-with-nodes", set_policy(MPOL_DEFAULT, &node0, 64), EINVAL);
  CHECK_FAILS_WITH("bind-empty", set_policy(MPOL_BIND, &none, 64), EINVAL);
  CHECK_FAILS_WITH("bind-missing-node", set_policy(MPOL_BIND, &node1, 64), EINVAL);
  CHECK_FAILS_WITH("local-with-nodes", set_policy(MPOL_LOCAL, &node0, 64), EINVAL);
  CHECK_FAILS_WITH("bad-mode", set_policy(99, &node0, 64), EINVAL);
  CHECK_FAILS_WITH("static-and-relative", set_policy(MPOL_BIND | MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES, &node0, 64),
                   EINVAL);
  CHECK_FAILS_WITH("mask-efault", set_policy(MPOL_BIND, (unsigned long *)8, 64), EFAULT);
  CHECK_FAILS_WITH("get-bad-flags", get_policy(&mode, NULL, 0, NULL, 64), EINVAL);
  CHECK_FAILS_WITH("get-addr-without-flag", get_policy(&mode, NULL, 0, &mode, 0), EINVAL);
  CHECK_FAILS_WITH("get-node-not-interleave", get_policy(&mode, NULL, 0, NULL, MPOL_F_NODE), EINVAL);
  CHECK_FAILS_WITH("get-mems-with-addr", get_policy(&mode, NULL, 0, NULL, MPOL_F_MEMS_ALLOWED | MPOL_F_ADDR), EINVAL);

  // mbind: the range's own policy, which get_mempolicy(MPOL_F_ADDR) reports.
  long page = sysconf(_SC_PAGESIZE);
  char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check("mbind", mbind_(p + page, page, MPOL_BIND, &node0, 64, MPOL_MF_STRICT) == 0, "errno %s",
        strerrorname_np(errno));
  check("addr-policy", get_policy(&mode, &mask, 64, p + page, MPOL_F_ADDR) == 0 && mode == MPOL_BIND && mask == 1,
        "mode %d mask %#lx", mode, mask);
  check("addr-policy-outside", get_policy(&mode, NULL, 0, p, MPOL_F_ADDR) == 0 && mode == MPOL_DEFAULT, "mode %d",
        mode);
  p[page] = 1;
  check("addr-node", get_policy(&mode, NULL, 0, p + page, MPOL_F_ADDR | MPOL_F_NODE) == 0 && mode == 0, "node %d",
        mode);
  check("home-node", syscall(SYS_set_mempolicy_home_node, p + page, page, 0, 0) == 0, "errno %s",
        strerrorname_np(errno));
  check("mbind-default", mbind_(p + page, page, MPOL_DEFAULT, NULL, 0, 0) == 0 &&
                             get_policy(&mode, NULL, 0, p + page, MPOL_F_ADDR) == 0 && mode == MPOL_DEFAULT,
        "mode %d", mode);
  check("mbind-zero-length", mbind_(p, 0, MPOL_BIND, &node0, 64, 0) == 0, "errno %s", strerrorname_np(errno));
  CHECK_FAILS_WITH("mbind-unaligned", mbind_(p + 1, page, MPOL_BIND, &node0, 64, 0), EINVAL);
  CHECK_FAILS_WITH("mbind-bad-flags", mbind_(p, page, MPOL_BIND, &node0, 64, 0x100), EINVAL);
  CHECK_FAILS_WITH("home-node-missing", syscall(SYS_set_mempolicy_home_node, p, page, 1, 0), EINVAL);
  CHECK_FAILS_WITH("home-node-flags", syscall(SYS_set_mempolicy_home_node, p, page, 0, 1), EINVAL);
  check("mbind-interleave", mbind_(p, page, MPOL_INTERLEAVE, &node0, 64, 0) == 0, "errno %s", strerrorname_np(errno));
  CHECK_FAILS_WITH("home-node-interleave", syscall(SYS_set_mempolicy_home_node, p, page, 0, 0), EOPNOTSUPP);
  munmap(p + 2 * page, page);
  CHECK_FAILS_WITH("mbind-hole", mbind_(p, 4 * page, MPOL_BIND, &node0, 64, 0), EFAULT);
  CHECK_FAILS_WITH("addr-unmapped", get_policy(&mode, NULL, 0, p + 2 * page, MPOL_F_ADDR), EFAULT);

  // move_pages: where each page is.
  void *pages[3] = {p + page, p, p + 2 * page};
  int status[3] = {9, 9, 9};
  check("move-pages-query", syscall(SYS_move_pages, 0, 3, pages, NULL, status, 0) == 0 && status[0] == 0 &&
                                status[1] == -ENOENT && status[2] == -EFAULT,
        "status %d %d %d", status[0], status[1], status[2]);
  int to[1] = {0};
  check("move-pages-node0", syscall(SYS_move_pages, 0, 1, pages, to, status, 0) == 0 && status[0] == 0, "status %d",
        status[0]);
  CHECK_FAILS_WITH("move-pages-flags", syscall(SYS_move_pages, 0, 1, pages, NULL, status, 0x10), EINVAL);
  check("migrate-pages", syscall(SYS_migrate_pages, 0, 64, &node0, &node0) == 0, "errno %s", strerrorname_np(errno));
  munmap(p, 4 * page);
  return check_exit_status();
}
