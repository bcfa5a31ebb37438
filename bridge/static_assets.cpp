// Serving the embedded dashboard: lookup, conditional requests (ETag / If-None-Match) and caching.
#include "static_assets.hpp"

#include <algorithm>

#include "http_connection.hpp"

namespace tern::bridge {

namespace {

// The page loads only its own scripts and styles and talks only to this server.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' "
    "'unsafe-inline'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'";

// Hashed names never change content; index.html is revalidated each time (cheap with the ETag).
constexpr std::string_view kCacheImmutable = "max-age=31536000, immutable";
constexpr std::string_view kCacheRevalidate = "no-cache";

std::string_view trim(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

std::string_view without_weak_prefix(std::string_view tag) noexcept {
    return tag.starts_with("W/") ? tag.substr(2) : tag;
}

HttpResponse not_built() {
    return json_error(404, "not_found",
                      "the dashboard was not built into this server "
                      "(configure with -DTERN_BUILD_DASHBOARD=ON, which needs node and npm)");
}

void answer(HttpConnection& connection, const HttpRequest& request, std::string_view path) {
    const auto assets = dashboard_assets();
    if (assets.empty()) {
        return connection.respond(not_built());
    }
    const StaticAsset* asset = find_asset(assets, path);
    if (asset == nullptr) {
        return connection.respond(
            json_error(404, "not_found", "no dashboard file at '" + request.path + "'"));
    }
    connection.respond(asset_response(*asset, request.header("if-none-match")));
}

}  // namespace

const StaticAsset* find_asset(std::span<const StaticAsset> assets, std::string_view path) noexcept {
    const auto it = std::lower_bound(
        assets.begin(), assets.end(), path,
        [](const StaticAsset& asset, std::string_view key) { return asset.path < key; });
    return it != assets.end() && it->path == path ? &*it : nullptr;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept {
    const std::string_view wanted = without_weak_prefix(etag);
    while (!if_none_match.empty()) {
        const std::size_t comma = if_none_match.find(',');
        const std::string_view item = trim(if_none_match.substr(0, comma));
        if (item == "*" || (!item.empty() && without_weak_prefix(item) == wanted)) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        if_none_match.remove_prefix(comma + 1);
    }
    return false;
}

HttpResponse asset_response(const StaticAsset& asset, const std::string* if_none_match) {
    HttpResponse response;
    response.headers.emplace_back("ETag", std::string(asset.etag));
    response.headers.emplace_back(
        "Cache-Control", std::string(asset.immutable ? kCacheImmutable : kCacheRevalidate));
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    if (asset.content_type.starts_with("text/html")) {
        response.headers.emplace_back("Content-Security-Policy",
                                      std::string(kContentSecurityPolicy));
    }
    // RFC 9110 §13.1.2: If-None-Match uses the weak comparison; on a match GET and HEAD get 304.
    if (if_none_match != nullptr && etag_matches(*if_none_match, asset.etag)) {
        response.status = 304;
        response.content_type.clear();
        return response;
    }
    response.content_type = std::string(asset.content_type);
    response.body = std::string(asset.body);
    return response;
}

namespace handlers {

void dashboard(HttpConnection& connection, const HttpRequest& request, const Identity&) {
    answer(connection, request, "/index.html");
}

void asset(HttpConnection& connection, const HttpRequest& request, const Identity&) {
    answer(connection, request, request.path);
}

}  // namespace handlers

}  // namespace tern::bridge
