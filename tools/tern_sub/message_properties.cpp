// Walks Paho's C property array, since repeated properties (user properties, subscription
// identifiers) are easiest to read in order that way.
#include "message_properties.hpp"

namespace tern::tools {
namespace {

std::string to_string(const MQTTLenString& text) {
    if (text.data == nullptr || text.len <= 0) {
        return {};
    }
    return std::string(text.data, static_cast<size_t>(text.len));
}

}  // namespace

bool MessageProperties::empty() const {
    return !payload_format_indicator && !message_expiry_interval && !content_type &&
           !response_topic && !correlation_data && !topic_alias && user_properties.empty() &&
           subscription_identifiers.empty();
}

MessageProperties read_message_properties(const mqtt::properties& properties) {
    MessageProperties out;
    const MQTTProperties& list = properties.c_struct();
    for (int i = 0; i < list.count; ++i) {
        const MQTTProperty& property = list.array[i];
        switch (property.identifier) {
            case MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR:
                out.payload_format_indicator = property.value.byte;
                break;
            case MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL:
                out.message_expiry_interval = property.value.integer4;
                break;
            case MQTTPROPERTY_CODE_CONTENT_TYPE:
                out.content_type = to_string(property.value.data);
                break;
            case MQTTPROPERTY_CODE_RESPONSE_TOPIC:
                out.response_topic = to_string(property.value.data);
                break;
            case MQTTPROPERTY_CODE_CORRELATION_DATA:
                out.correlation_data = to_string(property.value.data);
                break;
            case MQTTPROPERTY_CODE_TOPIC_ALIAS:
                out.topic_alias = property.value.integer2;
                break;
            case MQTTPROPERTY_CODE_USER_PROPERTY:
                out.user_properties.emplace_back(to_string(property.value.data),
                                                 to_string(property.value.value));
                break;
            case MQTTPROPERTY_CODE_SUBSCRIPTION_IDENTIFIER:
                out.subscription_identifiers.push_back(property.value.integer4);
                break;
            default:
                break;
        }
    }
    return out;
}

}  // namespace tern::tools
