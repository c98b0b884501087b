// timer_settime racing timer_delete of the same timer in another thread. Carbyne looked the
// timer up by id, let go of the table's lock, and then armed it: a timer_delete in between
// freed it, and the freed timer went onto the list of armed timers. A later timer reusing
// the memory was linked in a second time, and the list became a cycle: the next walk of it
// spun forever with the timer lock held (every timer call and the timer thread hung), or
// the timer thread called through a zeroed callback (a crash, often silent: the fault came
// in a thread the LibOS did not expect one in). Linux keeps a deleted timer until every
// call that found it is done. Found by the syscall fuzzer (regression/fuzz) with four
// threads; here ten threads create, arm and delete timers and arm each other's for a few
// seconds, which on the old code hung within that time in three runs out of four.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

#define THREADS 10
#define SECONDS 4

static atomic_int g_stop;
static atomic_long g_created, g_armed_others;

static void *race(void *arg) {
    (void)arg;
    struct sigevent ev = {.sigev_notify = SIGEV_NONE};
    struct itimerspec its = {{0, 1000000}, {0, 1000000}};
    while (!atomic_load(&g_stop)) {
        int id;
        if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) == 0) {
            atomic_fetch_add(&g_created, 1);
            syscall(SYS_timer_settime, id, 0, &its, NULL);
            syscall(SYS_timer_delete, id);
        }
        // The ids other threads create and delete: EINVAL or a live timer, never a freed one.
        for (int other = 0; other < 8; other++)
            if (syscall(SYS_timer_settime, other, 0, &its, NULL) == 0)
                atomic_fetch_add(&g_armed_others, 1);
    }
    return NULL;
}

int main(void) {
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, race, NULL);
    struct timespec ts = {SECONDS, 0};
    nanosleep(&ts, NULL);
    atomic_store(&g_stop, 1);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    check("timers-created", atomic_load(&g_created) > 0, "none");

    // What is left works: a new timer arms, reads back and is deleted.
    struct sigevent ev = {.sigev_notify = SIGEV_NONE};
    timer_t timer;
    check("create-after", timer_create(CLOCK_MONOTONIC, &ev, &timer) == 0, "%s", strerrorname_np(errno));
    struct itimerspec its = {{0, 0}, {100, 0}}, cur;
    check("settime-after", timer_settime(timer, 0, &its, NULL) == 0, "%s", strerrorname_np(errno));
    check("gettime-after", timer_gettime(timer, &cur) == 0 && cur.it_value.tv_sec <= 100 && cur.it_value.tv_sec >= 90,
          "%s", strerrorname_np(errno));
    check("delete-after", timer_delete(timer) == 0, "%s", strerrorname_np(errno));
    return check_exit_status();
}
