// scripts/load's thread round: THREADS threads created at once and joined, ROUNDS times.
// After each round it prints "round N" and waits for a line on stdin, so that the caller
// can read the process's memory between rounds. Exits 1 if a thread could not be created
// or the threads' work does not add up.
//
//   load_threads ROUNDS THREADS
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_long g_work;

static void *work(void *arg) {
  atomic_fetch_add(&g_work, (long)(intptr_t)arg);
  return arg;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: load_threads ROUNDS THREADS\n");
    return 2;
  }
  int rounds = atoi(argv[1]), count = atoi(argv[2]);
  pthread_t *threads = calloc((size_t)count, sizeof(*threads));
  if (!threads)
    return 1;
  for (int r = 1; r <= rounds; r++) {
    for (int i = 0; i < count; i++) {
      int e = pthread_create(&threads[i], NULL, work, (void *)(intptr_t)1);
      if (e) {
        fprintf(stderr, "round %d: pthread_create %d: %s\n", r, i, strerror(e));
        return 1;
      }
    }
    for (int i = 0; i < count; i++) {
      void *ret;
      int e = pthread_join(threads[i], &ret);
      if (e || ret != (void *)(intptr_t)1) {
        fprintf(stderr, "round %d: pthread_join %d: %s\n", r, i, strerror(e));
        return 1;
      }
    }
    printf("round %d\n", r);
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof(line), stdin))
      break;
  }
  long want = (long)rounds * count;
  if (atomic_load(&g_work) != want) {
    fprintf(stderr, "the threads did %ld units of work, not %ld\n", atomic_load(&g_work), want);
    return 1;
  }
  return 0;
}
