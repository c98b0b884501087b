// Path walks after the namespace changed under them: renamed, removed and re-made
// directories, directories replaced by symlinks or files, symlinks pointed elsewhere. Each
// path is walked once before the change (so that a LibOS that remembers walks has
// something to forget) and again after it.
#include "fsops.h"

#include <linux/fs.h>

#include "../unprivileged.h"

// Makes a scratch directory of this process, ./fsops-NAME-XXXXXX (or below
// $FSOPS_SCRATCH_BASE), and enters it: runs of this program may overlap (the halves of two
// test runs in one build directory), so the name is mkdtemp's. scratch_leave removes it.
static void enter_own_scratch(const char *name) {
  const char *base = getenv("FSOPS_SCRATCH_BASE");
  if (base && chdir(base) != 0) {
    printf("FAIL scratch: cannot enter %s: %s\n", base, strerrorname_np(errno));
    exit(1);
  }
  snprintf(g_scratch, sizeof(g_scratch), "fsops-%s-XXXXXX", name);
  if (!mkdtemp(g_scratch) || chdir(g_scratch) != 0) {
    printf("FAIL scratch: cannot create and enter a scratch directory: %s\n", strerrorname_np(errno));
    exit(1);
  }
  umask(022);
}

// 0 when `path` opens, else errno.
static int open_errno(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  close(fd);
  return 0;
}

static int stat_errno(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? 0 : errno;
}

// Checks that opening `path` gives `want` (0: success).
static void check_open(const char *name, const char *path, int want) {
  int got = open_errno(path);
  check(name, got == want, "open %s: %s, want %s", path, got ? errname(got) : "success",
        want ? errname(want) : "success");
}

static void check_stat(const char *name, const char *path, int want) {
  int got = stat_errno(path);
  check(name, got == want, "stat %s: %s, want %s", path, got ? errname(got) : "success",
        want ? errname(want) : "success");
}

// Walks `path` a few times, as a program does before the change comes.
static void warm(const char *path) {
  for (int i = 0; i < 3; i++) {
    open_errno(path);
    stat_errno(path);
  }
}

static void check_rename_dir(void) {
  mkdir("a", 0755);
  write_file("a/x", "x\n");
  warm("a/x");
  CHECK_OK("rename-dir", rename("a", "b"));
  check_open("rename-dir-old-path-gone", "a/x", ENOENT);
  check_stat("rename-dir-old-dir-gone", "a", ENOENT);
  check("rename-dir-new-path", file_is("b/x", "x\n"), "b/x unreadable");
  check_open("rename-dir-dotdot-new", "b/../b/x", 0);
  check_open("rename-dir-dotdot-old", "b/../a/x", ENOENT);
  // And back: the old path works again, the new one is gone.
  warm("b/x");
  CHECK_OK("rename-dir-back", rename("b", "a"));
  check_open("rename-dir-back-old-path", "a/x", 0);
  check_open("rename-dir-back-new-gone", "b/x", ENOENT);
}

static void check_rename_deep(void) {
  mkdir("p", 0755);
  mkdir("p/q", 0755);
  mkdir("p/q/r", 0755);
  write_file("p/q/r/f", "deep\n");
  warm("p/q/r/f");
  CHECK_OK("rename-middle", rename("p/q", "p/q2"));
  check_open("rename-middle-old", "p/q/r/f", ENOENT);
  check_stat("rename-middle-old-dir", "p/q/r", ENOENT);
  check("rename-middle-new", file_is("p/q2/r/f", "deep\n"), "p/q2/r/f unreadable");
  CHECK_OK("rename-middle-mkdir-old-name", mkdir("p/q", 0755));
  check_open("rename-middle-new-dir-is-empty", "p/q/r/f", ENOENT);
  check_stat("rename-middle-new-dir-no-r", "p/q/r", ENOENT);
  // A directory moved below another one.
  mkdir("c", 0755);
  warm("p/q2/r/f");
  CHECK_OK("rename-into-subdir", rename("p/q2", "c/moved"));
  check("rename-into-subdir-new", file_is("c/moved/r/f", "deep\n"), "c/moved/r/f unreadable");
  check_open("rename-into-subdir-old", "p/q2/r/f", ENOENT);
  // A directory renamed over an empty one that was walked before.
  mkdir("over", 0755);
  mkdir("over/empty", 0755);
  warm("over/empty");
  warm("c/moved/r/f");
  CHECK_OK("rename-over-empty-dir", rename("c/moved/r", "over/empty"));
  check("rename-over-empty-dir-new", file_is("over/empty/f", "deep\n"), "over/empty/f unreadable");
  check_stat("rename-over-empty-dir-old", "c/moved/r", ENOENT);
}

