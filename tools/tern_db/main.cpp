// tern-db: inspects, exports and imports the storage of a stopped Tern broker.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "common/exit_code.hpp"
#include "db_commands.hpp"
#include "storage/rocksdb_store.hpp"

namespace {

using namespace tern;
using tools::kExitFailure;
using tools::kExitOk;
using tools::kExitUsage;

constexpr const char* kSynopsis =
    "tern-db [-d DIR] {retained [--json] | sessions | queues | dump |\n"
    "        export-retained FILE | import-retained FILE}";

constexpr const char* kFooter =
    R"(Read commands open the database read-only and change nothing. The broker must be
stopped: tern-db refuses a data directory whose lock another process holds.

export-retained / import-retained use JSON lines, one retained message per line:
  {"topic":"a/b","payload":"21.5","qos":1,"retain":true,"properties":{...}}
A payload that is not UTF-8 text is base64 with "encoding":"base64". "expires_at" is Unix
milliseconds; on import, properties.message_expiry_interval (seconds from now) works too.
Binary properties (correlation_data, authentication_data) are base64; user_properties is an
array of [key, value] pairs. Importing an empty payload removes that topic's message. FILE
may be "-" for stdout / stdin.

Exit status:
  0   success
  1   the database cannot be opened or read, the broker is running, or bad import data
  2   bad command line)";

struct Flags {
    std::string data_dir = "data";
    bool json = false;
    std::string file;
};

// The broker holds the lock while it runs; reading under it is unreliable, writing unsafe.
bool broker_running(const std::string& data_dir) {
    if (std::optional<long> holder = storage::rocksdb_lock_holder(data_dir)) {
        std::cerr << "tern-db: the broker is running: process " << *holder << " holds the lock on "
                  << data_dir << "/LOCK; stop it first\n";
        return true;
    }
    return false;
}

std::unique_ptr<storage::RocksDbStore> open_store(const std::string& data_dir,
                                                  storage::RocksDbStore::Mode mode) {
    storage::StorageSettings settings;
    settings.data_dir = data_dir;
    settings.durability = storage::Durability::Async;
    return storage::RocksDbStore::open(settings, mode);
}

int export_to(const storage::RocksDbStore& store, const std::string& file) {
    uint64_t count = 0;
    if (file == "-") {
        count = tools::db::export_retained(store, std::cout);
        std::cout.flush();
    } else {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        if (!out) {
            std::cerr << "tern-db: cannot write " << file << '\n';
            return kExitFailure;
        }
        count = tools::db::export_retained(store, out);
        out.close();
        if (!out) {
            std::cerr << "tern-db: cannot write " << file << '\n';
            return kExitFailure;
        }
    }
    std::cerr << "exported " << count << " retained message" << (count == 1 ? "" : "s") << '\n';
    return kExitOk;
}

int import_from(const std::string& data_dir, const std::string& file) {
    std::ifstream opened;
    if (file != "-") {
        opened.open(file, std::ios::binary);
        if (!opened) {
            std::cerr << "tern-db: cannot read " << file << '\n';
            return kExitFailure;
        }
    }
    std::istream& in = file == "-" ? std::cin : opened;
    auto store = open_store(data_dir, storage::RocksDbStore::Mode::ReadWrite);
    tools::db::ImportResult result =
        tools::db::import_retained(*store, in, file == "-" ? "stdin" : file);
    std::cerr << "imported " << result.stored << " retained message"
              << (result.stored == 1 ? "" : "s") << ", cleared " << result.cleared << '\n';
    return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Inspects, exports and imports the storage of a stopped Tern broker.", "tern-db"};
    app.footer(kFooter);
    Flags flags;
    app.add_option("-d,--data-dir", flags.data_dir, "The broker's data directory (default: data)")
        ->option_text("DIR");
    app.require_subcommand(1);
    CLI::App* retained = app.add_subcommand("retained", "List the retained messages");
    retained->add_flag("--json", flags.json, "One JSON object per line (the export format)");
    CLI::App* sessions = app.add_subcommand("sessions", "List the sessions, subscriptions, wills");
    CLI::App* queues = app.add_subcommand("queues", "Queue depth per session");
    CLI::App* dump = app.add_subcommand("dump", "Print every record, human readable");
    CLI::App* exporter =
        app.add_subcommand("export-retained", "Write the retained messages as JSON lines");
    exporter->add_option("FILE", flags.file, "Output file, - for stdout")->required();
    CLI::App* importer =
        app.add_subcommand("import-retained", "Store retained messages read from JSON lines");
    importer->add_option("FILE", flags.file, "Input file, - for stdin")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        if (error.get_exit_code() == 0) {
            return app.exit(error);  // --help
        }
        std::cerr << "tern-db: " << error.what() << "\nusage: " << kSynopsis
                  << "\nRun tern-db --help for more.\n";
        return kExitUsage;
    }

    try {
        if (broker_running(flags.data_dir)) {
            return kExitFailure;
        }
        if (importer->parsed()) {
            return import_from(flags.data_dir, flags.file);
        }
        auto store = open_store(flags.data_dir, storage::RocksDbStore::Mode::ReadOnly);
        if (retained->parsed()) {
            tools::db::print_retained(*store, flags.json, std::cout);
        } else if (sessions->parsed()) {
            tools::db::print_sessions(*store, std::cout);
        } else if (queues->parsed()) {
            tools::db::print_queues(*store, std::cout);
        } else if (dump->parsed()) {
            tools::db::print_dump(*store, std::cout);
        } else if (exporter->parsed()) {
            return export_to(*store, flags.file);
        }
        std::cout.flush();
        return std::cout ? kExitOk : kExitFailure;
    } catch (const std::exception& error) {
        std::cerr << "tern-db: " << error.what() << '\n';
        return kExitFailure;
    }
}
