// Credentials and resource limits: getresuid/getresgid, the set*id rules (round trips while
// privileged, EPERM once privileges are dropped), setfsuid/setfsgid, setgroups/getgroups,
// and setrlimit/prlimit (lowering, raising back, EINVAL, EPERM, RLIMIT_NOFILE enforced by
// open). Most checks need root; run as another user it says so ("skip privileged: ...")
// and checks only what any user may do. Under Carbyne the ids are the LibOS's (the host
// process keeps its own root), so the LibOS itself must refuse what the dropped ids may not
// do to files: files of root's are opened, made, removed and changed with an effective uid
// of 1000 (the real one still 0, which access(2) uses).
#define _GNU_SOURCE  // prlimit(), setresuid(), strerrorname_np() in check.h
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../check.h"

#define NO_ID ((unsigned)-1)
#define BAD_PTR ((void *)1)

// The three ids as "r e s" (ids the test set itself, never the host's).
static int uids_are(uid_t r, uid_t e, uid_t s) {
  uid_t gr, ge, gs;
  return getresuid(&gr, &ge, &gs) == 0 && gr == r && ge == e && gs == s && getuid() == r &&
         geteuid() == e;
}

static int gids_are(gid_t r, gid_t e, gid_t s) {
  gid_t gr, ge, gs;
  return getresgid(&gr, &ge, &gs) == 0 && gr == r && ge == e && gs == s && getgid() == r &&
         getegid() == e;
}

static int fsuid_is(uid_t fs) { return setfsuid(NO_ID) == (int)fs; }
static int fsgid_is(gid_t fs) { return setfsgid(NO_ID) == (int)fs; }

static int nofile_is(rlim_t cur, rlim_t max) {
  struct rlimit rl;
  return getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == cur && rl.rlim_max == max;
}

static int set_nofile(rlim_t cur, rlim_t max) {
  struct rlimit rl = {cur, max};
  return setrlimit(RLIMIT_NOFILE, &rl);
}

// Checks that need no privilege and change nothing for good.
static void check_any_user(void) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  check("getresuid", getresuid(&r, &e, &s) == 0 && r == getuid() && e == geteuid(), "ids differ");
  check("getresgid", getresgid(&gr, &ge, &gs) == 0 && gr == getgid() && ge == getegid(),
        "ids differ");
  check("setfsuid_query", fsuid_is(geteuid()), "the fs uid is not the effective one");
  check("setfsgid_query", fsgid_is(getegid()), "the fs gid is not the effective one");
  CHECK_FAILS_WITH("getresuid_efault", syscall(SYS_getresuid, BAD_PTR, &e, &s), EFAULT);
  CHECK_FAILS_WITH("getresgid_efault", syscall(SYS_getresgid, &gr, &ge, BAD_PTR), EFAULT);
  CHECK_FAILS_WITH("setuid_minus_one", syscall(SYS_setuid, NO_ID), EINVAL);
  CHECK_FAILS_WITH("setgid_minus_one", syscall(SYS_setgid, NO_ID), EINVAL);
  check("setresuid_unchanged", setresuid(NO_ID, NO_ID, NO_ID) == 0 && uids_are(r, e, s), "changed");
  check("setreuid_unchanged", setreuid(NO_ID, NO_ID) == 0 && uids_are(r, e, s), "changed");
  check("setresgid_unchanged", setresgid(NO_ID, NO_ID, NO_ID) == 0 && gids_are(gr, ge, gs),
        "changed");
  check("setuid_own", setuid(e) == 0 && uids_are(r, e, s), "changed");

  int count = getgroups(0, NULL);
  check("getgroups_count", count >= 0, "returned %d", count);
  CHECK_FAILS_WITH("getgroups_negative", syscall(SYS_getgroups, -1, NULL), EINVAL);

  int all_ok = 1;
  for (int resource = 0; resource < RLIM_NLIMITS; resource++) {
    struct rlimit rl;
    if (getrlimit(resource, &rl) != 0 || rl.rlim_cur > rl.rlim_max || setrlimit(resource, &rl) != 0) {
      printf("  resource %d: %s\n", resource, strerrorname_np(errno));
      all_ok = 0;
    }
  }
  check("rlimits_get_and_set_unchanged", all_ok, "see above");
  struct rlimit rl;
  CHECK_FAILS_WITH("getrlimit_unknown", getrlimit(RLIM_NLIMITS, &rl), EINVAL);
  CHECK_FAILS_WITH("setrlimit_efault", syscall(SYS_setrlimit, RLIMIT_NOFILE, BAD_PTR), EFAULT);
  CHECK_FAILS_WITH("prlimit_other_pid", prlimit(INT_MAX, RLIMIT_NOFILE, NULL, &rl), ESRCH);
}