static void check_exchange(void) {
  mkdir("e1", 0755);
  mkdir("e2", 0755);
  write_file("e1/only1", "1");
  write_file("e2/only2", "2");
  warm("e1/only1");
  warm("e2/only2");
  CHECK_OK("exchange-dirs", syscall(SYS_renameat2, AT_FDCWD, "e1", AT_FDCWD, "e2", RENAME_EXCHANGE));
  check_open("exchange-e1-has-only2", "e1/only2", 0);
  check_open("exchange-e1-lost-only1", "e1/only1", ENOENT);
  check_open("exchange-e2-has-only1", "e2/only1", 0);
  check_open("exchange-e2-lost-only2", "e2/only2", ENOENT);
  // A directory exchanged with a symlink.
  symlink("e1", "el");
  warm("el/only2");
  warm("e2/only1");
  CHECK_OK("exchange-dir-symlink", syscall(SYS_renameat2, AT_FDCWD, "e2", AT_FDCWD, "el", RENAME_EXCHANGE));
  check_open("exchange-dir-symlink-el-is-dir", "el/only1", 0);
  check_open("exchange-dir-symlink-e2-is-link", "e2/only2", 0);
  check_open("exchange-dir-symlink-e2-old", "e2/only1", ENOENT);
}

static void check_dir_to_symlink(void) {
  mkdir("t", 0755);
  write_file("t/f", "in t\n");
  mkdir("other", 0755);
  write_file("other/f2", "in other\n");
  warm("t/f");
  unlink("t/f");
  CHECK_OK("dir-to-symlink-rmdir", rmdir("t"));
  CHECK_OK("dir-to-symlink-symlink", symlink("other", "t"));
  check_open("dir-to-symlink-old-file", "t/f", ENOENT);
  check("dir-to-symlink-through-link", file_is("t/f2", "in other\n"), "t/f2 unreadable");
  struct stat st;
  check("dir-to-symlink-lstat", lstat("t", &st) == 0 && S_ISLNK(st.st_mode), "not a symlink");
  // And a symlink replaced by a directory.
  warm("t/f2");
  CHECK_OK("symlink-to-dir-unlink", unlink("t"));
  CHECK_OK("symlink-to-dir-mkdir", mkdir("t", 0755));
  check_open("symlink-to-dir-old", "t/f2", ENOENT);
  write_file("t/new", "new\n");
  check("symlink-to-dir-new", file_is("t/new", "new\n"), "t/new unreadable");
  // A directory renamed away and a symlink renamed into its place.
  symlink("other", "tmp-link");
  warm("t/new");
  CHECK_OK("rename-dir-away", rename("t", "t-away"));
  CHECK_OK("rename-symlink-in", rename("tmp-link", "t"));
  check_open("rename-symlink-in-old", "t/new", ENOENT);
  check_open("rename-symlink-in-new", "t/f2", 0);
}

// A directory replaced by a symlink into another mount (/tmp: a tmpfs under Carbyne). A
// LibOS that still took the path for a directory would let the host follow the symlink,
// and the host has no such directory below its own /tmp.
static void check_symlink_to_other_mount(void) {
  char tmp[] = "/tmp/fsops-walks-XXXXXX", path[64];
  if (!mkdtemp(tmp)) {
    check("other-mount-setup", 0, "mkdtemp: %s", errname(errno));
    return;
  }
  snprintf(path, sizeof(path), "%s/g", tmp);
  write_file(path, "in tmp\n");
  mkdir("t2", 0755);
  write_file("t2/g", "in t2\n");
  warm("t2/g");
  unlink("t2/g");
  CHECK_OK("other-mount-rmdir", rmdir("t2"));
  CHECK_OK("other-mount-symlink", symlink(tmp, "t2"));
  check("other-mount-through-symlink", file_is("t2/g", "in tmp\n"), "t2/g unreadable");
  // And the same after a rename over a directory's name.
  mkdir("t3", 0755);
  write_file("t3/g", "in t3\n");
  warm("t3/g");
  symlink(tmp, "t3-link");
  CHECK_OK("other-mount-dir-away", rename("t3", "t3-away"));
  CHECK_OK("other-mount-rename-symlink-in", rename("t3-link", "t3"));
  check("other-mount-renamed-symlink", file_is("t3/g", "in tmp\n"), "t3/g unreadable");
  unlink(path);
  rmdir(tmp);
}

