package io.starling.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.starling.broker.Broker;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.store.InMemoryStore;
import io.starling.server.transport.ConnectionGate;
import io.starling.server.transport.IncompletePacketBudget;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The routes of {@link AdminHandler}, on an {@link EmbeddedChannel}. */
class AdminHandlerTest {

    private final AtomicBoolean ready = new AtomicBoolean();
    private DefaultEventLoop loop;
    private PrometheusMeterRegistry registry;
    private StarlingMetrics metrics;
    private EmbeddedChannel ch;
    private AdminHandler handler;
    /** What {@link AdminServer#attach} does once the store has recovered. */
    private Runnable attach;

    @BeforeEach
    void setUp() {
        loop = new DefaultEventLoop();
        BrokerConfig cfg = BrokerConfig.builder().storage(BrokerConfig.Storage.MEMORY).build();
        Broker broker = new Broker(cfg, loop, new InMemoryStore());
        AdminContext ctx = new AdminContext(broker, new ConnectionGate(cfg.limits()), IncompletePacketBudget.unbounded(),
                () -> List.of(new AdminContext.BoundListener("tcp", "127.0.0.1", 1883)));
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics = new StarlingMetrics(registry);
        handler = new AdminHandler(registry, ready::get, System.nanoTime());
        ch = new EmbeddedChannel(handler);
        attach = () -> {
            StarlingMetrics.bindBroker(registry, ctx);
            handler.attach(ctx);
        };
    }

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
        metrics.close();
        registry.close();
        loop.shutdownGracefully();
    }

    private FullHttpResponse request(HttpMethod method, String uri) {
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri));
        FullHttpResponse res = ch.readOutbound();
        assertThat(res).isNotNull();
        return res;
    }

    private static String body(FullHttpResponse res) {
        try {
            return res.content().toString(StandardCharsets.UTF_8);
        } finally {
            res.release();
        }
    }

    @Test
    void beforeTheStoreRecoveredOnlyTheProcessIsShown() {
        FullHttpResponse res = request(HttpMethod.GET, "/metrics");
        assertThat(res.status().code()).isEqualTo(200);
        assertThat(body(res)).contains("jvm_memory_used_bytes", "starling_netty_direct_memory_used_bytes")
                .doesNotContain("starling_messages_received_total");
        res = request(HttpMethod.GET, "/api/v1/overview");
        assertThat(body(res)).startsWith("{\"status\":\"DOWN\",\"uptimeSeconds\":").doesNotContain("sessions");
        res = request(HttpMethod.GET, "/health/live");
        assertThat(res.status().code()).isEqualTo(200);
        res.release();
        res = request(HttpMethod.GET, "/health/ready");
        assertThat(res.status().code()).isEqualTo(503);
        res.release();
    }

    @Test
    void metricsAreInThePrometheusTextFormat() {
        attach.run();
        FullHttpResponse res = request(HttpMethod.GET, "/metrics");
        assertThat(res.status().code()).isEqualTo(200);
        assertThat(res.headers().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("text/plain; version=0.0.4");
        assertThat(body(res)).contains("# HELP starling_messages_received_total", "starling_connections_open ",
                "starling_queued_bytes ", "jvm_memory_used_bytes");
    }

    @Test
    void readinessFollowsTheServer() {
        FullHttpResponse res = request(HttpMethod.GET, "/health/ready");
        assertThat(res.status().code()).isEqualTo(503);
        assertThat(body(res)).isEqualTo("{\"status\":\"DOWN\"}");
        ready.set(true);
        res = request(HttpMethod.GET, "/health/ready?verbose");
        assertThat(res.status().code()).isEqualTo(200);
        assertThat(body(res)).isEqualTo("{\"status\":\"UP\"}");
        res = request(HttpMethod.GET, "/health/live");
        assertThat(res.status().code()).isEqualTo(200);
        assertThat(body(res)).isEqualTo("{\"status\":\"UP\"}");
    }

    @Test
    void overviewListsTheListeners() {
        attach.run();
        FullHttpResponse res = request(HttpMethod.GET, "/api/v1/overview");
        assertThat(res.status().code()).isEqualTo(200);
        assertThat(res.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
        assertThat(body(res)).contains("\"listeners\":[{\"type\":\"tcp\",\"bind\":\"127.0.0.1\",\"port\":1883}]",
                "\"sessions\":0", "\"connectionsOpen\":0");
    }

    @Test
    void unknownPathIs404AndOtherMethodsAre405() {
        FullHttpResponse res = request(HttpMethod.GET, "/nope");
        assertThat(res.status().code()).isEqualTo(404);
        assertThat(body(res)).startsWith("{\"error\":\"no such path: /nope");
        res = request(HttpMethod.POST, "/metrics");
        assertThat(res.status().code()).isEqualTo(405);
        assertThat(res.headers().get(HttpHeaderNames.ALLOW)).isEqualTo("GET");
        assertThat(body(res)).contains("\"error\"");
    }
}