// RLIMIT_NOFILE below, at and above the current hard limit; leaves the limits as found.
static void check_nofile(void) {
  struct rlimit orig;
  if (getrlimit(RLIMIT_NOFILE, &orig) != 0 || orig.rlim_cur < 128) {
    printf("FAIL nofile: the soft limit is below 128 or unknown\n");
    g_check_failures++;
    return;
  }
  rlim_t max = orig.rlim_max;
  struct rlimit got;
  check("prlimit_self", prlimit(getpid(), RLIMIT_NOFILE, NULL, &got) == 0 &&
                            got.rlim_cur == orig.rlim_cur && got.rlim_max == max,
        "differs from getrlimit");

  int above = dup2(0, 100);
  check("nofile_lower_soft", set_nofile(64, max) == 0 && nofile_is(64, max), "not lowered");
  int last = -1, fd;
  while ((fd = dup(0)) >= 0) last = fd;
  int err = errno;
  check("nofile_open_until_emfile", err == EMFILE && last <= 63 && fcntl(63, F_GETFD) >= 0,
        "errno %s, fd 63 %s", strerrorname_np(err), fcntl(63, F_GETFD) >= 0 ? "open" : "closed");
  for (fd = 3; fd < 64; fd++) close(fd);
  CHECK_FAILS_WITH("nofile_dupfd_at_limit", fcntl(0, F_DUPFD, 64), EINVAL);
  CHECK_FAILS_WITH("nofile_dup2_at_limit", dup2(0, 64), EBADF);
  check("nofile_fd_above_limit_stays", above == 100 && fcntl(100, F_GETFD) >= 0 && close(100) == 0,
        "fd 100 is gone");

  check("nofile_raise_soft_to_hard", set_nofile(max, max) == 0 && nofile_is(max, max), "not raised");
  CHECK_FAILS_WITH("nofile_soft_above_hard", set_nofile(max, max - 1), EINVAL);
  CHECK_FAILS_WITH("nofile_hard_infinity", set_nofile(64, RLIM_INFINITY), EPERM);
  struct rlimit want = {100, max}, old;
  check("prlimit_swap", prlimit(0, RLIMIT_NOFILE, &want, &old) == 0 && old.rlim_cur == max &&
                            old.rlim_max == max && nofile_is(100, max),
        "old or new limit wrong");
  check("nofile_restore", setrlimit(RLIMIT_NOFILE, &orig) == 0, "%s", strerrorname_np(errno));
}

// 0 when `call` succeeded, else its errno.
#define OUTCOME(call) ((call) < 0 ? errno : 0)

static char g_files[64];  // root's directory for check_files_unprivileged, in the cwd

static const char *in_files(const char *name) {
  static char paths[4][128];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, sizeof(paths[0]), "%s/%s", g_files, name);
  return p;
}

// Root's files (made while privileged): a 0755 directory holding a 0600 and a 0644 file.
static int make_root_files(void) {
  snprintf(g_files, sizeof(g_files), "creds-files-XXXXXX");
  if (!mkdtemp(g_files) || chmod(g_files, 0755) != 0)
    return -1;
  const char *names[] = {"secret", "public"};
  const mode_t modes[] = {0600, 0644};
  for (int i = 0; i < 2; i++) {
    int fd = open(in_files(names[i]), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) != 0 || chmod(in_files(names[i]), modes[i]) != 0)
      return -1;
  }
  return 0;
}

