// Request routing: origin check and CORS, method and path, authentication, then the handler.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "bridge.hpp"
#include "handlers.hpp"
#include "history_handler.hpp"
#include "net/broker.hpp"
#include "static_assets.hpp"

namespace tern::bridge {

namespace {

using Handler = void (*)(HttpConnection&, const HttpRequest&, const Identity&);

struct Route {
    std::string_view path;    // a trailing '*' matches any rest ("/assets/*")
    std::string_view method;  // or methods: "GET, HEAD"
    Handler handler;
    bool authenticated;  // /healthz answers load balancers without credentials
};

constexpr std::array kRoutes{
    Route{"/healthz", "GET", &handlers::healthz, false},
    Route{"/metrics", "GET", &handlers::metrics, true},
    Route{"/events", "GET", &handlers::events, true},
    Route{"/ws", "GET", &handlers::ws, true},
    // MQTT clients authenticate in CONNECT, as on the TCP listeners.
    Route{"/mqtt", "GET", &handlers::mqtt, false},
    Route{"/api/retained", "GET", &handlers::retained, true},
    Route{"/api/presence", "GET", &handlers::presence, true},
    Route{"/api/publish", "POST", &handlers::publish, true},
    Route{"/api/history", "GET", &handlers::history, true},
    // The dashboard asks for the same credentials as the API: a browser then prompts for Basic
    // credentials once and sends them (or its token cookie) with every later request.
    Route{"/", "GET, HEAD", &handlers::dashboard, true},
    Route{"/assets/*", "GET, HEAD", &handlers::asset, true},
};

bool path_matches(std::string_view pattern, std::string_view path) {
    if (pattern.ends_with('*')) {
        pattern.remove_suffix(1);
        return path.starts_with(pattern);
    }
    return pattern == path;
}

// Whether `method` is one of `allowed` ("GET" or "GET, HEAD").
bool method_allowed(std::string_view allowed, std::string_view method) {
    while (!allowed.empty()) {
        const std::size_t comma = allowed.find(", ");
        if (allowed.substr(0, comma) == method) {
            return true;
        }
        allowed = comma == std::string_view::npos ? std::string_view{} : allowed.substr(comma + 2);
    }
    return false;
}

HttpResponse preflight(const HttpRequest& request) {
    HttpResponse response;
    response.status = 204;
    response.content_type.clear();
    response.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    const std::string* asked = request.header("access-control-request-headers");
    response.headers.emplace_back(
        "Access-Control-Allow-Headers",
        asked != nullptr ? *asked : "Authorization, Content-Type, Last-Event-ID");
    response.headers.emplace_back("Access-Control-Max-Age", "600");
    return response;
}

}  // namespace

void Bridge::dispatch(HttpConnection& connection, HttpRequest& request) {
    const OriginCheck origin = check_origin(request, _settings.allowed_origins);
    if (origin == OriginCheck::Denied) {
        // A page from another site must not read or change anything (CORS, and CSRF for POST).
        return connection.respond(json_error(
            403, "origin_not_allowed",
            "origin '" + *request.header("origin") + "' is not in bridge.allowed_origins"));
    }
    connection.set_response_headers(cors_headers(request, origin));

    const auto route = std::find_if(kRoutes.begin(), kRoutes.end(), [&](const Route& candidate) {
        return path_matches(candidate.path, request.path);
    });
    if (route == kRoutes.end()) {
        return connection.respond(
            json_error(404, "not_found", "no endpoint at '" + request.path + "'"));
    }
    if (request.method == "OPTIONS") {
        HttpResponse response = preflight(request);
        response.headers.emplace_back("Allow", std::string(route->method) + ", OPTIONS");
        return connection.respond(std::move(response));
    }
    if (!method_allowed(route->method, request.method)) {
        HttpResponse response = json_error(405, "method_not_allowed",
                                           request.method + " is not allowed on " + request.path +
                                               " (use " + std::string(route->method) + ")");
        response.headers.emplace_back("Allow", std::string(route->method) + ", OPTIONS");
        return connection.respond(std::move(response));
    }
    Identity who;
    if (route->authenticated && !authenticate_request(*this, connection, request, who)) {
        return;  // answered 401
    }
    route->handler(connection, request, who);
}

}  // namespace tern::bridge
