// tern-passwd: creates and edits password files for Tern (and Mosquitto), like mosquitto_passwd.
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "codec/decoder.hpp"
#include "core/auth.hpp"

namespace {

using tern::core::AuthFileError;
using tern::core::PasswordFile;

constexpr std::string_view kBlanks = " \t\r";
constexpr std::size_t kMaxField = 65535;  // MQTT user names and passwords are at most this long

constexpr const char* kSynopsis =
    "Usage: tern-passwd [-c] [-I ITERATIONS] FILE USER\n"
    "       tern-passwd [-c] [-I ITERATIONS] -b FILE USER PASSWORD\n"
    "       tern-passwd -D FILE USER\n"
    "       tern-passwd [-I ITERATIONS] -U FILE\n";

constexpr const char* kFooter =
    R"(Hashes are PBKDF2-HMAC-SHA512 in Mosquitto 2.0's "$7$" format; Tern and Mosquitto
accept the file unchanged. Files are replaced atomically with mode 0600. See tern-passwd(1).

Exit status:
  0   done
  1   the file could not be read, parsed or written, the user was not found (-D),
      or the passwords did not match
  2   bad command line, user name or password)";

// A failure with its exit status: 2 for bad arguments, 1 for everything else.
struct Failure {
    int code;
    std::string message;
};

[[noreturn]] void fail(int code, std::string message) {
    throw Failure{code, std::move(message)};
}

struct Options {
    bool create = false;
    bool batch = false;
    bool remove = false;
    bool upgrade = false;
    std::optional<uint32_t> iterations;
    std::vector<std::string> arguments;
};

std::string_view trim(std::string_view text) {
    const std::size_t first = text.find_first_not_of(kBlanks);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(kBlanks) - first + 1);
}

// The user name a password file line is for; nullopt for comments, blank lines and lines
// without ':' (which PasswordFile::parse rejects, and -U reports itself).
std::optional<std::string_view> user_of(std::string_view line) {
    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') {
        return std::nullopt;
    }
    const std::size_t colon = content.find(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    return trim(content.substr(0, colon));
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(std::move(line));
    }
    return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) {
        text += line;
        text += '\n';
    }
    return text;
}

// The user name must survive the file format (no ':', no line breaks, no blanks at either end,
// not a comment) and be a valid MQTT string [MQTT-1.5.4-1..3].
void check_user_name(const std::string& user) {
    if (user.empty()) {
        fail(2, "the user name is empty");
    }
    if (user.size() > kMaxField) {
        fail(2, "the user name is longer than 65535 bytes");
    }
    if (user.find(':') != std::string::npos) {
        fail(2, "the user name must not contain ':'");
    }
    if (!tern::codec::is_valid_mqtt_utf8(user)) {
        fail(2, "the user name is not valid UTF-8");
    }
    for (const char c : user) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            fail(2, "the user name must not contain control characters");
        }
    }
    if (trim(user) != user) {
        fail(2, "the user name must not start or end with blanks");
    }
    if (user.front() == '#') {
        fail(2, "the user name must not start with '#'");
    }
}

void check_password(const std::string& password, int code) {
    if (password.empty()) {
        fail(code, "the password is empty");
    }
    if (password.size() > kMaxField) {
        fail(code, "the password is longer than 65535 bytes");
    }
}

std::string read_file(const std::string& path, bool hint_create) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int error = errno;
        std::string message = path + ": " + std::strerror(error);
        if (error == ENOENT && hint_create) {
            message += " (use -c to create it)";
        }
        fail(1, message);
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        fail(1, path + ": read error");
    }
    return text.str();
}

void write_all(int fd, const std::string& content) {
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t written = ::write(fd, content.data() + done, content.size() - done);
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::generic_category());
        }
        done += static_cast<std::size_t>(written);
    }
}