static void remove_root_files(void) {
  unlink(in_files("secret"));
  unlink(in_files("public"));
  rmdir(g_files);
}

// With the effective uid 1000 (real and saved 0, gid 0): the file-system uid is 1000, so
// root's files are another user's, except for access(2), which asks with the real uid.
static void check_files_unprivileged(void) {
  check("files_open_0600_refused", OUTCOME(open(in_files("secret"), O_RDONLY)) == EACCES, "not EACCES");
  int fd = open(in_files("public"), O_RDONLY);
  check("files_open_0644_read", fd >= 0, "%s", strerrorname_np(errno));
  if (fd >= 0)
    close(fd);
  CHECK_FAILS_WITH("files_open_0644_write", open(in_files("public"), O_WRONLY), EACCES);
  CHECK_FAILS_WITH("files_truncate_0644", truncate(in_files("public"), 0), EACCES);
  CHECK_FAILS_WITH("files_create_in_0755_dir", open(in_files("new"), O_WRONLY | O_CREAT, 0644), EACCES);
  CHECK_FAILS_WITH("files_mkdir_in_0755_dir", mkdir(in_files("newdir"), 0755), EACCES);
  CHECK_FAILS_WITH("files_unlink_in_0755_dir", unlink(in_files("public")), EACCES);
  CHECK_FAILS_WITH("files_rename_in_0755_dir", rename(in_files("public"), in_files("moved")), EACCES);
  CHECK_FAILS_WITH("files_chmod_not_owner", chmod(in_files("public"), 0666), EPERM);
  CHECK_FAILS_WITH("files_chown_not_owner", chown(in_files("public"), 1000, 1000), EPERM);
  CHECK_FAILS_WITH("files_utimes_explicit_not_owner", utimensat(AT_FDCWD, in_files("public"),
                   (struct timespec[2]){{1, 0}, {2, 0}}, 0), EPERM);
  CHECK_FAILS_WITH("files_utimes_now_no_write", utimensat(AT_FDCWD, in_files("public"), NULL, 0), EACCES);
  check("files_access_real_uid_0", access(in_files("secret"), R_OK | W_OK) == 0, "%s", strerrorname_np(errno));
  CHECK_FAILS_WITH("files_access_effective", faccessat(AT_FDCWD, in_files("secret"), R_OK, AT_EACCESS), EACCES);
  check("files_untouched", access(in_files("public"), F_OK) == 0 && access(in_files("new"), F_OK) != 0 &&
                               access(in_files("moved"), F_OK) != 0,
        "a refused call changed something");
}

