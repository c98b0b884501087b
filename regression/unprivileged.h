// Running part of a regression program as an unprivileged user, in the same process (a
// program cannot fork under Carbyne yet), so that the permission checks root would pass by
// privilege run as a plain user too, whoever starts the program:
//
//   unprivileged_give("dir");           // as root: the user owns it (else: it is ours)
//   if (unprivileged_enter()) {
//     ...checks as the user...
//     unprivileged_leave();
//   }
//
// Started as root, unprivileged_enter() makes the real and effective (hence file-system)
// uid and gid UNPRIVILEGED_ID and drops the supplementary groups, keeping a saved uid of 0
// so that unprivileged_leave() can come back. Started as another user, the program is
// unprivileged already and both calls change nothing. Both print a FAIL line and count a
// failure when the ids cannot change. Under Carbyne the ids are the LibOS's: the host
// process keeps its own, and the LibOS must refuse what Linux refuses that user.
#ifndef CARBYNE_REGRESSION_UNPRIVILEGED_H
#define CARBYNE_REGRESSION_UNPRIVILEGED_H

#include <grp.h>
#include <unistd.h>

#include "check.h"

#define UNPRIVILEGED_ID 65534  // "nobody": owns nothing the tests look at

static int g_unprivileged_was_root;
static gid_t g_unprivileged_groups[64];
static int g_unprivileged_group_count;

// True when the program started as root and so switches ids for the unprivileged checks
// (also between unprivileged_enter and unprivileged_leave).
__attribute__((unused)) static int unprivileged_switches(void) { return g_unprivileged_was_root || geteuid() == 0; }

// As root, gives `path` (not following a symlink) to the unprivileged user and group, so
// that it acts as that user's own file; otherwise it is the running user's own already.
__attribute__((unused)) static int unprivileged_give(const char *path) {
  if (!unprivileged_switches())
    return 0;
  return lchown(path, UNPRIVILEGED_ID, UNPRIVILEGED_ID);
}

__attribute__((unused)) static int unprivileged_enter(void) {
  g_unprivileged_was_root = 0;
  if (!unprivileged_switches())
    return 1;
  g_unprivileged_group_count = getgroups(64, g_unprivileged_groups);
  if (g_unprivileged_group_count < 0 || setgroups(0, NULL) != 0 ||
      setresgid(UNPRIVILEGED_ID, UNPRIVILEGED_ID, UNPRIVILEGED_ID) != 0 ||
      setresuid(UNPRIVILEGED_ID, UNPRIVILEGED_ID, 0) != 0) {
    check("unprivileged-enter", 0, "%s", strerrorname_np(errno));
    return 0;
  }
  g_unprivileged_was_root = 1;
  return 1;
}

__attribute__((unused)) static void unprivileged_leave(void) {
  if (!g_unprivileged_was_root)
    return;
  g_unprivileged_was_root = 0;
  if (setresuid(0, 0, 0) != 0 || setresgid(0, 0, 0) != 0 ||
      setgroups((size_t)g_unprivileged_group_count, g_unprivileged_groups) != 0)
    check("unprivileged-leave", 0, "%s", strerrorname_np(errno));
}

#endif  // CARBYNE_REGRESSION_UNPRIVILEGED_H
