package io.starling.server.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.starling.broker.Broker;
import io.starling.broker.acl.Acl;
import io.starling.broker.message.Message;
import io.starling.broker.retain.RetainedStore;
import io.starling.broker.topic.Topics;
import io.starling.codec.Properties;
import io.starling.codec.UserProperty;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code GET /api/v1/retained} (by MQTT topic filter, matched by the retained store's own walk, sorted by topic),
 * {@code GET /api/v1/retained/message?topic=} and {@code DELETE /api/v1/retained/message?topic=}. Topics starting with
 * {@code $SYS} are read from the broker's own retained messages.
 *
 * <p>Threads: the walk takes no lock; payloads a durable store keeps on disk are read by the store's reading thread,
 * and the answer is sent when they are in.
 */
final class RetainedApi {

    /** Most retained messages one list request looks at. */
    static final int MAX_SCAN = 100_000;

    private final Supplier<AdminContext> ctx;

    RetainedApi(Supplier<AdminContext> ctx) {
        this.ctx = ctx;
    }

    void register(AdminRouter router) {
        router.api(HttpMethod.GET, "/api/v1/retained", this::list)
                .api(HttpMethod.GET, "/api/v1/retained/message", this::read)
                .api(HttpMethod.DELETE, "/api/v1/retained/message", this::delete);
    }

    private static RetainedStore storeFor(Broker b, String filterOrTopic) {
        return Acl.isSystemTopic(filterOrTopic) ? b.systemRetained() : b.retained();
    }

    CompletionStage<FullHttpResponse> list(AdminRequest req) {
        Paging paging = Paging.of(req);
        String filter = req.param("filter");
        if (filter == null || filter.isEmpty()) {
            filter = "#";
        }
        if (!Topics.isValidFilter(filter) || Topics.isShared(filter)) {
            throw ApiException.badRequest("filter", "filter must be a valid MQTT topic filter (not a shared one)");
        }
        RetainedStore store = storeFor(ctx.get().broker(), filter);
        List<RetainedStore.Hit> hits = walk(store, filter, MAX_SCAN);
        hits.sort(Comparator.comparing(RetainedStore.Hit::topic));
        List<RetainedStore.Hit> page = new ArrayList<>(paging.slice(hits));
        return read(store, page).thenApply(v -> {
            List<Map<String, Object>> items = new ArrayList<>(page.size());
            for (RetainedStore.Hit h : page) {
                Message m = h.message();
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("topic", h.topic());
                e.put("qos", m == null ? null : m.qos());
                e.put("payloadBytes", m == null ? h.size() - h.topic().length() : m.payload().length);
                e.put("storedAt", null);
                items.add(e);
            }
            return Responses.ok(paging.page(hits.size(), items));
        });
    }

    CompletionStage<FullHttpResponse> read(AdminRequest req) {
        String topic = topic(req);
        return find(topic).thenApply(m -> {
            if (m == null) {
                return Responses.error(ApiException.notFound("no retained message on '" + topic + "'"));
            }
            return Responses.ok(message(m));
        });
    }

    CompletionStage<FullHttpResponse> delete(AdminRequest req) {
        String topic = topic(req);
        Broker broker = ctx.get().broker();
        return find(topic).thenCompose(m -> {
            if (m == null) {
                return CompletableFuture.completedFuture(
                        Responses.error(ApiException.notFound("no retained message on '" + topic + "'")));
            }
            return broker.clearRetained(topic).orTimeout(ClientsApi.TIMEOUT_SECONDS, TimeUnit.SECONDS)
                    .thenApply(v -> Responses.noContent());
        });
    }

    private static String topic(AdminRequest req) {
        String topic = req.requiredParam("topic");
        if (!Topics.isValidName(topic)) {
            throw ApiException.badRequest("topic", "topic must be a valid topic name (no wildcards)");
        }
        return topic;
    }

    /** The retained message of {@code topic}, {@code null} when there is none. */
    private CompletableFuture<Message> find(String topic) {
        RetainedStore store = storeFor(ctx.get().broker(), topic);
        List<RetainedStore.Hit> hits = walk(store, topic, 1);
        if (hits.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        return read(store, hits).thenApply(v -> hits.get(0).message());
    }

    /** The entries matching {@code filter}, at most {@code max}. */
    private static List<RetainedStore.Hit> walk(RetainedStore store, String filter, int max) {
        RetainedStore.Cursor c = store.cursor(filter);
        List<RetainedStore.Hit> hits = new ArrayList<>();
        while (!c.exhausted() && hits.size() < max) {
            hits.addAll(store.next(c, Math.min(1000, max - hits.size()), Long.MAX_VALUE));
        }
        return hits;
    }

    /** Completes once the messages of {@code page} that a durable store keeps on disk are read. */
    private static CompletableFuture<Void> read(RetainedStore store, List<RetainedStore.Hit> page) {
        if (RetainedStore.inHeap(page)) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        store.read(page, () -> f.complete(null));
        return f.orTimeout(ClientsApi.TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** A retained message with its payload (as UTF-8 text when it is valid UTF-8, and as Base64) and properties. */
    static Map<String, Object> message(Message m) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("topic", m.topic());
        o.put("qos", m.qos());
        o.put("payload", utf8(m.payload()));
        o.put("payloadBase64", Base64.getEncoder().encodeToString(m.payload()));
        o.put("payloadBytes", m.payload().length);
        o.put("properties", properties(m));
        return o;
    }

    private static Map<String, Object> properties(Message m) {
        Properties p = m.properties();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("contentType", p.contentType());
        o.put("responseTopic", p.responseTopic());
        o.put("correlationData", p.correlationData() == null ? null
                : Base64.getEncoder().encodeToString(p.correlationData()));
        o.put("messageExpiryInterval", m.expiresAtMillis() == Message.NEVER ? null
                : Math.max(0, m.remainingExpirySeconds(System.currentTimeMillis())));
        o.put("payloadFormatIndicator", p.payloadFormatIndicator() == null ? null : p.payloadFormatIndicator() == 1);
        List<Map<String, String>> users = new ArrayList<>();
        for (UserProperty u : p.userProperties()) {
            Map<String, String> e = new LinkedHashMap<>();
            e.put("key", u.name());
            e.put("value", u.value());
            users.add(e);
        }
        o.put("userProperties", users);
        return o;
    }

    /** The payload as text if it is well-formed UTF-8, else {@code null}. */
    static String utf8(byte[] payload) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
