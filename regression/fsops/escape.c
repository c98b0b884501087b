// A directory of a read-write chroot mount swapped with a symlink to the outside while the
// program works through it: nothing it does may reach the outside (run-escape-case).
//
//   escape swap MNT        natively, on the host: until SIGTERM, exchanges MNT/d with
//                          MNT/d.swap (a symlink to the outside directory) and MNT/r with
//                          MNT/r.swap (a symlink to "/"), then leaves both directories in
//                          place and prints how many exchanges it made
//   escape probe OUTSIDE SECONDS
//                          under Carbyne, in MNT (the working directory): for SECONDS (more
//                          on a slow host), reads, creates, renames, links and changes files
//                          through d and r; fails if it ever saw the outside's secret
//
// The LibOS caches d as a directory (its dentry cache does not see host-side changes), so
// its host calls meet d as whatever the swapper left there at that instant: a PAL that let
// the host follow a symlink in the middle of a path would work on the outside directory.
// run-escape-case checks that the outside directory is untouched afterwards.
#include "fsops.h"

#include <signal.h>
#include <time.h>

// OUTSIDE/secret holds "OUTSIDE SECRET\n" (15 bytes); any bytes of it read are a leak, even
// after an escaped truncate has cut it.
#define OUTSIDE_MARK "OUTSIDE"
#define INSIDE_SECRET "inside: the real directory's file\n"  // MNT/d/secret, never resized

static volatile sig_atomic_t g_stop;

static void on_term(int sig) {
  (void)sig;
  g_stop = 1;
}

// Puts the real directory back at `name` if the symlink is there now.
static void settle(const char *mnt, const char *name) {
  char path[4096], swap[4096];
  snprintf(path, sizeof(path), "%s/%s", mnt, name);
  snprintf(swap, sizeof(swap), "%s/%s.swap", mnt, name);
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
    renameat2(AT_FDCWD, path, AT_FDCWD, swap, RENAME_EXCHANGE);
}

