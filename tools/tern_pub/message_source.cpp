// Payload sources of tern-pub: files, all of stdin, stdin line by line.
#include "message_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "common/tool_error.hpp"

namespace tern::tools {

MessageSource MessageSource::repeated(std::string payload, long count) {
    MessageSource source;
    source._payload = std::move(payload);
    source._remaining = count;
    return source;
}

MessageSource MessageSource::lines(std::istream& in) {
    MessageSource source;
    source._in = &in;
    return source;
}

std::optional<std::string> MessageSource::next() {
    if (_in != nullptr) {
        std::string line;
        if (!std::getline(*_in, line)) {
            return std::nullopt;
        }
        return line;
    }
    if (_remaining <= 0) {
        return std::nullopt;
    }
    --_remaining;
    return _payload;
}

std::string read_file(const std::string& path) {
    auto fail = [&path](int error) {
        return ToolError(kExitFailure, "cannot read '" + path + "': " + std::strerror(error));
    };
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw fail(errno);
    }
    std::string content;
    char buffer[65536];
    while (true) {
        ssize_t count = ::read(fd, buffer, sizeof(buffer));
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            int error = errno;
            ::close(fd);
            throw fail(error);
        }
        if (count == 0) {
            break;
        }
        content.append(buffer, static_cast<size_t>(count));
    }
    ::close(fd);
    return content;
}

std::string read_all(std::istream& in) {
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace tern::tools