static void check_symlink_retarget(void) {
  mkdir("d1", 0755);
  mkdir("d2", 0755);
  write_file("d1/f", "d1\n");
  write_file("d2/g", "d2\n");
  CHECK_OK("retarget-symlink", symlink("d1", "l"));
  warm("l/f");
  CHECK_OK("retarget-unlink", unlink("l"));
  CHECK_OK("retarget-symlink-again", symlink("d2", "l"));
  check_open("retarget-old-target", "l/f", ENOENT);
  check("retarget-new-target", file_is("l/g", "d2\n"), "l/g unreadable");
  // Renamed over: the replacement's target counts.
  CHECK_OK("retarget-by-rename-make", symlink("d1", "l-new"));
  warm("l/g");
  CHECK_OK("retarget-by-rename", rename("l-new", "l"));
  check("retarget-by-rename-new", file_is("l/f", "d1\n"), "l/f unreadable");
  check_open("retarget-by-rename-old", "l/g", ENOENT);
  // A symlink to a symlink, the middle one changed.
  CHECK_OK("chain-make", symlink("l", "l2"));
  warm("l2/f");
  unlink("l");
  symlink("d2", "l");
  check_open("chain-middle-changed", "l2/g", 0);
  check_open("chain-middle-changed-old", "l2/f", ENOENT);
  // A directory under the target renamed.
  mkdir("d2/sub", 0755);
  write_file("d2/sub/s", "s\n");
  warm("l2/sub/s");
  CHECK_OK("rename-below-target", rename("d2/sub", "d2/sub2"));
  check_open("rename-below-target-old", "l2/sub/s", ENOENT);
  check_open("rename-below-target-new", "l2/sub2/s", 0);
  // An absolute symlink replaced by a relative one to another place.
  char abs[4096];
  if (getcwd(abs, sizeof(abs) - 8)) {
    strcat(abs, "/d1");
    CHECK_OK("absolute-symlink", symlink(abs, "la"));
    warm("la/f");
    unlink("la");
    symlink("d2", "la");
    check_open("absolute-symlink-replaced-old", "la/f", ENOENT);
    check_open("absolute-symlink-replaced-new", "la/g", 0);
  }
}

static void check_rmdir_mkdir(void) {
  mkdir("m", 0755);
  mkdir("m/sub", 0755);
  write_file("m/sub/f", "f\n");
  warm("m/sub/f");
  unlink("m/sub/f");
  CHECK_OK("rmdir-inner", rmdir("m/sub"));
  CHECK_OK("rmdir-outer", rmdir("m"));
  check_open("rmdir-file-gone", "m/sub/f", ENOENT);
  check_stat("rmdir-dir-gone", "m/sub", ENOENT);
  CHECK_OK("mkdir-again", mkdir("m", 0755));
  check_stat("mkdir-again-no-sub", "m/sub", ENOENT);
  check_open("mkdir-again-no-file", "m/sub/f", ENOENT);
  CHECK_FAILS_WITH("mkdir-again-create-below-missing", open("m/sub/f", O_WRONLY | O_CREAT, 0644), ENOENT);
  CHECK_OK("mkdir-again-sub", mkdir("m/sub", 0755));
  check_open("mkdir-again-sub-empty", "m/sub/f", ENOENT);
  CHECK_OK("mkdir-again-file", write_file("m/sub/f", "again\n"));
  check("mkdir-again-file-content", file_is("m/sub/f", "again\n"), "wrong content");
}

static void check_dir_to_file(void) {
  mkdir("n", 0755);
  write_file("n/f", "f\n");
  warm("n/f");
  unlink("n/f");
  rmdir("n");
  CHECK_OK("dir-to-file", write_file("n", "now a file\n"));
  check_open("dir-to-file-walk-below", "n/f", ENOTDIR);
  check_stat("dir-to-file-walk-below-stat", "n/f", ENOTDIR);
  check_stat("dir-to-file-trailing-slash", "n/", ENOTDIR);
  // And a file renamed over by a directory... cannot be (ENOTDIR); a file renamed away and
  // a directory renamed in:
  mkdir("n-dir", 0755);
  write_file("n-dir/inside", "inside\n");
  warm("n-dir/inside");
  CHECK_OK("file-away", rename("n", "n-file"));
  CHECK_OK("dir-in", rename("n-dir", "n"));
  check_open("dir-in-walk", "n/inside", 0);
  check_open("dir-in-old-name", "n-dir/inside", ENOENT);
}

