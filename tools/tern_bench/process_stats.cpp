// /proc parsing for broker CPU and memory; getrusage for tern-bench's own CPU.
#include "process_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace tern::bench {

namespace {

// utime and stime are fields 14 and 15 of /proc/PID/stat (proc(5)), in clock ticks. The command
// name (field 2) may hold spaces and parentheses, so fields are counted after its last ')'.
std::optional<double> read_cpu_seconds(int pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(file, line)) {
        return std::nullopt;
    }
    const auto close = line.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream fields(line.substr(close + 1));
    std::string skip;
    for (int field = 3; field <= 13; ++field) {
        fields >> skip;
    }
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    if (!(fields >> utime >> stime)) {
        return std::nullopt;
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

std::optional<ProcessSample> sample_process(int pid) {
    const auto cpu = read_cpu_seconds(pid);
    if (!cpu) {
        return std::nullopt;
    }
    ProcessSample sample;
    sample.cpu_s = *cpu;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    uint64_t value = 0;
    std::string line;
    while (std::getline(status, line)) {
        std::istringstream fields(line);
        if (!(fields >> key >> value)) {
            continue;
        }
        if (key == "VmRSS:") {
            sample.rss_kb = value;
        } else if (key == "VmHWM:") {
            sample.hwm_kb = value;
        }
    }
    return sample;
}

double self_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void raise_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

}  // namespace tern::bench