// Round trips while privileged (ids 0). Every step ends privileged again. A raised hard
// limit is not checked: root in a container may lack CAP_SYS_RESOURCE, so the hard limit
// is lowered only while unprivileged, where raising it fails everywhere.
static void check_privileged(void) {
  // Group ids: any change is allowed with an effective uid of 0.
  check("setresgid_privileged", setresgid(1000, 1001, 1002) == 0 && gids_are(1000, 1001, 1002) &&
                                    fsgid_is(1001),
        "ids not set");
  check("setregid_real_sets_saved", setregid(1002, NO_ID) == 0 && gids_are(1002, 1001, 1001),
        "ids not set");
  check("setgid_privileged_sets_all", setgid(5) == 0 && gids_are(5, 5, 5) && fsgid_is(5),
        "ids not set");
  check("setfsgid_privileged", setfsgid(77) == 5 && fsgid_is(77) && gids_are(5, 5, 5),
        "fs gid not set");
  check("setgid_back", setresgid(0, 0, 0) == 0 && gids_are(0, 0, 0) && fsgid_is(0), "not restored");

  // An effective uid of 1000 with the real and saved ones still 0: not privileged.
  int have_files = make_root_files() == 0;
  check("files_made", have_files, "%s", strerrorname_np(errno));
  check("seteuid_drop", seteuid(1000) == 0 && uids_are(0, 1000, 0) && fsuid_is(1000),
        "ids not set");
  if (have_files)
    check_files_unprivileged();
  CHECK_FAILS_WITH("setuid_other_unprivileged", setuid(2000), EPERM);
  CHECK_FAILS_WITH("seteuid_other_unprivileged", setresuid(NO_ID, 2000, NO_ID), EPERM);
  CHECK_FAILS_WITH("setreuid_real_saved_unprivileged", setreuid(2000, NO_ID), EPERM);
  CHECK_FAILS_WITH("setgid_other_unprivileged", setgid(7), EPERM);
  CHECK_FAILS_WITH("setregid_other_unprivileged", setregid(NO_ID, 7), EPERM);
  CHECK_FAILS_WITH("setgroups_unprivileged", setgroups(0, NULL), EPERM);
  check("setfsuid_other_unprivileged", setfsuid(2000) == 1000 && fsuid_is(1000), "fs uid changed");
  check("setfsgid_other_unprivileged", setfsgid(7) == 0 && fsgid_is(0), "fs gid changed");
  check("nofile_lower_hard_unprivileged", set_nofile(64, 128) == 0 && nofile_is(64, 128),
        "not lowered");
  CHECK_FAILS_WITH("nofile_raise_hard_unprivileged", set_nofile(64, 256), EPERM);
  check("nofile_soft_to_hard_unprivileged", set_nofile(128, 128) == 0 && nofile_is(128, 128),
        "not raised");
  check("setuid_to_real_unprivileged", setuid(0) == 0 && uids_are(0, 0, 0) && fsuid_is(0),
        "ids not set");
  remove_root_files();

  // setreuid: the saved uid follows an effective uid set apart from the real one.
  check("setreuid_effective_sets_saved", setreuid(NO_ID, 1000) == 0 && uids_are(0, 1000, 1000),
        "ids not set");
  check("setreuid_swap_unprivileged", setreuid(1000, 0) == 0 && uids_are(1000, 0, 0) &&
                                          fsuid_is(0),
        "ids not set");
  check("setresuid_back", setresuid(0, 0, 0) == 0 && uids_are(0, 0, 0), "not restored");
  check("setreuid_real_privileged", setreuid(1000, NO_ID) == 0 && uids_are(1000, 0, 0),
        "ids not set");
  check("setuid_privileged_sets_all", setuid(0) == 0 && uids_are(0, 0, 0), "not restored");

  // The fs uid: setresuid that changes nothing leaves it; one naming the effective uid resets it.
  check("setfsuid_privileged", setfsuid(1234) == 0 && fsuid_is(1234) && uids_are(0, 0, 0),
        "fs uid not set");
  check("setresuid_noop_keeps_fsuid", setresuid(NO_ID, NO_ID, NO_ID) == 0 && fsuid_is(1234),
        "fs uid changed");
  check("setresuid_resets_fsuid", setresuid(NO_ID, 0, NO_ID) == 0 && fsuid_is(0), "fs uid kept");
  setfsuid(1234);
  check("setfsuid_back", setfsuid(0) == 1234 && fsuid_is(0), "not restored");

  // Supplementary groups: kept sorted, sizes checked, bad lists refused.
  static gid_t list[65537];
  gid_t unsorted[] = {5, 3, 4, 3};
  check("setgroups", setgroups(4, unsorted) == 0, "%s", strerrorname_np(errno));
  int n = getgroups(0, NULL);
  check("getgroups_count_after_set", n == 4, "%d groups", n);
  n = getgroups(4, list);
  check("getgroups_sorted", n == 4 && list[0] == 3 && list[1] == 3 && list[2] == 4 && list[3] == 5,
        "%d groups", n);
  CHECK_FAILS_WITH("getgroups_too_small", getgroups(3, list), EINVAL);
  check("getgroups_larger_buffer", getgroups(100, list) == 4, "wrong count");
  CHECK_FAILS_WITH("getgroups_efault", syscall(SYS_getgroups, 4, BAD_PTR), EFAULT);
  CHECK_FAILS_WITH("setgroups_too_many", setgroups(65537, list), EINVAL);
  CHECK_FAILS_WITH("setgroups_negative", syscall(SYS_setgroups, -1, list), EINVAL);
  CHECK_FAILS_WITH("setgroups_efault", syscall(SYS_setgroups, 2, BAD_PTR), EFAULT);
  gid_t invalid[] = {1, NO_ID};
  CHECK_FAILS_WITH("setgroups_invalid_gid", setgroups(2, invalid), EINVAL);
  check("setgroups_unchanged_after_errors", getgroups(0, NULL) == 4, "changed");
  for (int i = 0; i < 65536; i++) list[i] = 65536 - i;
  check("setgroups_max", setgroups(65536, list) == 0, "%s", strerrorname_np(errno));
  int sorted = getgroups(65536, list) == 65536;
  for (int i = 0; sorted && i < 65536; i++) sorted = list[i] == (gid_t)i + 1;
  check("getgroups_max_sorted", sorted, "not all groups, or not sorted");
  check("setgroups_empty", setgroups(0, NULL) == 0 && getgroups(0, NULL) == 0, "not emptied");

}

