// The embedded dashboard: lookup, ETag matching (RFC 9110 §13.1.2), 200/304 answers and caching.
#include "static_assets.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string>

using tern::bridge::asset_response;
using tern::bridge::dashboard_assets;
using tern::bridge::etag_matches;
using tern::bridge::find_asset;
using tern::bridge::HttpResponse;
using tern::bridge::StaticAsset;

namespace {

constexpr std::array kAssets{
    StaticAsset{"/assets/app-1.js", "text/javascript; charset=utf-8", "\"js1\"", "let a=1;", true},
    StaticAsset{"/assets/app-2.css", "text/css; charset=utf-8", "\"css2\"", "a{}", true},
    StaticAsset{"/index.html", "text/html; charset=utf-8", "\"html\"", "<!doctype html>", false},
};

const std::string* header(const HttpResponse& response, std::string_view name) {
    for (const auto& [key, value] : response.headers) {
        if (key == name) {
            return &value;
        }
    }
    return nullptr;
}

}  // namespace

TEST_CASE("An asset is found by its exact path only") {
    REQUIRE(find_asset(kAssets, "/index.html") == &kAssets[2]);
    REQUIRE(find_asset(kAssets, "/assets/app-1.js") == &kAssets[0]);
    CHECK(find_asset(kAssets, "/assets/app-1") == nullptr);
    CHECK(find_asset(kAssets, "/assets/") == nullptr);
    CHECK(find_asset(kAssets, "/") == nullptr);
    CHECK(find_asset(kAssets, "/index.htm") == nullptr);
    CHECK(find_asset({}, "/index.html") == nullptr);
}

TEST_CASE("If-None-Match matches a listed tag, a weak form of it, or *") {
    CHECK(etag_matches("\"js1\"", "\"js1\""));
    CHECK(etag_matches("W/\"js1\"", "\"js1\""));
    CHECK(etag_matches("\"x\", \"js1\"", "\"js1\""));
    CHECK(etag_matches("\"x\",W/\"js1\" ", "\"js1\""));
    CHECK(etag_matches("*", "\"js1\""));
    CHECK_FALSE(etag_matches("\"js2\"", "\"js1\""));
    CHECK_FALSE(etag_matches("js1", "\"js1\""));
    CHECK_FALSE(etag_matches("\"js1", "\"js1\""));
    CHECK_FALSE(etag_matches("", "\"js1\""));
    CHECK_FALSE(etag_matches(" , ", "\"js1\""));
}

TEST_CASE("A hashed asset is answered with its bytes, type, ETag and a long cache lifetime") {
    const HttpResponse response = asset_response(kAssets[0], nullptr);
    CHECK(response.status == 200);
    CHECK(response.content_type == "text/javascript; charset=utf-8");
    CHECK(response.body == "let a=1;");
    REQUIRE(header(response, "ETag") != nullptr);
    CHECK(*header(response, "ETag") == "\"js1\"");
    REQUIRE(header(response, "Cache-Control") != nullptr);
    CHECK(*header(response, "Cache-Control") == "max-age=31536000, immutable");
    CHECK(*header(response, "X-Content-Type-Options") == "nosniff");
    CHECK(header(response, "Content-Security-Policy") == nullptr);
}

TEST_CASE("The page is revalidated every time and carries a content security policy") {
    const HttpResponse response = asset_response(kAssets[2], nullptr);
    CHECK(response.status == 200);
    CHECK(response.body == "<!doctype html>");
    CHECK(*header(response, "Cache-Control") == "no-cache");
    REQUIRE(header(response, "Content-Security-Policy") != nullptr);
    CHECK(header(response, "Content-Security-Policy")->starts_with("default-src 'self';"));
}

TEST_CASE("A matching If-None-Match gets 304 without a body, a stale one the file") {
    const std::string current = "\"html\"";
    const HttpResponse fresh = asset_response(kAssets[2], &current);
    CHECK(fresh.status == 304);
    CHECK(fresh.body.empty());
    CHECK(fresh.content_type.empty());
    CHECK(*header(fresh, "ETag") == "\"html\"");
    CHECK(*header(fresh, "Cache-Control") == "no-cache");

    const std::string stale = "\"old\"";
    const HttpResponse changed = asset_response(kAssets[2], &stale);
    CHECK(changed.status == 200);
    CHECK(changed.body == "<!doctype html>");
}

TEST_CASE("The embedded table is sorted, typed and tagged (or empty without the dashboard)") {
    const auto assets = dashboard_assets();
    for (std::size_t i = 0; i < assets.size(); ++i) {
        CAPTURE(assets[i].path);
        if (i > 0) {
            CHECK(assets[i - 1].path < assets[i].path);
        }
        CHECK(find_asset(assets, assets[i].path) == &assets[i]);
        CHECK(assets[i].etag.size() == 34);  // '"' + 32 hex digits + '"'
        CHECK(assets[i].etag.front() == '"');
        CHECK(assets[i].etag.back() == '"');
        CHECK_FALSE(assets[i].content_type.empty());
        CHECK(assets[i].immutable == assets[i].path.starts_with("/assets/"));
    }
    if (!assets.empty()) {
        const StaticAsset* page = find_asset(assets, "/index.html");
        REQUIRE(page != nullptr);
        CHECK(page->content_type == "text/html; charset=utf-8");
        CHECK(page->body.find("<title>Tern dashboard</title>") != std::string_view::npos);
    }
}
