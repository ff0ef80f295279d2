#pragma once
// A team of threads that runs one encoder's parallel passes (matrix products split by panels,
// attention, LayerNorm). One sentence makes ~25 such passes per layer stack, each of 50–200 µs:
// handing them to libdispatch's pool cost a thread wake-up each, which on our 2-core VMs often
// took as long as the pass, so the caller ran both halves itself (all-MiniLM-L6-v2, one
// sentence: 2 threads no faster than 1). The team's helpers spin for a while after each pass,
// then sleep until the next.
#include <stddef.h>

typedef struct bss_team bss_team;

/// A team of `helpers` threads besides the caller's (0 is valid: everything runs on the caller).
/// Helpers spin up to `spin_microseconds` waiting for the next pass before they sleep.
/// Returns NULL when a thread cannot be started.
bss_team *bss_team_create(size_t helpers, unsigned spin_microseconds);

/// Runs `body(context, part)` for every part in 0 ..< parts, on the caller and the helpers (each
/// part exactly once, in any order), and returns when all are done. One caller at a time.
void bss_team_run(bss_team *team, size_t parts, void (*body)(void *context, size_t part), void *context);

/// Stops and joins the helpers, then frees the team. No pass may be running.
void bss_team_destroy(bss_team *team);
