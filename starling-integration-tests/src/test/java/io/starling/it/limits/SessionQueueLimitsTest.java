package io.starling.it.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.it.Packets;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-session queue bounds seen from a client: an offline persistent 3.1.1 session gets six messages; what it
 * finds when it comes back is bounded by max-queued-messages or max-queued-bytes and chosen by drop-policy
 * (drop-new keeps the first ones, drop-oldest the last ones).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SessionQueueLimitsTest {

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
        assertThat(connack[0] & 0xFF).isEqualTo(0x20);
        assertThat(connack[3] & 0xFF).isZero();
        return c;
    }

    /** Payloads the offline session finds when it reconnects, after six messages m1..m6 were published. */
    private List<String> queuedAfterSix(UnaryOperator<BrokerConfig.Builder> config) {
        // the in-memory queue and its drop policies (a stored queue refuses new messages when full, whatever the
        // policy, and is paged from disk after CONNACK: see SessionPersistenceTest)
        server = StarlingServer.start(config.apply(BrokerConfig.builder().port(0).dataDir(dataDir)
                .storage(BrokerConfig.Storage.MEMORY)).build());
        RawClient sub = connect("sq-sub", 0);
        sub.send(Packets.subscribe(4, 1, "sq/#", 1));
        sub.expectPacket(0x90, 0x03, 0x00, 0x01, 0x01);
        sub.send(0xE0, 0x00);
        assertThat(sub.awaitClosed(Duration.ofSeconds(10))).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> !server.broker().sessions().get("sq-sub").isOnline());

        RawClient pub = connect("sq-pub", Packets.CLEAN);
        for (int i = 1; i <= 6; i++) {
            pub.send(Packets.publish(0x32, "sq/x", i, "m" + i));
            pub.expectPacket(0x40, 0x02, 0x00, i);                    // PUBACK: routed and queued (or dropped)
        }
        // a PUBACK does not wait for the hand-off to the subscriber's loop: wait until all six are queued or dropped
        var session = server.broker().sessions().get("sq-sub");
        await().atMost(Duration.ofSeconds(10)).until(
                () -> server.broker().metrics().messagesDropped.sum() + session.queuedCount() == 6);
        RawClient back = connect("sq-sub", 0);                         // resumes: the queue is sent after CONNACK
        back.send(0xC0, 0x00);                                         // PINGREQ: its PINGRESP follows the queue
        List<String> got = new ArrayList<>();
        while (true) {
            byte[] p = back.readPacket(Duration.ofSeconds(10));
            assertThat(p).isNotNull();
            if ((p[0] & 0xFF) == 0xD0) {
                return got;
            }
            assertThat(p[0] & 0xF0).as("PUBLISH").isEqualTo(0x30);
            int payload = Packets.bodyOffset(p) + 2 + "sq/x".length() + 2;
            got.add(new String(Arrays.copyOfRange(p, payload, p.length), StandardCharsets.UTF_8));
            back.send(0x40, 0x02, p[payload - 2] & 0xFF, p[payload - 1] & 0xFF);
        }
    }

    @Test
    void maxQueuedMessagesWithDropNewKeepsTheFirst() {
        assertThat(queuedAfterSix(b -> b.maxQueuedMessages(3))).containsExactly("m1", "m2", "m3");
        assertThat(server.broker().metrics().messagesDropped.sum()).isEqualTo(3);
    }

    @Test
    void maxQueuedMessagesWithDropOldestKeepsTheLast() {
        assertThat(queuedAfterSix(b -> b.maxQueuedMessages(3).dropPolicy(BrokerConfig.DropPolicy.DROP_OLDEST)))
                .containsExactly("m4", "m5", "m6");
    }

    @Test
    void maxQueuedBytesBoundsTheQueueByWeight() {
        // each message weighs payload 2 + topic 4 + 64 = 70 bytes: 150 bytes hold two
        assertThat(queuedAfterSix(b -> b.maxQueuedBytes(150))).containsExactly("m1", "m2");
    }
}
