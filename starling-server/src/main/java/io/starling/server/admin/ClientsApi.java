package io.starling.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpResponse;
import io.starling.broker.session.ConnectionInfo;
import io.starling.broker.session.Session;
import io.starling.broker.topic.Subscription;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code GET /api/v1/clients}, {@code GET /api/v1/clients/{clientId}} and
 * {@code POST /api/v1/clients/{clientId}/disconnect}.
 *
 * <p>Threads: the list is filtered and sorted with what a session lets any thread read (its client id, whether it is
 * online, the description of its last connection); the figures of each item of the page (subscriptions, in-flight
 * and queued messages) are read by a task on the session's own loop, and the answer is sent when every task is done.
 * Nothing here blocks a thread.
 */
final class ClientsApi {

    /** Longest wait for the sessions' loops to answer. */
    static final long TIMEOUT_SECONDS = 10;
    private static final Set<String> LISTENERS = Set.of("tcp", "tls", "ws", "wss");
    private static final Set<String> PROTOCOLS = Set.of("3.1", "3.1.1", "5.0");

    private final Supplier<AdminContext> ctx;

    /** @param ctx the broker's figures; throws 503 while the broker is starting */
    ClientsApi(Supplier<AdminContext> ctx) {
        this.ctx = ctx;
    }

    void register(AdminRouter router) {
        router.api(io.netty.handler.codec.http.HttpMethod.GET, "/api/v1/clients", this::list)
                .api(io.netty.handler.codec.http.HttpMethod.GET, "/api/v1/clients/{clientId}", this::detail)
                .api(io.netty.handler.codec.http.HttpMethod.POST, "/api/v1/clients/{clientId}/disconnect",
                        this::disconnect);
    }

    CompletionStage<FullHttpResponse> list(AdminRequest req) {
        Paging paging = Paging.of(req);
        String idPrefix = req.param("clientId");
        String user = req.param("user");
        String addressPrefix = req.param("address");
        String listener = oneOf(req, "listener", LISTENERS);
        String protocol = oneOf(req, "protocol", PROTOCOLS);
        Boolean connected = req.boolParam("connected");
        AdminContext c = ctx.get();
        List<Session> matching = new ArrayList<>();
        for (Session s : c.broker().sessions().all()) {
            ConnectionInfo i = s.connectionInfo();
            boolean online = s.isOnline();
            if ((idPrefix != null && !s.clientId().startsWith(idPrefix))
                    || (user != null && (i == null || !user.equals(i.user())))
                    || (addressPrefix != null && (!online || i == null || !i.address().startsWith(addressPrefix)))
                    || (listener != null && (i == null || !listener.equals(i.listener())))
                    || (protocol != null && (i == null || !protocol.equals(i.protocol())))
                    || (connected != null && connected != online)) {
                continue;
            }
            matching.add(s);
        }
        matching.sort(Comparator.comparing(Session::clientId));
        List<Session> page = paging.slice(matching);
        List<CompletableFuture<Map<String, Object>>> items = new ArrayList<>(page.size());
        for (Session s : page) {
            items.add(onOwner(s, x -> item(x, false)));
        }
        return CompletableFuture.allOf(items.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            List<Map<String, Object>> out = new ArrayList<>(items.size());
            for (CompletableFuture<Map<String, Object>> f : items) {
                Map<String, Object> m = f.join();
                if (m != null) {
                    out.add(m);
                }
            }
            return Responses.ok(paging.page(matching.size(), out));
        });
    }

    CompletionStage<FullHttpResponse> detail(AdminRequest req) {
        String id = req.pathParams().get(0);
        Session s = ctx.get().broker().sessions().get(id);
        if (s == null) {
            throw ApiException.notFound("no session of client id '" + id + "'");
        }
        return onOwner(s, x -> item(x, true)).thenApply(m -> {
            if (m == null) {
                return Responses.error(ApiException.notFound("no session of client id '" + id + "'"));
            }
            return Responses.ok(m);
        });
    }

    CompletionStage<FullHttpResponse> disconnect(AdminRequest req) {
        String id = req.pathParams().get(0);
        ObjectNode body = req.jsonObject(Set.of("discardSession"));
        JsonNode d = body.get("discardSession");
        if (d != null && !d.isBoolean() && !d.isNull()) {
            throw ApiException.badRequest("discardSession", "discardSession must be true or false");
        }
        boolean discard = d != null && d.asBoolean(false);
        CompletableFuture<Boolean> done = ctx.get().broker().disconnectClient(id, discard);
        if (done == null) {
            throw ApiException.notFound("no session of client id '" + id + "'");
        }
        return done.orTimeout(TIMEOUT_SECONDS, TimeUnit.SECONDS).thenApply(wasOnline -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("clientId", id);
            m.put("disconnected", wasOnline);
            m.put("sessionDiscarded", discard);
            return Responses.ok(m);
        });
    }

    /** The query parameter {@code name} if given, which must be one of {@code allowed}; 400 otherwise. */
    private static String oneOf(AdminRequest req, String name, Set<String> allowed) {
        String v = req.param(name);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (!allowed.contains(v)) {
            throw ApiException.badRequest(name, name + " must be one of " + new java.util.TreeSet<>(allowed));
        }
        return v;
    }

    /**
     * Runs {@code read} on the session's loop and completes with its answer ({@code null} for a session that ended
     * meanwhile); fails after {@link #TIMEOUT_SECONDS} if the loop never runs it (the broker is stopping).
     */
    static <T> CompletableFuture<T> onOwner(Session s, Function<Session, T> read) {
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            s.execute(() -> {
                try {
                    f.complete(s.isDiscarded() ? null : read.apply(s));
                } catch (RuntimeException e) {
                    f.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(e);
        }
        return f.orTimeout(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** A client as the API shows it; on the session's loop. */
    static Map<String, Object> item(Session s, boolean detail) {
        ConnectionInfo i = s.connectionInfo();
        boolean online = s.isOnline();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("clientId", s.clientId());
        m.put("connected", online);
        m.put("user", i == null ? null : i.user());
        m.put("address", online && i != null ? i.address() : null);
        m.put("listener", i == null ? null : i.listener());
        m.put("protocol", i == null ? null : i.protocol());
        m.put("connectedAt", online && i != null ? Responses.iso(i.connectedAtMillis()) : null);
        m.put("keepAlive", i == null ? null : i.keepAliveSeconds());
        m.put("sessionExpiryInterval", s.expiryIntervalSeconds());
        m.put("cleanStart", i == null ? null : i.cleanStart());
        Map<String, Subscription> subs = s.subscriptions();
        if (detail) {
            List<Subscription> sorted = new ArrayList<>(subs.values());
            sorted.sort(Comparator.comparing(Subscription::filter));
            List<Map<String, Object>> list = new ArrayList<>(sorted.size());
            for (Subscription sub : sorted) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("filter", sub.filter());
                e.put("qos", sub.qos());
                e.put("noLocal", sub.noLocal());
                e.put("retainAsPublished", sub.retainAsPublished());
                e.put("retainHandling", sub.retainHandling());
                e.put("subscriptionIdentifier", sub.subscriptionId() == 0 ? null : sub.subscriptionId());
                list.add(e);
            }
            m.put("subscriptions", list);
            m.put("subscriptionCount", list.size());
        } else {
            m.put("subscriptions", subs.size());
        }
        m.put("inflight", s.inflightCount());
        m.put("queuedMessages", s.queuedCount());
        m.put("queuedBytes", s.queuedBytes());
        m.put("storesMessages", s.storesMessages());
        return m;
    }
}