// Writes a temporary file next to `path` (mode 0600), syncs it and renames it over `path`, so
// readers such as a broker reloading on SIGHUP see the old or the new file, never a partial one.
void write_atomically(const std::string& path, const std::string& content) {
    std::string temp = path + ".tmp.XXXXXX";
    const int fd = ::mkstemp(temp.data());
    if (fd < 0) {
        fail(1, "cannot create a temporary file next to " + path + ": " + std::strerror(errno));
    }
    try {
        if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
            throw std::system_error(errno, std::generic_category());
        }
        write_all(fd, content);
        if (::fsync(fd) != 0) {
            throw std::system_error(errno, std::generic_category());
        }
        if (::close(fd) != 0) {
            ::unlink(temp.c_str());
            fail(1, "cannot write " + temp + ": " + std::strerror(errno));
        }
    } catch (const std::system_error& error) {
        ::close(fd);
        ::unlink(temp.c_str());
        fail(1, "cannot write " + temp + ": " + error.code().message());
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temp.c_str());
        fail(1, "cannot replace " + path + ": " + std::strerror(error));
    }
}

// The terminal settings to restore if a signal arrives while echo is off.
struct termios g_saved_terminal;
volatile std::sig_atomic_t g_echo_off = 0;

extern "C" void restore_terminal_and_reraise(int signal_number) {
    if (g_echo_off != 0) {
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_terminal);
    }
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
}

// Prompts on stderr and reads one line from the terminal with echo off.
std::string prompt_hidden(const char* prompt) {
    if (::tcgetattr(STDIN_FILENO, &g_saved_terminal) != 0) {
        fail(1, std::string("cannot read the terminal settings: ") + std::strerror(errno));
    }
    struct termios quiet = g_saved_terminal;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
        std::signal(signal_number, restore_terminal_and_reraise);
    }
    g_echo_off = 1;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    // The prompt comes once echo is off, so nothing typed after seeing it is shown.
    std::fputs(prompt, stderr);
    std::fflush(stderr);
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_terminal);
    g_echo_off = 0;
    if (!got) {
        fail(1, "no password entered");
    }
    return line;
}

// The password to hash: asked twice on a terminal, else the first line of standard input.
std::string obtain_password() {
    if (::isatty(STDIN_FILENO) != 0) {
        std::string password = prompt_hidden("Password: ");
        check_password(password, 1);
        if (prompt_hidden("Reenter password: ") != password) {
            fail(1, "passwords do not match");
        }
        return password;
    }
    std::string password;
    if (!std::getline(std::cin, password) && password.empty()) {
        fail(1, "no password on standard input");
    }
    if (!password.empty() && password.back() == '\r') {
        password.pop_back();
    }
    check_password(password, 1);
    return password;
}

// Parses the file as the broker would, so edits never start from (or end in) a broken file.
void check_parses(const std::string& text, const std::string& path) {
    try {
        PasswordFile::parse(text, path);
    } catch (const AuthFileError& error) {
        fail(1, error.what());
    }
}

// Adds or replaces the line of `user`, keeping every other line as it is.
std::string set_user(const std::string& text, const std::string& user, const std::string& hash) {
    std::vector<std::string> lines = split_lines(text);
    bool replaced = false;
    for (std::string& line : lines) {
        if (user_of(line) == std::string_view(user)) {
            line = user + ":" + hash;
            replaced = true;
        }
    }
    if (!replaced) {
        lines.push_back(user + ":" + hash);
    }
    return join_lines(lines);
}

std::string delete_user(const std::string& text, const std::string& user, const std::string& path) {
    std::vector<std::string> kept;
    bool found = false;
    for (std::string& line : split_lines(text)) {
        if (user_of(line) == std::string_view(user)) {
            found = true;
        } else {
            kept.push_back(std::move(line));
        }
    }
    if (!found) {
        fail(1, "user '" + user + "' not found in " + path);
    }
    return join_lines(kept);
}

