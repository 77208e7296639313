package io.starling.it.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.BrokerExtension;
import io.starling.it.ClientKind;
import io.starling.it.Clients;
import io.starling.it.Packets;
import io.starling.it.TestClient;
import io.starling.testkit.RawClient;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Slow senders, truncated and oversized packets on real sockets, each while a well-behaved Paho client keeps
 * publishing and receiving in the same test.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileInputTest {

    private static final int MAX_PACKET = 1024;

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.connectTimeout(Duration.ofSeconds(1))
            .maxPacketSize(MAX_PACKET));

    @RegisterExtension
    final Clients clients = new Clients(broker);

    private final ScheduledExecutorService dribbler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stopDribbling() {
        dribbler.shutdownNow();
    }

    private void roundTrip(TestClient c, String topic, String text) throws Exception {
        c.publish(topic, text, 1);
        assertThat(c.nextMessage().text()).isEqualTo(text);
    }

    /**
     * A CONNECT sent one byte every 100 ms (about 3 s for the whole packet) is closed at the 1 s connect timeout
     * although bytes keep arriving: the timeout bounds the time to a complete CONNECT, not the silence between bytes.
     */
    @Test
    void connectDribbledByteByByteIsClosedAtTheConnectTimeout() throws Exception {
        TestClient paho = clients.connect(ClientKind.PAHO_V311);
        paho.subscribe("slow/#", 1);
        RawClient slow = clients.raw();
        byte[] connect = RawClient.toBytes(Packets.connect(4, "dribbler", Packets.CLEAN, 60));
        AtomicInteger sent = new AtomicInteger();
        dribbler.scheduleWithFixedDelay(() -> {
            int i = sent.get();
            if (i < connect.length) {
                try {
                    slow.send(connect[i]);
                    sent.incrementAndGet();
                } catch (RuntimeException e) {
                    dribbler.shutdown(); // closed by the broker
                }
            }
        }, 0, 100, TimeUnit.MILLISECONDS);

        roundTrip(paho, "slow/1", "while a CONNECT dribbles in");
        assertThat(slow.awaitClosed(Duration.ofSeconds(20))).as("closed by the broker").isTrue();
        assertThat(sent.get()).as("closed before its CONNECT was complete").isLessThan(connect.length);
        roundTrip(paho, "slow/2", "after it was closed");
    }

    /** A PUBLISH whose Remaining Length promises more than is ever sent: the sender's close ends it, nothing leaks. */
    @Test
    void truncatedPacketsThenCloseLeaveOthersUnaffected() throws Exception {
        TestClient paho = clients.connect(ClientKind.PAHO_V5);
        paho.subscribe("trunc/#", 1);
        for (int i = 0; i < 20; i++) {
            RawClient c = clients.raw();
            c.send(Packets.connect(4, "trunc-" + i, Packets.CLEAN, 0));
            c.expectPacket(0x20, 0x02, 0x00, 0x00);
            c.send(0x30, 0x7F, 0x00, 0x05, 't', 'r');     // PUBLISH of 127 bytes, 4 of them sent
            c.close();
        }
        roundTrip(paho, "trunc/1", "after 20 truncated packets");
    }

    /**
     * A Remaining Length over max-packet-size is refused at the fixed header, before any of the body is buffered:
     * 3.1.1 is closed, 5.0 gets DISCONNECT 0x95 Packet too large (5.0 3.2.2.3.6; the client was told the maximum in
     * CONNACK and must not exceed it [MQTT-3.2.2-15]).
     */
    @Test
    void oversizedPacketsAreRefusedAtTheHeader() throws Exception {
        TestClient paho = clients.connect(ClientKind.PAHO_V311);
        paho.subscribe("big/#", 1);
        RawClient v3 = clients.raw();
        v3.send(Packets.connect(4, "big-3", Packets.CLEAN, 0));
        v3.expectPacket(0x20, 0x02, 0x00, 0x00);
        v3.send(0x30, 0xFF, 0xFF, 0xFF, 0x7F);           // PUBLISH claiming 268,435,455 bytes; no body follows
        assertThat(v3.awaitClosed(Duration.ofSeconds(10))).isTrue();

        RawClient v5 = clients.raw();
        v5.send(Packets.connect(5, "big-5", Packets.CLEAN, 0));
        assertThat(v5.readPacket(Duration.ofSeconds(10))[0] & 0xFF).isEqualTo(0x20);
        v5.send(0x30, 0x81, 0x08);                       // PUBLISH of 1025 bytes > 1024: refused at these 3 bytes
        byte[] d = v5.readPacket(Duration.ofSeconds(10));
        assertThat(d[0] & 0xFF).as("DISCONNECT").isEqualTo(0xE0);
        assertThat(d[2] & 0xFF).as("Packet too large").isEqualTo(0x95);
        assertThat(v5.awaitClosed(Duration.ofSeconds(10))).isTrue();

        RawClient connect = clients.raw();                // even a CONNECT: closed before it is read
        connect.send(0x10, 0xFF, 0xFF, 0x03);
        assertThat(connect.awaitClosed(Duration.ofSeconds(10))).isTrue();
        roundTrip(paho, "big/1", "after oversized packets");
    }
}
