// The dashboard's files compiled into the binary (bridge/web, embedded by
// bridge/web/embed_assets.cmake), and how GET / and GET /assets/... answer them.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "http_response.hpp"
#include "request_auth.hpp"

namespace tern::bridge {

class HttpConnection;

struct StaticAsset {
    std::string_view path;          // "/index.html", "/assets/main-ABCD1234.js"
    std::string_view content_type;  // "text/javascript; charset=utf-8", ...
    std::string_view etag;          // strong validator, quoted: "\"<sha256 prefix>\""
    std::string_view body;
    bool immutable = false;  // a content-hashed name: browsers may keep it for good
};

// Every embedded file, sorted by path (defined in the generated dashboard_assets.cpp). Empty
// when the build had -DTERN_BUILD_DASHBOARD=OFF.
std::span<const StaticAsset> dashboard_assets() noexcept;

// The file at `path` in `assets` (sorted by path), null when there is none.
const StaticAsset* find_asset(std::span<const StaticAsset> assets, std::string_view path) noexcept;

// Whether an If-None-Match field value matches `etag`: "*", or one of a comma-separated list of
// entity tags under the weak comparison (RFC 9110 §13.1.2: W/ prefixes are ignored).
bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept;

// The answer to a GET of `asset`: 200 with the body, or 304 Not Modified without it when
// `if_none_match` (may be null) matches its ETag. Both carry ETag and Cache-Control.
HttpResponse asset_response(const StaticAsset& asset, const std::string* if_none_match);

namespace handlers {

// GET|HEAD /: the dashboard page (404 when it was not built).
void dashboard(HttpConnection& connection, const HttpRequest& request, const Identity& who);
// GET|HEAD /assets/...: the page's scripts and styles (404 for a name that is not embedded).
void asset(HttpConnection& connection, const HttpRequest& request, const Identity& who);

}  // namespace handlers

}  // namespace tern::bridge
