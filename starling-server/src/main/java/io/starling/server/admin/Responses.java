package io.starling.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** The responses of the admin listener: JSON bodies, errors as {@code {"error", "field"}}, raw bytes. */
final class Responses {

    /** Shared, thread-safe once configured. */
    static final ObjectMapper JSON = new ObjectMapper();
    static final String JSON_CONTENT_TYPE = "application/json";

    private Responses() {
    }

    static FullHttpResponse json(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
        return bytes(status, JSON_CONTENT_TYPE, bytes);
    }

    static FullHttpResponse ok(Object body) {
        return json(HttpResponseStatus.OK, body);
    }

    /** {@code {"error": message}} or, with a field at fault, {@code {"error": message, "field": field}}. */
    static FullHttpResponse error(HttpResponseStatus status, String message, String field) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        if (field != null) {
            m.put("field", field);
        }
        return json(status, m);
    }

    static FullHttpResponse error(ApiException e) {
        return error(e.status(), e.getMessage(), e.field());
    }

    static FullHttpResponse noContent() {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT, Unpooled.EMPTY_BUFFER);
    }

    static FullHttpResponse bytes(HttpResponseStatus status, String contentType, byte[] body) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        return res;
    }

    /** ISO-8601 of an epoch-millis time, {@code null} for a negative or zero one. */
    static String iso(long epochMillis) {
        return epochMillis <= 0 ? null : Instant.ofEpochMilli(epochMillis).toString();
    }
}