static int swap_main(const char *mnt) {
  char d[4096], d_swap[4096], r[4096], r_swap[4096];
  snprintf(d, sizeof(d), "%s/d", mnt);
  snprintf(d_swap, sizeof(d_swap), "%s/d.swap", mnt);
  snprintf(r, sizeof(r), "%s/r", mnt);
  snprintf(r_swap, sizeof(r_swap), "%s/r.swap", mnt);
  struct sigaction sa = {0};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  long swaps = 0, failures = 0;
  while (!g_stop) {
    if (renameat2(AT_FDCWD, d, AT_FDCWD, d_swap, RENAME_EXCHANGE) == 0)
      swaps++;
    else
      failures++;
    if (renameat2(AT_FDCWD, r, AT_FDCWD, r_swap, RENAME_EXCHANGE) == 0)
      swaps++;
    else
      failures++;
  }
  settle(mnt, "d");
  settle(mnt, "r");
  printf("swaps %ld failures %ld\n", swaps, failures);
  return failures ? 1 : 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct Counts {
  long iterations;
  long inside_reads;      // d/secret read as the real directory's file
  long refused;           // a call through d or r failed (the swap seen, or a miss)
  long leaked_reads;      // the outside secret's bytes read
  long leaked_stats;      // the outside secret's size seen
  long leaked_links;      // the outside secret linked into the mount
  long leaked_listings;   // the outside directory listed through d
};

// Reads `path` and classifies what it held.
static void probe_read(struct Counts *n, const char *path, int through_d) {
  char buf[256];
  ssize_t got = read_file(path, buf, sizeof(buf));
  if (got < 0) {
    n->refused++;
    return;
  }
  if (!strncmp(buf, OUTSIDE_MARK, strlen(OUTSIDE_MARK)))
    n->leaked_reads++;
  else if (through_d && !strcmp(buf, INSIDE_SECRET))
    n->inside_reads++;
}

static void probe_listing(struct Counts *n) {
  DIR *dir = opendir("d");
  if (!dir) {
    n->refused++;
    return;
  }
  struct dirent *e;
  while ((e = readdir(dir)) != NULL)
    if (!strcmp(e->d_name, "victim"))  // only the outside directory has one
      n->leaked_listings++;
  closedir(dir);
}

static void one_round(struct Counts *n, const char *outside, long i) {
  char path[4096], other[4096];
  struct stat st;
  // Every few rounds the LibOS forgets what it knows of d and r, so that its walks see
  // the directory as often as the symlink (lchown with -1 -1 changes nothing else).
  if (i % 8 == 0) {
    lchown("d", (uid_t)-1, (gid_t)-1);
    lchown("r", (uid_t)-1, (gid_t)-1);
  }

  // Reading: the file, its attributes, the directory's entries.
  probe_read(n, "d/secret", 1);
  if (stat("d/secret", &st) == 0 && st.st_size != (off_t)strlen(INSIDE_SECRET))
    n->leaked_stats++;
  probe_listing(n);
  snprintf(path, sizeof(path), "r%s/secret", outside);  // the outside when r is "/"
  probe_read(n, path, 0);

  // Creating: files, directories, symlinks, FIFOs through d, and through r by the
  // outside's absolute path.
  snprintf(path, sizeof(path), "d/made-%ld", i);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close(fd);
    unlink(path);
  } else {
    n->refused++;
  }
  snprintf(path, sizeof(path), "d/dir-%ld", i);
  if (mkdir(path, 0755) == 0)
    rmdir(path);
  snprintf(path, sizeof(path), "d/sym-%ld", i);
  if (symlink("target", path) == 0)
    unlink(path);
  snprintf(path, sizeof(path), "d/fifo-%ld", i);
  if (mkfifo(path, 0644) == 0)
    unlink(path);
  snprintf(path, sizeof(path), "r%s/made-r-%ld", outside, i);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close(fd);
    unlink(path);
  }
  snprintf(path, sizeof(path), "r%s/dir-r-%ld", outside, i);
  if (mkdir(path, 0755) == 0)
    rmdir(path);

  // Moving a file out through d, and linking the secret in from d.
  snprintf(path, sizeof(path), "keep/out-%ld", i);
  snprintf(other, sizeof(other), "d/out-%ld", i);
  if (write_file(path, "out\n") == 0 && rename(path, other) == 0)
    unlink(other);
  unlink(path);
  snprintf(path, sizeof(path), "keep/ln-%ld", i);
  if (link("d/secret", path) == 0) {
    char buf[256];
    if (read_file(path, buf, sizeof(buf)) >= 0 && !strncmp(buf, OUTSIDE_MARK, strlen(OUTSIDE_MARK)))
      n->leaked_links++;
    unlink(path);
  }

  // Changing the secret: its size, mode and times (the real directory's file keeps its
  // size), and deleting what only the outside directory holds.
  truncate("d/secret", (off_t)strlen(INSIDE_SECRET));
  chmod("d/secret", 0666);
  struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  utimensat(AT_FDCWD, "d/secret", times, 0);
  unlink("d/victim");
  rmdir("d/victim-dir");
  n->iterations++;
}

static int probe_main(const char *outside, double seconds) {
  struct Counts n = {0};
  // SECONDS at least, and on a slow host longer (up to four times) until a read through d
  // has reached the real directory, so that the verdict does not depend on the host's load.
  double start = now_s();
  for (long i = 0;; i++) {
    double spent = now_s() - start;
    if (spent >= 4 * seconds || (spent >= seconds && n.inside_reads > 0))
      break;
    one_round(&n, outside, i);
  }
  fprintf(stderr, "escape probe: %ld rounds, %ld reads of the real directory, %ld calls refused\n",
          n.iterations, n.inside_reads, n.refused);
  check("never-read-outside", n.leaked_reads == 0, "read the outside secret %ld times", n.leaked_reads);
  check("never-stat-outside", n.leaked_stats == 0, "saw the outside secret's size %ld times",
        n.leaked_stats);
  check("never-linked-outside", n.leaked_links == 0, "linked the outside secret in %ld times",
        n.leaked_links);
  check("never-listed-outside", n.leaked_listings == 0, "listed the outside directory %ld times",
        n.leaked_listings);
  // The race was run: the real directory was reached through d as well.
  check("reached-inside", n.inside_reads > 0, "no read through d reached the real directory");
  return check_exit_status();
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 3 && !strcmp(argv[1], "swap"))
    return swap_main(argv[2]);
  if (argc == 4 && !strcmp(argv[1], "probe"))
    return probe_main(argv[2], atof(argv[3]));
  fprintf(stderr, "usage: escape swap MNT | escape probe OUTSIDE SECONDS\n");
  return 2;
}
