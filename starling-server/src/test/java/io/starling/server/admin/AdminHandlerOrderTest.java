package io.starling.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.starling.broker.Broker;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.message.Message;
import io.starling.broker.store.InMemoryStore;
import io.starling.codec.Properties;
import io.starling.server.transport.ConnectionGate;
import io.starling.server.transport.IncompletePacketBudget;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Answers that come later (from another loop) keep the order of the requests on a connection, and the endpoints that
 * read the broker answer 503 until it is attached.
 */
class AdminHandlerOrderTest {

    private DefaultEventLoop loop;
    private Broker broker;
    private PrometheusMeterRegistry registry;
    private AdminHandler handler;
    private EmbeddedChannel ch;

    @BeforeEach
    void setUp() {
        loop = new DefaultEventLoop();
        BrokerConfig cfg = BrokerConfig.builder().storage(BrokerConfig.Storage.MEMORY).build();
        broker = new Broker(cfg, loop, new InMemoryStore());
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        handler = new AdminHandler(registry, () -> true, System.nanoTime());
        ch = new EmbeddedChannel(handler);
    }

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
        registry.close();
        loop.shutdownGracefully();
    }

    private void attach() {
        handler.attach(new AdminContext(broker, new ConnectionGate(broker.config().limits()),
                IncompletePacketBudget.unbounded(), List::of));
    }

    private static int status(FullHttpResponse res) {
        try {
            return res.status().code();
        } finally {
            res.release();
        }
    }

    @Test
    void beforeTheBrokerIsAttachedItsEndpointsAnswer503() {
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/api/v1/clients"));
        FullHttpResponse res = ch.readOutbound();
        assertThat(res.status().code()).isEqualTo(503);
        assertThat(res.content().toString(StandardCharsets.UTF_8)).contains("starting");
        res.release();
    }

    @Test
    void aLaterAnswerIsNotOvertakenByTheNextRequest() throws Exception {
        attach();
        loop.submit(() -> broker.retained().update(new Message("t/1", 1, true, new byte[] {1}, Properties.EMPTY, null,
                Message.NEVER))).sync();
        // the broker's loop is held until both requests are in, so the DELETE cannot be answered before
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        loop.execute(() -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        // the DELETE is answered from the broker's loop, the health check at once: both pipelined
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.DELETE,
                "/api/v1/retained/message?topic=t/1"));
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/health/live"));
        assertThat(ch.outboundMessages()).as("the health check waits for the DELETE's answer").isEmpty();
        hold.countDown();
        loop.submit(() -> { }).sync(); // the removal has run on the broker's loop
        ch.runPendingTasks();
        FullHttpResponse first = ch.readOutbound();
        FullHttpResponse second = ch.readOutbound();
        assertThat(status(first)).isEqualTo(204);
        assertThat(status(second)).isEqualTo(200);
        assertThat(broker.retained().size()).isZero();
    }
}