// For good: ids 1000, group 1000, then what is refused and what is still allowed.
static void check_dropped(void) {
  gid_t group = 1000;
  check("drop_setgroups", setgroups(1, &group) == 0, "%s", strerrorname_np(errno));
  check("drop_setgid", setgid(1000) == 0 && gids_are(1000, 1000, 1000), "ids not set");
  check("drop_setuid", setuid(1000) == 0 && uids_are(1000, 1000, 1000) && fsuid_is(1000),
        "ids not set");
  CHECK_FAILS_WITH("dropped_setuid_root", setuid(0), EPERM);
  CHECK_FAILS_WITH("dropped_seteuid_root", seteuid(0), EPERM);
  CHECK_FAILS_WITH("dropped_setreuid_root", setreuid(0, NO_ID), EPERM);
  CHECK_FAILS_WITH("dropped_setresuid_saved_root", setresuid(NO_ID, NO_ID, 0), EPERM);
  CHECK_FAILS_WITH("dropped_setgid_root", setgid(0), EPERM);
  CHECK_FAILS_WITH("dropped_setregid_root", setregid(NO_ID, 0), EPERM);
  CHECK_FAILS_WITH("dropped_setresgid_root", setresgid(0, NO_ID, NO_ID), EPERM);
  CHECK_FAILS_WITH("dropped_setgroups", setgroups(0, NULL), EPERM);
  check("dropped_setfsuid_root", setfsuid(0) == 1000 && fsuid_is(1000), "fs uid changed");
  check("dropped_setfsgid_root", setfsgid(0) == 1000 && fsgid_is(1000), "fs gid changed");
  check("dropped_setuid_same", setuid(1000) == 0 && setreuid(1000, 1000) == 0 &&
                                   setresuid(1000, NO_ID, 1000) == 0 && uids_are(1000, 1000, 1000),
        "refused");
  gid_t groups[2];
  check("dropped_groups_kept", getgroups(2, groups) == 1 && groups[0] == 1000, "groups changed");
}

// What an unprivileged process may do with RLIMIT_NOFILE's hard limit: lower it, never
// raise it again. Leaves the hard limit lowered.
static void check_unprivileged_nofile(void) {
  struct rlimit orig;
  getrlimit(RLIMIT_NOFILE, &orig);
  rlim_t low = orig.rlim_max - 1;
  check("unprivileged_lower_hard", set_nofile(64, low) == 0 && nofile_is(64, low), "not lowered");
  CHECK_FAILS_WITH("unprivileged_raise_hard", set_nofile(64, low + 1), EPERM);
  check("unprivileged_raise_soft", set_nofile(low, low) == 0 && nofile_is(low, low), "not raised");
  struct rlimit want = {low, low + 1};
  CHECK_FAILS_WITH("unprivileged_prlimit_raise_hard", prlimit(0, RLIMIT_NOFILE, &want, NULL), EPERM);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  check_any_user();
  check_nofile();
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  if (r == 0 && e == 0 && s == 0 && gr == 0 && ge == 0 && gs == 0) {
    check_privileged();
    check_dropped();
  } else {
    printf("skip privileged: not started as root (uid and gid 0), so the round trips, the files of "
           "another user and the drop of privileges are not checked\n");
  }
  check_unprivileged_nofile();
  return check_exit_status();
}
