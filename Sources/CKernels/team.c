// See team.h. A pass is published as a new generation in one atomic word that also counts the
// parts claimed so far; every thread, the caller included, claims parts with a compare-and-swap
// on that word, so a helper that wakes late finds the parts taken and nothing is run twice.
#include "team.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/// The low 32 bits of `state`: the next part to claim. CLOSED marks a finished pass, so that a
/// helper that read the word before the pass ended cannot claim a part of it once the caller
/// has written the next pass's `parts`.
#define CLOSED UINT32_MAX
#define GENERATION(s) ((uint32_t)((s) >> 32))
#define NEXT(s) ((uint32_t)(s))
#define STATE(generation, next) (((uint64_t)(generation) << 32) | (uint32_t)(next))

struct bss_team {
    /// GENERATION: the pass; NEXT: its next unclaimed part.
    _Atomic uint64_t state;
    /// Parts of the current pass run to the end.
    _Atomic size_t finished;
    /// The current pass; written by the caller only while no part of a pass is claimable.
    _Atomic size_t parts;
    void (*body)(void *, size_t);
    void *context;
    _Atomic int stopping;
    _Atomic int sleepers;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    uint64_t spin_nanoseconds;
    size_t helpers;
    pthread_t threads[];
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/// Claims and runs parts of pass `generation` until none is left.
static void work(bss_team *team, uint32_t generation) {
    uint64_t s = atomic_load_explicit(&team->state, memory_order_acquire);
    for (;;) {
        if (GENERATION(s) != generation) return;
        const uint32_t part = NEXT(s);
        if (part == CLOSED || part >= atomic_load_explicit(&team->parts, memory_order_relaxed)) return;
        if (!atomic_compare_exchange_weak_explicit(
                &team->state, &s, s + 1, memory_order_acq_rel, memory_order_acquire)) continue;
        // The part is ours and the pass cannot end before it is finished: body and context stay.
        team->body(team->context, part);
        atomic_fetch_add_explicit(&team->finished, 1, memory_order_release);
        s = atomic_load_explicit(&team->state, memory_order_acquire);
    }
}

static void *helper_main(void *argument) {
    bss_team *team = argument;
    uint32_t seen = GENERATION(atomic_load_explicit(&team->state, memory_order_acquire));
    for (;;) {
        // Spin for the next pass, then sleep until it comes.
        const uint64_t deadline = now_ns() + team->spin_nanoseconds;
        uint32_t generation = seen;
        for (unsigned i = 1;; i++) {
            generation = GENERATION(atomic_load_explicit(&team->state, memory_order_acquire));
            if (generation != seen || atomic_load_explicit(&team->stopping, memory_order_relaxed)) break;
            CPU_RELAX();
            if (i % 64 != 0) continue;
            // Now and then give the core to any other thread that is ready: a spinning helper
            // must not delay the server's socket threads (or, on a busy machine, other encoders).
            sched_yield();
            if (now_ns() > deadline) {
                pthread_mutex_lock(&team->mutex);
                atomic_fetch_add(&team->sleepers, 1);
                while (GENERATION(atomic_load(&team->state)) == seen && !atomic_load(&team->stopping)) {
                    pthread_cond_wait(&team->wake, &team->mutex);
                }
                atomic_fetch_sub(&team->sleepers, 1);
                pthread_mutex_unlock(&team->mutex);
            }
        }
        if (atomic_load(&team->stopping)) return NULL;
        seen = generation;
        work(team, generation);
    }
}

bss_team *bss_team_create(size_t helpers, unsigned spin_microseconds) {
    bss_team *team = calloc(1, sizeof(bss_team) + helpers * sizeof(pthread_t));
    if (!team) return NULL;
    atomic_init(&team->state, STATE(0, CLOSED));
    team->spin_nanoseconds = (uint64_t)spin_microseconds * 1000u;
    pthread_mutex_init(&team->mutex, NULL);
    pthread_cond_init(&team->wake, NULL);
    for (size_t i = 0; i < helpers; i++) {
        if (pthread_create(&team->threads[i], NULL, helper_main, team) != 0) {
            bss_team_destroy(team);
            return NULL;
        }
        team->helpers = i + 1;
    }
    return team;
}

void bss_team_run(bss_team *team, size_t parts, void (*body)(void *context, size_t part), void *context) {
    if (team->helpers == 0 || parts <= 1) {
        for (size_t part = 0; part < parts; part++) body(context, part);
        return;
    }
    const uint32_t generation = GENERATION(atomic_load_explicit(&team->state, memory_order_relaxed)) + 1;
    team->body = body;
    team->context = context;
    atomic_store_explicit(&team->parts, parts, memory_order_relaxed);
    atomic_store_explicit(&team->finished, 0, memory_order_relaxed);
    // Publishing the pass and reading `sleepers` are both sequentially consistent, as are a
    // helper's increment of `sleepers` and its check of `state` before it waits: either the
    // helper sees the pass, or this sees the sleeper and wakes it.
    atomic_store(&team->state, STATE(generation, 0));
    if (atomic_load(&team->sleepers) > 0) {
        pthread_mutex_lock(&team->mutex);
        pthread_cond_broadcast(&team->wake);
        pthread_mutex_unlock(&team->mutex);
    }
    work(team, generation);
    // The last parts are running on helpers; one the host has preempted may take a while, so
    // the wait yields the core now and then.
    for (unsigned i = 1; atomic_load_explicit(&team->finished, memory_order_acquire) < parts; i++) {
        CPU_RELAX();
        if (i % 64 == 0) sched_yield();
    }
    atomic_store_explicit(&team->state, STATE(generation, CLOSED), memory_order_release);
}

void bss_team_destroy(bss_team *team) {
    if (!team) return;
    pthread_mutex_lock(&team->mutex);
    atomic_store(&team->stopping, 1);
    pthread_cond_broadcast(&team->wake);
    pthread_mutex_unlock(&team->mutex);
    for (size_t i = 0; i < team->helpers; i++) pthread_join(team->threads[i], NULL);
    pthread_mutex_destroy(&team->mutex);
    pthread_cond_destroy(&team->wake);
    free(team);
}
