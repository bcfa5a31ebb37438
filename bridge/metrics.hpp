// /metrics: the broker's and the bridge's counters in the Prometheus text format 0.0.4.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tern::bridge {

class Bridge;

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Writes Prometheus text: "# HELP", "# TYPE" and samples for one metric family at a time.
class MetricsWriter {
  public:
    struct Sample {
        std::string labels;  // rendered, e.g. qos="1" (empty = none)
        double value = 0;
    };

    void family(std::string_view name, std::string_view type, std::string_view help,
                const std::vector<Sample>& samples);
    void single(std::string_view name, std::string_view type, std::string_view help, double value) {
        family(name, type, help, {{"", value}});
    }
    // A histogram from cumulative bucket counts: `bounds` (upper bounds, ascending, in the
    // metric's unit) and `cumulative` (one per bound, then +Inf).
    void histogram(std::string_view name, std::string_view help, const std::vector<double>& bounds,
                   const std::vector<uint64_t>& cumulative, double sum);

    const std::string& text() const noexcept { return _text; }

  private:
    void sample(std::string_view name, std::string_view labels, double value);
    std::string _text;
};

// Everything /metrics shows (see README "Bridge" for the list).
std::string render_metrics(Bridge& bridge);

}  // namespace tern::bridge
