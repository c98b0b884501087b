// Carbyne only (a strict test): this directory is also mounted at MNT (a path that does not
// exist on the host), and the walks that climb out of that mount or jump by absolute
// symlinks must land in the LibOS's file tree, never in the host's directory around the
// mount's host path. ".." at a mount root is the parent in the LibOS's tree; an absolute
// symlink inside a mount is resolved from the LibOS's root.
//
//   confined MNT
//
// The working directory is this directory (read-write, at its own path) and the host root
// is mounted read-only at "/": the host directory that holds this one is seen there at its
// host path only, never as MNT/.. .
#include "fsops.h"

#include <libgen.h>
#include <linux/openat2.h>

static char g_mnt[512];   // MNT/<scratch>: the scratch directory seen through the mount
static char g_here[4096];  // the scratch directory's own path (the working directory)
static char g_host_parent_name[256];  // the name of this directory in its host parent

static const char *in_mnt(const char *name) {
  static char paths[4][4096];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, sizeof(paths[0]), "%s/%s", g_mnt, name);
  return p;
}

static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int open_errno(const char *path, int flags) {
  int fd = open(path, flags | O_CLOEXEC, 0644);
  if (fd < 0)
    return errno;
  close(fd);
  return 0;
}

static void check_errno(const char *name, int got, int want) {
  check(name, got == want, "%s, want %s", got ? errname(got) : "success", want ? errname(want) : "success");
}

// ".." at the mount root is the parent of the mount point in the LibOS's tree: "/".
static void check_dotdot_at_root(const char *mnt) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/..", mnt);
  check("dotdot-at-root-is-parent", same_file(path, "/"), "%s is not /", path);
  // The host directory around the mount's host path holds this directory: seen from the
  // mount's "..", it must not be there.
  snprintf(path, sizeof(path), "%s/../%s", mnt, g_host_parent_name);
  check_errno("dotdot-at-root-not-host-parent", open_errno(path, O_RDONLY | O_DIRECTORY), ENOENT);
  snprintf(path, sizeof(path), "%s/../%s", mnt, mnt + 1);
  check("dotdot-at-root-and-back", same_file(path, mnt), "%s is not %s", path, mnt);
  // The same by a walk from a descriptor of the mount root, and by chdir.
  int root_fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat via_fd, slash;
  check("dotdot-at-root-openat", root_fd >= 0 && fstatat(root_fd, "..", &via_fd, 0) == 0 && stat("/", &slash) == 0 &&
                                      via_fd.st_ino == slash.st_ino && via_fd.st_dev == slash.st_dev,
        "openat(MNT, \"..\") is not /");
  struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_BENEATH};
  errno = 0;
  long fd = syscall(SYS_openat2, root_fd, "..", &how, sizeof(how));
  check_errno("dotdot-at-root-resolve-beneath", fd < 0 ? errno : 0, EXDEV);
  if (fd >= 0)
    close((int)fd);
  how.resolve = RESOLVE_IN_ROOT;
  fd = syscall(SYS_openat2, root_fd, "..", &how, sizeof(how));
  struct stat in_root, mnt_st;
  check("dotdot-at-root-resolve-in-root", fd >= 0 && fstat((int)fd, &in_root) == 0 && stat(mnt, &mnt_st) == 0 &&
                                               in_root.st_ino == mnt_st.st_ino,
        "RESOLVE_IN_ROOT \"..\" left the root");
  if (fd >= 0)
    close((int)fd);
  if (root_fd >= 0)
    close(root_fd);
  char cwd[4096];
  check("dotdot-at-root-chdir", chdir(mnt) == 0 && chdir("..") == 0 && getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/"),
        "chdir(MNT/..) left the working directory at %s", cwd);
  if (chdir(g_here) != 0)
    printf("FAIL back: %s\n", errname(errno));
  // Making names through "..": the LibOS's "/" is read-only.
  snprintf(path, sizeof(path), "%s/../confined-made", mnt);
  check_errno("dotdot-at-root-create", open_errno(path, O_WRONLY | O_CREAT | O_EXCL), EROFS);
  errno = 0;
  check_errno("dotdot-at-root-mkdir", mkdir(path, 0755) == 0 ? 0 : errno, EROFS);
  check_errno("dotdot-at-root-rename", rename(in_mnt("inside"), path) == 0 ? 0 : errno, EXDEV);
}

