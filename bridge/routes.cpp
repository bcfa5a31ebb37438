// Request routing: origin check and CORS, method and path, authentication, then the handler.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "bridge.hpp"
#include "handlers.hpp"
#include "net/broker.hpp"

namespace tern::bridge {

namespace {

using Handler = void (*)(HttpConnection&, const HttpRequest&, const Identity&);

struct Route {
    std::string_view path;
    std::string_view method;
    Handler handler;
    bool authenticated;  // /healthz answers load balancers without credentials
};

constexpr std::array kRoutes{
    Route{"/healthz", "GET", &handlers::healthz, false},
    Route{"/metrics", "GET", &handlers::metrics, true},
    Route{"/events", "GET", &handlers::events, true},
    Route{"/api/retained", "GET", &handlers::retained, true},
    Route{"/api/presence", "GET", &handlers::presence, true},
    Route{"/api/publish", "POST", &handlers::publish, true},
};

// WebSocket endpoints, served once the WebSocket handler exists.
constexpr std::array<std::string_view, 2> kWebSocketPaths{"/ws", "/mqtt"};

bool is_websocket_upgrade(const HttpRequest& request) {
    const std::string* upgrade = request.header("upgrade");
    if (!request.upgrade || upgrade == nullptr) {
        return false;
    }
    std::string value = *upgrade;
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return value == "websocket";
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

    const auto path_matches = [&](const Route& route) { return route.path == request.path; };
    const auto route = std::find_if(kRoutes.begin(), kRoutes.end(), path_matches);
    if (route == kRoutes.end()) {
        if (std::find(kWebSocketPaths.begin(), kWebSocketPaths.end(), request.path) !=
            kWebSocketPaths.end()) {
            if (!is_websocket_upgrade(request)) {
                HttpResponse response =
                    json_error(426, "upgrade_required", request.path + " is a WebSocket endpoint");
                response.headers.emplace_back("Upgrade", "websocket");
                return connection.respond(std::move(response));
            }
            // The client would speak WebSocket next: answer, then close.
            return connection.respond_and_close(json_error(
                501, "not_implemented", "WebSocket is not available on this server yet"));
        }
        return connection.respond(
            json_error(404, "not_found", "no endpoint at '" + request.path + "'"));
    }
    if (request.method == "OPTIONS") {
        HttpResponse response = preflight(request);
        response.headers.emplace_back("Allow", std::string(route->method) + ", OPTIONS");
        return connection.respond(std::move(response));
    }
    if (request.method != route->method) {
        HttpResponse response = json_error(405, "method_not_allowed",
                                           request.method + " is not allowed on " + request.path +
                                               " (use " + std::string(route->method) + ")");
        response.headers.emplace_back("Allow", std::string(route->method) + ", OPTIONS");
        return connection.respond(std::move(response));
    }
    Identity who;
    if (route->authenticated) {
        const auto passwords = _broker.passwords();
        AuthResult auth =
            authenticate(request, passwords.get(), _broker.settings().auth.allow_anonymous);
        if (!auth.ok) {
            if (auth.slow) {
                _stats.auth_failures.fetch_add(1, std::memory_order_relaxed);
                // The password is never logged; the user name is.
                spdlog::warn("bridge: client {}: authentication failed: {}", connection.peer(),
                             auth.message);
                return connection.respond_later(unauthorized(auth.message), 1000);
            }
            return connection.respond(unauthorized(auth.message));
        }
        who = std::move(auth.identity);
    }
    route->handler(connection, request, who);
}

}  // namespace tern::bridge
