// CPU time and memory of a process from /proc (the broker's) and of tern-bench itself.
#pragma once

#include <cstdint>
#include <optional>

namespace tern::bench {

struct ProcessSample {
    double cpu_s = 0.0;   // utime + stime, all threads
    uint64_t rss_kb = 0;  // VmRSS
    uint64_t hwm_kb = 0;  // VmHWM: peak resident set since the process started
};

// Reads /proc/PID/stat and /proc/PID/status; nullopt when the process is gone.
std::optional<ProcessSample> sample_process(int pid);

// tern-bench's own user + system CPU seconds (getrusage, all threads).
double self_cpu_seconds();

// Raises the soft open-files limit to the hard one (idle runs hold thousands of sockets).
void raise_file_limit();

}  // namespace tern::bench
