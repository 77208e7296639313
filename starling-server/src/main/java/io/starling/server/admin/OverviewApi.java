package io.starling.server.admin;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.starling.broker.Broker;
import io.starling.broker.metrics.ClusterTraffic;
import io.starling.broker.metrics.ClusterView;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code GET /metrics} (Prometheus text format), {@code GET /health/live}, {@code GET /health/ready},
 * {@code GET /api/v1/overview} and {@code GET /api/v1/history}: figures every thread may read (counters, atomics,
 * concurrent maps) and the history kept on the admin loop.
 */
final class OverviewApi {

    /** The Prometheus text exposition format, version 0.0.4. */
    static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** Starling's version, as the build wrote it. */
    static final String VERSION = readVersion();

    private final PrometheusMeterRegistry registry;
    private final BooleanSupplier ready;
    private final long startNanos;
    /** The broker's figures, {@code null} until its store has recovered. */
    private final Supplier<AdminContext> attached;
    /** The history, {@code null} until the broker is attached. */
    private final Supplier<HistorySampler> history;

    OverviewApi(PrometheusMeterRegistry registry, BooleanSupplier ready, long startNanos,
            Supplier<AdminContext> attached, Supplier<HistorySampler> history) {
        this.registry = registry;
        this.ready = ready;
        this.startNanos = startNanos;
        this.attached = attached;
        this.history = history;
    }

    void register(AdminRouter router) {
        router.api(HttpMethod.GET, "/metrics", r -> AdminRouter.now(Responses.bytes(HttpResponseStatus.OK,
                        PROMETHEUS_CONTENT_TYPE, scrape().getBytes(StandardCharsets.UTF_8))))
                .api(HttpMethod.GET, "/health/live", r -> AdminRouter.now(Responses.ok(Map.of("status", "UP"))))
                .api(HttpMethod.GET, "/health/ready", r -> AdminRouter.now(ready.getAsBoolean()
                        ? Responses.ok(Map.of("status", "UP"))
                        : Responses.json(HttpResponseStatus.SERVICE_UNAVAILABLE, Map.of("status", "DOWN"))))
                .api(HttpMethod.GET, "/api/v1/overview", r -> AdminRouter.now(Responses.ok(overview())))
                .api(HttpMethod.GET, "/api/v1/history", this::history);
    }

    /** The registry's meters, those of cluster peers that appeared since the last scrape registered first. */
    private String scrape() {
        AdminContext ctx = attached.get();
        if (ctx != null) {
            StarlingMetrics.bindCluster(registry, ctx.broker());
        }
        return registry.scrape();
    }

    private CompletionStage<FullHttpResponse> history(AdminRequest req) {
        HistorySampler h = history.get();
        if (h == null) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("intervalSeconds", HistorySampler.INTERVAL_SECONDS);
            o.put("samples", List.of());
            return AdminRouter.now(Responses.ok(o));
        }
        return AdminRouter.now(Responses.ok(h.body()));
    }

    /** The body of {@code /api/v1/overview}. */
    Map<String, Object> overview() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("status", ready.getAsBoolean() ? "UP" : "DOWN");
        o.put("uptimeSeconds", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos));
        o.put("version", VERSION);
        AdminContext c = attached.get();
        if (c == null) {
            return o; // the store is still recovering
        }
        List<Map<String, Object>> listeners = new ArrayList<>();
        for (AdminContext.BoundListener l : c.listeners().get()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", l.type());
            m.put("bind", l.bind());
            m.put("port", l.port());
            listeners.add(m);
        }
        Broker b = c.broker();
        o.put("listeners", listeners);
        o.put("connectionsOpen", c.gate().openConnections());
        o.put("sessions", b.sessions().count());
        o.put("retainedMessages", b.retained().size());
        o.put("storeWritable", b.store().status().writable());
        int online = 0;
        for (io.starling.broker.session.Session s : b.sessions().all()) {
            if (s.isOnline()) {
                online++;
            }
        }
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("connections", c.gate().openConnections());
        counts.put("sessions", b.sessions().count());
        counts.put("sessionsOnline", online);
        counts.put("subscriptions", b.subscriptionIndex().size());
        counts.put("retainedMessages", b.retained().size());
        o.put("counts", counts);
        HistorySampler h = history.get();
        HistorySampler.Sample last = h == null ? null : h.latest();
        Map<String, Object> rates = new LinkedHashMap<>();
        rates.put("messagesReceivedPerSecond", last == null ? 0.0 : last.receivedPerSecond());
        rates.put("messagesSentPerSecond", last == null ? 0.0 : last.sentPerSecond());
        o.put("rates", rates);
        Map<String, Object> cluster = cluster(b);
        if (cluster != null) {
            o.put("cluster", cluster);
        }
        return o;
    }

    /**
     * The {@code cluster} object of the overview: this node, its members and the traffic with each peer; {@code null}
     * on a single node (the broker's interfaces only: no class of the cluster is loaded here).
     */
    static Map<String, Object> cluster(Broker b) {
        ClusterView view = b.metrics().clusterView();
        if (view == null) {
            return null;
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("node", view.nodeName());
        c.put("acceptsConnections", view.acceptsConnections());
        c.put("minSize", view.minSize());
        List<Map<String, Object>> members = new ArrayList<>();
        for (ClusterView.Node m : view.members()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", m.name());
            e.put("address", m.address());
            e.put("link", m.link());
            e.put("local", m.local());
            members.add(e);
        }
        c.put("members", members);
        List<Map<String, Object>> peers = new ArrayList<>();
        ClusterTraffic traffic = b.metrics().cluster();
        if (traffic != null) {
            List<ClusterTraffic.Peer> sorted = new ArrayList<>(traffic.peers());
            sorted.sort(Comparator.comparing(ClusterTraffic.Peer::name));
            for (ClusterTraffic.Peer p : sorted) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("name", p.name());
                e.put("linkUp", p.isUp());
                e.put("connects", p.connects());
                e.put("messagesSent", p.messagesSent());
                e.put("messagesReceived", p.messagesReceived());
                e.put("bytesSent", p.bytesSent());
                e.put("bytesReceived", p.bytesReceived());
                e.put("waiting", p.waiting());
                e.put("resent", p.resent());
                e.put("duplicatesDropped", p.duplicatesDropped());
                e.put("overflowDropped", p.overflowDropped());
                peers.add(e);
            }
        }
        c.put("peers", peers);
        return c;
    }

    private static String readVersion() {
        try (InputStream in = Broker.class.getResourceAsStream("/io/starling/broker/sys/version.properties")) {
            java.util.Properties p = new java.util.Properties();
            if (in != null) {
                p.load(in);
            }
            String v = p.getProperty("version", "");
            return v.isBlank() || v.startsWith("${") ? "unknown" : v.trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