static void check_stat_is_fresh(void) {
  // What a walk remembers must not hide the last component's current attributes.
  mkdir("s", 0755);
  write_file("s/grow", "1");
  struct stat st;
  stat("s/grow", &st);
  write_file("s/grow", "12345");
  check("stat-size-fresh", stat("s/grow", &st) == 0 && st.st_size == 5, "size %ld", (long)st.st_size);
  chmod("s/grow", 0600);
  check("stat-mode-fresh", stat("s/grow", &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
  chmod("s", 0700);
  check("stat-dir-mode-fresh", stat("s", &st) == 0 && (st.st_mode & 0777) == 0700, "mode %o", st.st_mode & 0777);
  check("stat-dir-dot-fresh", stat("s/.", &st) == 0 && (st.st_mode & 0777) == 0700, "mode %o", st.st_mode & 0777);
  chmod("s", 0755);
  check("stat-dir-dotdot-fresh", stat("s/../s", &st) == 0 && (st.st_mode & 0777) == 0755, "mode %o",
        st.st_mode & 0777);
}

// Without search permission nothing below a directory may be walked, remembered or not.
// Root searches anything, so these run as an unprivileged user (unprivileged.h): the owner
// of "u", and a stranger to "r", which root made and walked first.
static void check_search_permission(void) {
  mkdir("u", 0755);
  write_file("u/f", "u\n");
  mkdir("r", 0700);
  write_file("r/f", "r\n");
  warm("u/f");
  warm("r/f");
  // The scratch directory (mkdtemp: 0700) must let the user look up names in it.
  CHECK_OK("search-setup", chmod(".", 0755) || unprivileged_give("u") || unprivileged_give("u/f"));
  if (!unprivileged_enter())
    return;
  warm("u/f");
  check_open("search-own-dir", "u/f", 0);
  // What the user makes is the user's (under Carbyne too, where the host process is
  // another user), so the user may change it again.
  struct stat st;
  int made = write_file("u/made", "1") == 0 && mkdir("u/made-dir", 0700) == 0 && mkfifo("u/made-fifo", 0600) == 0;
  check("made-by-user", made && stat("u/made", &st) == 0 && st.st_uid == geteuid() && st.st_gid == getegid() &&
                            stat("u/made-dir", &st) == 0 && st.st_uid == geteuid() && st.st_gid == getegid() &&
                            lstat("u/made-fifo", &st) == 0 && st.st_uid == geteuid(),
        "%s", made ? "owned by another user" : errname(errno));
  check("made-by-user-writable-again", write_file("u/made", "2") == 0 && file_is("u/made", "2") &&
                                           write_file("u/made-dir/f", "x") == 0 && chmod("u/made", 0600) == 0,
        "%s", errname(errno));
  CHECK_OK("search-chmod-own-dir", chmod("u", 0600));
  check_stat("chmod-no-search", "u/f", EACCES);
  check_open("chmod-no-search-open", "u/f", EACCES);
  check_stat("chmod-no-search-dot", "u/.", EACCES);
  check_stat("chmod-no-search-dir-itself", "u", 0);
  CHECK_OK("search-chmod-back", chmod("u", 0755));
  check_stat("chmod-search-again", "u/f", 0);
  // Search permission alone walks; read permission alone does not.
  CHECK_OK("search-chmod-x-only", chmod("u", 0100));
  check_open("search-x-only", "u/f", 0);
  CHECK_OK("search-chmod-r-only", chmod("u", 0400));
  check_open("search-r-only", "u/f", EACCES);
  chmod("u", 0755);
  // Another user's 0700 directory, walked by root before.
  if (unprivileged_switches()) {
    check_stat("search-others-dir", "r/f", EACCES);
    check_open("search-others-dir-open", "r/f", EACCES);
    check_stat("search-others-dir-dotdot", "r/../u/f", EACCES);
    CHECK_FAILS_WITH("search-others-dir-chmod", chmod("r", 0755), EPERM);
  } else {
    printf("skip search-others-dir: not started as root, so no other user's directory here\n");
  }
  unprivileged_leave();
}

static void check_many_dirs(void) {
  // Many directories walked, a third of them renamed, and each old path must be gone.
  // (Few enough to stay quick: rmdir takes milliseconds on some host file systems; the
  // LibOS's eviction is unit-tested instead.)
  enum { k_dirs = 300 };
  mkdir("many", 0755);
  char path[64], path2[64];
  int made = 0, found = 0, gone = 0, moved = 0;
  for (int i = 0; i < k_dirs; i++) {
    snprintf(path, sizeof(path), "many/d%d", i);
    if (mkdir(path, 0755) != 0)
      continue;
    snprintf(path, sizeof(path), "many/d%d/f", i);
    if (write_file(path, "f") == 0)
      made++;
  }
  for (int i = 0; i < k_dirs; i++) {
    snprintf(path, sizeof(path), "many/d%d/f", i);
    found += open_errno(path) == 0;
  }
  for (int i = 0; i < k_dirs; i += 3) {
    snprintf(path, sizeof(path), "many/d%d", i);
    snprintf(path2, sizeof(path2), "many/r%d", i);
    rename(path, path2);
  }
  for (int i = 0; i < k_dirs; i++) {
    snprintf(path, sizeof(path), "many/d%d/f", i);
    snprintf(path2, sizeof(path2), "many/r%d/f", i);
    if (i % 3 == 0) {
      gone += open_errno(path) == ENOENT;
      moved += open_errno(path2) == 0;
    } else {
      found += open_errno(path) == 0;
    }
  }
  int renamed = (k_dirs + 2) / 3;
  check("many-made", made == k_dirs, "%d of %d", made, k_dirs);
  check("many-found", found == k_dirs + k_dirs - renamed, "%d", found);
  check("many-old-paths-gone", gone == renamed, "%d of %d", gone, renamed);
  check("many-new-paths", moved == renamed, "%d of %d", moved, renamed);
}

// Carbyne only (a strict test): the working directory is also mounted at ALIAS, so that
// the same host directory shows under two paths, and a change made through one path must
// be seen through the other. The symlinks point into the alias mount by absolute paths that
// exist only in the LibOS: a LibOS that took a stale "is a directory" for them would let the
// host follow them and fail.
static char g_alias[512];

// NAME below the scratch directory seen through the alias mount (a rotating set of
// buffers, so that one call can take two of them).
static const char *alias_path(const char *name) {
  static char paths[4][1024];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, sizeof(paths[0]), "%s/%s", g_alias, name);
  return p;
}

static int check_alias(const char *alias_mount) {
  enter_own_scratch("walks-alias");
  snprintf(g_alias, sizeof(g_alias), "%s/%s", alias_mount, g_scratch);
  mkdir("x", 0755);
  mkdir("x/y", 0755);
  write_file("x/y/f", "f\n");
  check("alias-sees-file", file_is(alias_path("x/y/f"), "f\n"), "not the same directory");
  warm("x/y/f");
  warm(alias_path("x/y/f"));
  CHECK_OK("alias-rename", rename(alias_path("x"), alias_path("x2")));
  check_open("alias-rename-old-path", "x/y/f", ENOENT);
  check_open("alias-rename-new-path", "x2/y/f", 0);
  // A directory replaced through the alias by a symlink into the alias mount.
  warm("x2/y/f");
  CHECK_OK("alias-dir-away", rename(alias_path("x2"), alias_path("x-dir")));
  CHECK_OK("alias-symlink-in", symlink(alias_path("x-dir/y"), alias_path("x2")));
  check_open("alias-symlink-walk", "x2/f", 0);
  check_open("alias-symlink-old-path", "x2/y/f", ENOENT);
  // A symlink pointed elsewhere through the other path.
  CHECK_OK("alias-link", symlink("x-dir", "l"));
  warm(alias_path("l/y/f"));
  CHECK_OK("alias-link-unlink", unlink("l"));
  CHECK_OK("alias-link-retarget", symlink(alias_path("x-dir/y"), "l"));
  check_open("alias-link-new-target", alias_path("l/f"), 0);
  check_open("alias-link-old-target", alias_path("l/y/f"), ENOENT);
  return scratch_leave();
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--alias"))
    return check_alias(argv[2]);
  enter_own_scratch("walks");
  check_rename_dir();
  check_rename_deep();
  check_exchange();
  check_dir_to_symlink();
  check_symlink_to_other_mount();
  check_symlink_retarget();
  check_rmdir_mkdir();
  check_dir_to_file();
  check_stat_is_fresh();
  check_search_permission();
  check_many_dirs();
  return scratch_leave();
}
