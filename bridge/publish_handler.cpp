// POST /api/publish: a JSON body checked like an MQTT PUBLISH, published through Broker::publish on
// the connection's loop; QoS 1/2 answer once the writes it caused are durable.
#include "bridge.hpp"
#include "envelope.hpp"
#include "handlers.hpp"
#include "loop_context.hpp"
#include "publish_request.hpp"

namespace tern::bridge {

namespace handlers {

void publish(HttpConnection& connection, const HttpRequest& request, const Identity& who) {
    Bridge& bridge = connection.bridge();
    const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded()) {
        return connection.respond(json_error(400, "bad_request", "the body is not valid JSON"));
    }
    PublishRequest parsed = read_publish(body);
    if (auto refusal = check_publish(bridge, who, parsed)) {
        return connection.respond(
            json_error(refusal->status, error_code_for(refusal->status), refusal->message));
    }
    LoopContext* context = &connection.context();
    publish_request(bridge, connection.loop(), std::move(parsed),
                    [context, id = connection.id()](const PublishResult& result) {
                        nlohmann::ordered_json answer;
                        answer["ok"] = true;
                        if (!result.position.empty()) {
                            answer["id"] = result.position;
                        }
                        answer["receivers"] = result.receivers;
                        if (HttpConnection* target = context->find(id)) {
                            target->respond(json_response(dump_json(answer)));
                        }
                    });
}

}  // namespace handlers

}  // namespace tern::bridge
