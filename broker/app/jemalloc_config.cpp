// jemalloc's settings for the tern process, read by jemalloc when it starts (before main). The
// MALLOC_CONF environment variable still overrides any of them.
//
// - percpu_arena:percpu: one arena per CPU instead of four, used by whichever thread runs there.
//   The worker loops mostly stay on their CPU, and fewer arenas hold fewer half-used pages.
// - dirty_decay_ms:1000, muzzy_decay_ms:0: pages freed by a burst (fan-out output buffers, a
//   drained queue) go back to the system within a second rather than ten, so peak RSS under load
//   stays near what is in use.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "percpu_arena:percpu,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