// -U: hashes every plain-text "user:password" line. Lines already holding a valid hash are
// kept, so running -U twice does no harm (mosquitto_passwd would hash the hashes).
std::string upgrade_file(const std::string& text, const std::string& path, uint32_t iterations) {
    std::vector<std::string> lines = split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string_view content = trim(lines[i]);
        if (content.empty() || content.front() == '#') {
            continue;
        }
        const std::string where = path + ":" + std::to_string(i + 1) + ": ";
        const std::size_t colon = content.find(':');
        if (colon == std::string_view::npos) {
            fail(1, where + "missing ':' after user name");
        }
        const std::string user(trim(content.substr(0, colon)));
        if (user.empty()) {
            fail(1, where + "empty user name");
        }
        // Blanks around the password are dropped, as mosquitto_passwd -U does.
        const std::string password(trim(content.substr(colon + 1)));
        if (PasswordFile::is_valid_hash(password)) {
            continue;
        }
        if (password.empty()) {
            fail(1, where + "empty password");
        }
        lines[i] = user + ":" + PasswordFile::hash_password(password, iterations);
    }
    return join_lines(lines);
}

// Checks flag combinations and argument counts; throws Failure with code 2.
void check_usage(const Options& options) {
    if (options.upgrade && (options.create || options.batch || options.remove)) {
        fail(2, "-U cannot be combined with -c, -b or -D");
    }
    if (options.remove && (options.create || options.batch || options.iterations)) {
        fail(2, "-D cannot be combined with -c, -b or -I");
    }
    const std::size_t wanted = options.upgrade ? 1 : options.batch ? 3 : 2;
    const char* what = options.upgrade ? "FILE"
                       : options.batch ? "FILE, USER and PASSWORD"
                                       : "FILE and USER";
    if (options.arguments.size() != wanted) {
        fail(2, std::string("expected ") + what + ", got " +
                    std::to_string(options.arguments.size()) + " argument(s)");
    }
}

int run(const Options& options) {
    check_usage(options);
    const std::string& path = options.arguments[0];
    const uint32_t iterations = options.iterations.value_or(PasswordFile::kDefaultIterations);
    if (options.upgrade) {
        const std::string upgraded = upgrade_file(read_file(path, false), path, iterations);
        check_parses(upgraded, path);
        write_atomically(path, upgraded);
        return 0;
    }
    const std::string& user = options.arguments[1];
    check_user_name(user);
    if (options.remove) {
        const std::string text = read_file(path, false);
        check_parses(text, path);
        write_atomically(path, delete_user(text, user, path));
        return 0;
    }
    if (options.batch) {
        check_password(options.arguments[2], 2);
    }
    std::string text;
    if (!options.create) {
        text = read_file(path, true);
        check_parses(text, path);
    }
    const std::string password = options.batch ? options.arguments[2] : obtain_password();
    const std::string updated =
        set_user(text, user, PasswordFile::hash_password(password, iterations));
    check_parses(updated, path);
    write_atomically(path, updated);
    return 0;
}

void configure(CLI::App& app, Options& options) {
    app.footer(kFooter);
    app.add_flag("-c", options.create, "Create a new file (replaces an existing one)");
    app.add_flag("-b", options.batch, "Batch mode: the password is the third argument");
    app.add_flag("-D", options.remove, "Delete USER from FILE");
    app.add_flag("-U", options.upgrade,
                 "Hash the plain-text passwords of a \"user:password\" file in place");
    app.add_option("-I", options.iterations, "PBKDF2 iterations (default 101)")
        ->check(CLI::Range(1, INT_MAX))
        ->type_name("ITERATIONS");
    app.add_option("arguments", options.arguments, "FILE, then USER, then PASSWORD with -b")
        ->type_name("FILE USER [PASSWORD]");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app(std::string("Manages password files for Tern and Mosquitto.\n\n") + kSynopsis,
                 "tern-passwd");
    Options options;
    configure(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& help) {
        return app.exit(help);
    } catch (const CLI::ParseError& error) {
        std::cerr << "tern-passwd: " << error.what() << "\n" << kSynopsis;
        return 2;
    }
    try {
        return run(options);
    } catch (const Failure& failure) {
        std::cerr << "tern-passwd: " << failure.message << "\n";
        if (failure.code == 2) {
            std::cerr << kSynopsis;
        }
        return failure.code;
    } catch (const std::exception& error) {
        std::cerr << "tern-passwd: " << error.what() << "\n";
        return 1;
    }
}
