package io.starling.it.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.session.QueueBudget;
import io.starling.it.Packets;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * max-queued-bytes-total: messages queued for two offline persistent sessions and one subscriber that does not
 * acknowledge fill the global budget long before any session's own limit; the publisher is then no longer read
 * (its PINGREQ stays unanswered), while the subscriber, which has messages in flight, is still read: its PUBACKs
 * bring it the next messages and its own PUBLISH is acknowledged. When the queues are gone the publisher is read
 * again. Without the budget the broker would read and queue the whole flood and never pause anybody.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class QueueBudgetTest {

    private static final long BUDGET = 256 * 1024;
    private static final int MESSAGES = 2000;
    private static final String PAYLOAD = "x".repeat(4096);

    @TempDir
    Path dataDir;

    private StarlingServer server;
    private final List<RawClient> open = new ArrayList<>();

    @AfterEach
    void stop() {
        open.forEach(RawClient::close);
        if (server != null) {
            server.close();
        }
    }

    private RawClient connect(String id, int flags) {
        RawClient c = RawClient.connect("127.0.0.1", server.port());
        open.add(c);
        c.send(Packets.connect(4, id, flags, 0));
        byte[] connack = c.readPacket(Duration.ofSeconds(10));
        assertThat(connack).isNotNull();
        assertThat(connack[0] & 0xFF).isEqualTo(0x20);
        assertThat(connack[3] & 0xFF).as("accepted").isEqualTo(0);
        return c;
    }

    private static void subscribe(RawClient c) {
        c.send(Packets.subscribe(4, 1, "qb/#", 1));
        c.expectPacket(0x90, 0x03, 0x00, 0x01, 0x01); // SUBACK, QoS 1 granted
    }

    @Test
    void publishersPauseAtTheBudgetSubscribersDoNotAndPublishersResume() throws Exception {
        server = StarlingServer.start(BrokerConfig.builder().port(0).dataDir(dataDir).maxQueuedBytesTotal(BUDGET)
                .maxQueuedMessages(100_000).maxInflightMessages(10).build());
        QueueBudget budget = server.broker().queueBudget();
        for (String id : List.of("qb-off-1", "qb-off-2")) {
            RawClient c = connect(id, 0);                // persistent session
            subscribe(c);
            c.send(0xE0, 0x00);                          // DISCONNECT: the session stays, offline
            assertThat(c.awaitClosed(Duration.ofSeconds(10))).isTrue();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !server.broker().sessions().get("qb-off-2").isOnline());
        RawClient live = connect("qb-live", Packets.CLEAN);
        subscribe(live);                                 // QoS 1, and it acknowledges nothing for now

        RawClient publisher = connect("qb-pub", Packets.CLEAN);
        Thread flood = new Thread(() -> {
            try {
                for (int i = 0; i < MESSAGES; i++) {
                    publisher.send(Packets.publish(0x32, "qb/x", i + 1, PAYLOAD)); // QoS 1
                }
                publisher.send(0xC0, 0x00);              // PINGREQ after the flood
            } catch (RuntimeException e) {
                // the socket was closed at the end of the test
            }
        }, "qb-flood");
        flood.setDaemon(true);
        flood.start();

        await().atMost(Duration.ofSeconds(30)).until(() -> budget.pauses() > 0);
        assertThat(budget.queuedBytes()).isGreaterThanOrEqualTo(BUDGET);
        long delivered = server.broker().metrics().messagesDelivered.sum();

        // the subscriber is not paused: acknowledging its 10 messages in flight brings it the next ones
        for (int i = 0; i < 10; i++) {
            byte[] p = live.readPacket(Duration.ofSeconds(10));
            assertThat(p[0] & 0xFF).as("PUBLISH QoS 1").isEqualTo(0x32);
            int idOffset = Packets.bodyOffset(p) + 2 + "qb/x".length();
            live.send(0x40, 0x02, p[idOffset] & 0xFF, p[idOffset + 1] & 0xFF); // PUBACK
        }
        live.send(Packets.publish(0x32, "qb-live/own", 77, "mine"));           // and it publishes itself
        boolean pubAck = false;
        int more = 0;
        while (!pubAck || more == 0) {
            byte[] p = live.readPacket(Duration.ofSeconds(10));
            assertThat(p).as("the subscriber is still served").isNotNull();
            if ((p[0] & 0xFF) == 0x40) {
                assertThat(p).containsExactly(0x40, 0x02, 0x00, 77);
                pubAck = true;
            } else {
                assertThat(p[0] & 0xFF).isEqualTo(0x32);
                more++;
            }
        }
        assertThat(server.broker().metrics().messagesDelivered.sum()).isGreaterThan(delivered);
        // meanwhile the publisher is still paused: the budget is exhausted and its PINGREQ is unanswered
        assertThat(budget.isExhausted()).isTrue();
        assertThat(budget.waiting()).isPositive();

        // the queues go away: a clean session discards each persistent one, the live subscriber leaves
        for (String id : List.of("qb-off-1", "qb-off-2")) {
            connect(id, Packets.CLEAN).send(0xE0, 0x00);
        }
        live.close();
        // the publisher is read again: the rest of the flood, then its PINGREQ is answered
        byte[] p;
        do {
            p = publisher.readPacket(Duration.ofSeconds(60));
            assertThat(p).as("PUBACKs, then PINGRESP once resumed").isNotNull();
        } while ((p[0] & 0xFF) == 0x40);
        assertThat(p).containsExactly(0xD0, 0x00);
        assertThat(budget.queuedBytes()).isLessThan(BUDGET);
    }
}