// Symlinks inside the mount: absolute ones start at the LibOS's "/", relative ones that
// climb past the mount root continue in the LibOS's tree.
static void check_symlinks(const char *mnt) {
  char target[8192], path[4096];
  int depth = 0;  // components of MNT/<scratch>
  for (const char *p = g_mnt; *p; p++)
    depth += *p == '/';
  // up -> ../../..: from MNT/<scratch> up to "/" of the LibOS (one more ".." stays there).
  target[0] = '\0';
  for (int i = 0; i <= depth; i++)
    strcat(target, i ? "/.." : "..");
  CHECK_OK("symlink-up-made", symlink(target, "up"));
  check("symlink-up-is-root", same_file(in_mnt("up"), "/"), "MNT/up is not /");
  snprintf(path, sizeof(path), "up/%s", g_host_parent_name);
  check_errno("symlink-up-not-host-parent", open_errno(in_mnt(path), O_RDONLY | O_DIRECTORY), ENOENT);
  snprintf(path, sizeof(path), "up%s", g_mnt);
  snprintf(target, sizeof(target), "%s/inside", path);
  check("symlink-up-and-back", file_is(in_mnt(target), "inside\n"), "MNT/%s unreadable", target);
  check_errno("symlink-up-create", open_errno(in_mnt("up/confined-made"), O_WRONLY | O_CREAT | O_EXCL), EROFS);

  // root -> /: the LibOS's root, whose "mnt" is the mount again.
  CHECK_OK("symlink-root-made", symlink("/", "root"));
  check("symlink-root-is-root", same_file(in_mnt("root"), "/"), "MNT/root is not /");
  snprintf(path, sizeof(path), "root%s/inside", g_mnt);
  check("symlink-root-into-mount", file_is(in_mnt(path), "inside\n"), "MNT/%s unreadable", path);
  // abs-in -> MNT/<scratch>/inside: a path only the LibOS has (the host has no MNT).
  snprintf(target, sizeof(target), "%s/inside", g_mnt);
  CHECK_OK("symlink-abs-made", symlink(target, "abs-in"));
  check("symlink-abs-in-mount", file_is(in_mnt("abs-in"), "inside\n"), "MNT/abs-in unreadable");
  check("symlink-abs-from-cwd", file_is("abs-in", "inside\n"), "abs-in unreadable from the working directory");
  // abs-dir -> MNT/<scratch>: walked through in the middle of a path.
  CHECK_OK("symlink-abs-dir-made", symlink(g_mnt, "abs-dir"));
  check("symlink-abs-dir-walk", file_is(in_mnt("abs-dir/abs-dir/inside"), "inside\n"), "unreadable");
  // Creating through an absolute symlink lands in the mount.
  check_errno("symlink-abs-create", open_errno(in_mnt("abs-dir/made-through-link"), O_WRONLY | O_CREAT | O_EXCL), 0);
  check("symlink-abs-create-here", exists("made-through-link"), "not made in the mount's directory");
  // The mount root's own ".." by a symlink: MNT/<scratch>/mnt-up -> MNT/..
  snprintf(target, sizeof(target), "%s/..", mnt);
  CHECK_OK("symlink-to-mount-dotdot-made", symlink(target, "mnt-up"));
  check("symlink-to-mount-dotdot", same_file(in_mnt("mnt-up"), "/"), "MNT/mnt-up is not /");
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: confined MNT\n");
    return 2;
  }
  const char *mnt = argv[1];
  if (!getcwd(g_here, sizeof(g_here) - 64)) {
    printf("FAIL getcwd: %s\n", errname(errno));
    return 1;
  }
  char copy[4096];
  snprintf(copy, sizeof(copy), "%s", g_here);
  snprintf(g_host_parent_name, sizeof(g_host_parent_name), "%s", basename(copy));
  scratch_enter("confined");
  snprintf(g_mnt, sizeof(g_mnt), "%s/%s", mnt, g_scratch);
  if (!getcwd(g_here, sizeof(g_here))) {
    printf("FAIL getcwd: %s\n", errname(errno));
    return 1;
  }
  write_file("inside", "inside\n");
  check("mount-sees-scratch", file_is(in_mnt("inside"), "inside\n"), "MNT/%s/inside unreadable", g_scratch);
  check_dotdot_at_root(mnt);
  check_symlinks(mnt);
  return scratch_leave();
}
