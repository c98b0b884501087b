// Process groups and sessions of the calling process and its children: getpgrp, getpgid,
// setpgid, getsid, setsid. Children report through their exit codes only.
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

static int run_child(int (*fn)(void)) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0)
    _exit(fn());
  int status = -1;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

static pid_t g_parent_pgrp, g_parent_sid;

static int child_inherits(void) {
  return getpgrp() == g_parent_pgrp && getsid(0) == g_parent_sid ? 0 : 1;
}

static int child_new_group(void) {
  if (setpgid(0, 0) != 0 || getpgrp() != getpid() || getpgid(0) != getpid())
    return 1;
  // A group leader cannot start a session.
  errno = 0;
  if (setsid() != -1 || errno != EPERM)
    return 2;
  return 0;
}

static int child_new_session(void) {
  pid_t sid = setsid();
  if (sid != getpid() || getsid(0) != getpid() || getpgrp() != getpid())
    return 1;
  // A session leader keeps its group.
  errno = 0;
  if (setpgid(0, 0) != -1 || errno != EPERM)
    return 2;
  return 0;
}

int main(void) {
  g_parent_pgrp = getpgrp();
  g_parent_sid = getsid(0);
  check("getpgrp-is-getpgid-0", getpgid(0) == g_parent_pgrp && getpgid(getpid()) == g_parent_pgrp, "differ");
  check("getsid-0-is-own", getsid(getpid()) == g_parent_sid, "differ");
  check("child-inherits-group-session", run_child(child_inherits) == 0, "child differs");
  check("child-new-group", run_child(child_new_group) == 0, "failed at step %d", run_child(child_new_group));
  check("child-new-session", run_child(child_new_session) == 0, "failed at step %d", run_child(child_new_session));
  CHECK_FAILS_WITH("setpgid-negative-pgid-einval", setpgid(0, -1), EINVAL);
  CHECK_FAILS_WITH("setpgid-negative-pid-pgid-einval", setpgid(-1, 0), EINVAL);
  CHECK_FAILS_WITH("setpgid-unknown-pid-esrch", setpgid(4000000, 4000000), ESRCH);
  CHECK_FAILS_WITH("getpgid-negative-esrch", getpgid(-1), ESRCH);
  CHECK_FAILS_WITH("getsid-negative-esrch", getsid(-1), ESRCH);
  return check_exit_status();
}
