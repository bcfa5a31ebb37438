// Tests of tern-pub payload sources.
#include "message_source.hpp"

#include <doctest/doctest.h>

#include <sstream>

#include "common/tool_error.hpp"

using namespace tern::tools;

TEST_CASE("line mode yields each line without its newline") {
    std::istringstream in("first\n\nthird\r\nlast");
    MessageSource source = MessageSource::lines(in);
    CHECK(source.next() == "first");
    CHECK(source.next() == "");
    CHECK(source.next() == "third\r");
    CHECK(source.next() == "last");
    CHECK_FALSE(source.next().has_value());
}

TEST_CASE("a trailing newline does not add an empty message") {
    std::istringstream in("a\nb\n");
    MessageSource source = MessageSource::lines(in);
    CHECK(source.next() == "a");
    CHECK(source.next() == "b");
    CHECK_FALSE(source.next().has_value());
}

TEST_CASE("a repeated payload comes exactly count times") {
    MessageSource source = MessageSource::repeated("x", 3);
    CHECK(source.next() == "x");
    CHECK(source.next() == "x");
    CHECK(source.next() == "x");
    CHECK_FALSE(source.next().has_value());
}

TEST_CASE("read_all keeps every byte") {
    std::string bytes("a\0\xff\n", 4);
    std::istringstream in(bytes);
    CHECK(read_all(in) == bytes);
}

TEST_CASE("read_file names the file and the error") {
    CHECK_THROWS_WITH_AS(read_file("/nonexistent/x"),
                         "cannot read '/nonexistent/x': No such file or directory", ToolError);
    CHECK_THROWS_WITH_AS(read_file("/"), "cannot read '/': Is a directory", ToolError);
}
