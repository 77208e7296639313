package io.starling.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.starling.broker.Broker;
import io.starling.broker.acl.Acl;
import io.starling.broker.message.Message;
import io.starling.broker.routing.PublishOutcome;
import io.starling.broker.topic.Topics;
import io.starling.codec.Properties;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code POST /api/v1/publish}: publishes a message as the broker's operator, through the broker's routing (as a
 * client's PUBLISH, retained messages included, but under no client's ACL), answered once it is routed and, for QoS
 * 1/2 or retained messages, once it is as durable as the configuration promises. Each bad field is answered 400
 * naming it (nested ones as {@code properties.name}).
 */
final class PublishApi {

    private static final Set<String> FIELDS = Set.of("topic", "payload", "payloadEncoding", "qos", "retain",
            "properties");
    private static final Set<String> PROPERTY_FIELDS = Set.of("contentType", "responseTopic", "correlationData",
            "messageExpiryInterval", "payloadFormatIndicator", "userProperties");

    private final Supplier<AdminContext> ctx;

    PublishApi(Supplier<AdminContext> ctx) {
        this.ctx = ctx;
    }

    void register(AdminRouter router) {
        router.api(HttpMethod.POST, "/api/v1/publish", this::publish);
    }

    CompletionStage<FullHttpResponse> publish(AdminRequest req) {
        Broker broker = ctx.get().broker();
        ObjectNode body = req.jsonObject(FIELDS);
        String topic = text(body, "topic", null);
        if (topic == null || topic.isEmpty()) {
            throw ApiException.badRequest("topic", "topic is required");
        }
        if (!Topics.isValidName(topic)) {
            throw ApiException.badRequest("topic", "topic must be a valid topic name, without wildcards");
        }
        if (Acl.isSystemTopic(topic)) {
            throw ApiException.badRequest("topic", "$SYS topics are the broker's own");
        }
        String tooBig = broker.topicLimits().violation(topic);
        if (tooBig != null) {
            throw ApiException.badRequest("topic", "topic " + tooBig);
        }
        String encoding = text(body, "payloadEncoding", "utf8");
        String payloadText = text(body, "payload", "");
        byte[] payload;
        switch (encoding) {
            case "utf8" -> payload = payloadText.getBytes(StandardCharsets.UTF_8);
            case "base64" -> {
                try {
                    payload = Base64.getDecoder().decode(payloadText);
                } catch (IllegalArgumentException e) {
                    throw ApiException.badRequest("payload", "payload is not valid Base64");
                }
            }
            default -> throw ApiException.badRequest("payloadEncoding", "payloadEncoding must be utf8 or base64");
        }
        int qos = (int) integer(body, "qos", 0, 0, 2);
        if (qos > broker.config().maximumQos()) {
            throw ApiException.badRequest("qos", "qos above the broker's maximum-qos " + broker.config().maximumQos());
        }
        boolean retain = bool(body, "retain", false);
        if (retain && !broker.config().retainAvailable()) {
            throw ApiException.badRequest("retain", "retained messages are not available on this broker");
        }
        Properties props = properties(body.get("properties"), payload);
        Message m = Message.published(topic, qos, retain, payload, props, null, broker.clock().millis());
        return broker.publishAsOperator(m).orTimeout(ClientsApi.TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .thenApply(outcome -> {
                    if (outcome == PublishOutcome.RETAIN_REFUSED) {
                        return Responses.error(HttpResponseStatus.CONFLICT, "the retained-message limits"
                                + " (max-retained-messages, max-retained-bytes) refuse it; not published", "retain");
                    }
                    Map<String, Object> o = new LinkedHashMap<>();
                    o.put("topic", topic);
                    o.put("qos", qos);
                    o.put("retain", retain);
                    o.put("payloadBytes", payload.length);
                    o.put("matched", outcome == PublishOutcome.MATCHED);
                    return Responses.ok(o);
                });
    }

    private static Properties properties(JsonNode n, byte[] payload) {
        if (n == null || n.isNull()) {
            return Properties.EMPTY;
        }
        if (!(n instanceof ObjectNode p)) {
            throw ApiException.badRequest("properties", "properties must be an object");
        }
        for (var it = p.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!PROPERTY_FIELDS.contains(f)) {
                throw ApiException.badRequest("properties." + f, "unknown property " + f);
            }
        }
        Properties.Builder b = Properties.builder();
        String contentType = text(p, "contentType", null, "properties.");
        if (contentType != null) {
            b.contentType(contentType);
        }
        String responseTopic = text(p, "responseTopic", null, "properties.");
        if (responseTopic != null) {
            if (!Topics.isValidName(responseTopic)) {
                throw ApiException.badRequest("properties.responseTopic", "responseTopic must be a valid topic name");
            }
            b.responseTopic(responseTopic);
        }
        String correlation = text(p, "correlationData", null, "properties.");
        if (correlation != null) {
            try {
                b.correlationData(Base64.getDecoder().decode(correlation));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("properties.correlationData", "correlationData must be Base64");
            }
        }
        if (p.has("messageExpiryInterval") && !p.get("messageExpiryInterval").isNull()) {
            b.messageExpiryInterval(integer(p, "messageExpiryInterval", 0, 0, 0xFFFF_FFFFL, "properties."));
        }
        if (p.has("payloadFormatIndicator") && !p.get("payloadFormatIndicator").isNull()) {
            boolean utf8 = bool(p, "payloadFormatIndicator", false, "properties.");
            if (utf8 && RetainedApi.utf8(payload) == null) {
                throw ApiException.badRequest("payload", "payloadFormatIndicator is true but the payload is not UTF-8");
            }
            b.payloadFormatIndicator(utf8 ? 1 : 0);
        }
        JsonNode users = p.get("userProperties");
        if (users != null && !users.isNull()) {
            if (!users.isArray()) {
                throw ApiException.badRequest("properties.userProperties", "userProperties must be an array");
            }
            for (JsonNode u : users) {
                JsonNode k = u.get("key");
                JsonNode v = u.get("value");
                if (!u.isObject() || k == null || !k.isTextual() || v == null || !v.isTextual()) {
                    throw ApiException.badRequest("properties.userProperties",
                            "each user property must be {\"key\": string, \"value\": string}");
                }
                b.addUserProperty(k.asText(), v.asText());
            }
        }
        return b.build();
    }

    private static String text(JsonNode o, String name, String dflt) {
        return text(o, name, dflt, "");
    }

    private static String text(JsonNode o, String name, String dflt, String prefix) {
        JsonNode v = o.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest(prefix + name, name + " must be a string");
        }
        return v.asText();
    }

    private static long integer(JsonNode o, String name, long dflt, long min, long max) {
        return integer(o, name, dflt, min, max, "");
    }

    private static long integer(JsonNode o, String name, long dflt, long min, long max, String prefix) {
        JsonNode v = o.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
            throw ApiException.badRequest(prefix + name, name + " must be an integer " + min + ".." + max);
        }
        return v.asLong();
    }

    private static boolean bool(JsonNode o, String name, boolean dflt) {
        return bool(o, name, dflt, "");
    }

    private static boolean bool(JsonNode o, String name, boolean dflt, String prefix) {
        JsonNode v = o.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw ApiException.badRequest(prefix + name, name + " must be true or false");
        }
        return v.asBoolean();
    }
}
