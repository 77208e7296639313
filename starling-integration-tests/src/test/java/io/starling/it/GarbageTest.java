package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.testkit.RawClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A client sending garbage is disconnected while the others carry on. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GarbageTest {

    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42})
    void garbageAfterConnectIsDisconnectedWhileOthersCarryOn(long seed) throws Exception { // [MQTT-4.8.0-1]
        String topic = Names.topic("garbage");
        TestClient sub = clients.connect(ClientKind.PAHO_V311);
        TestClient pub = clients.connect(ClientKind.PAHO_V5);
        sub.subscribe(topic, 1);
        pub.publish(topic, "before", 1);
        assertThat(sub.nextMessage().text()).isEqualTo("before");

        RawClient raw = clients.raw();
        raw.send(Packets.connect(4, "garbage-" + seed, Packets.CLEAN, 60)); // a proper CONNECT first
        raw.expectPacket(0x20, 0x02, 0x00, 0x00);    // CONNACK accepted
        // a self-delimiting bad packet (a broker may read the whole packet before judging it): reserved packet
        // type 0, a one-byte Remaining Length, and that many random bytes
        Random random = new Random(seed);
        byte[] noise = new byte[2 + random.nextInt(128)];
        random.nextBytes(noise);
        noise[0] = 0x00;
        noise[1] = (byte) (noise.length - 2);
        raw.send(noise);
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).as("the garbage sender is disconnected").isTrue();

        pub.publish(topic, "after", 1);
        assertThat(sub.nextMessage().text()).isEqualTo("after");
    }

    /**
     * The first byte alone ('G' = 0x47, a PUBACK) shows that the first packet is not a CONNECT; the broker must not
     * wait for the 69 bytes the Remaining Length ('E') announces, nor for the connect timeout (10 s by default).
     */
    @Test
    void httpRequestInsteadOfConnectIsDisconnected() throws Exception { // [MQTT-3.1.0-1]
        String topic = Names.topic("http");
        TestClient sub = clients.connect(ClientKind.HIVEMQ_V5);
        sub.subscribe(topic, 1);
        RawClient raw = clients.raw();
        raw.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII)); // 'G' = type 4
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish(topic, "fine", 1);
        assertThat(sub.nextMessage().text()).isEqualTo("fine");
    }

    /** A client disconnected for a protocol violation had its connection closed, not a DISCONNECT: its will goes out. */
    @Test
    void willIsPublishedWhenTheServerClosesAGarbageSender() throws Exception { // [MQTT-3.1.2-8]
        String topic = Names.topic("gwill");
        TestClient sub = clients.connect(ClientKind.PAHO_V311);
        sub.subscribe(topic, 1);
        RawClient raw = clients.raw();
        raw.send(Packets.connectWithWill(4, "gwill", Packets.CLEAN, 60, topic, "died of garbage"));
        raw.expectPacket(0x20, 0x02, 0x00, 0x00);
        raw.send(
                0xF0, 0x00);                         // type 15 is reserved in 3.1.1
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
        assertThat(sub.nextMessage().text()).isEqualTo("died of garbage");
    }

    /** As above: a first byte that is not 0x10 is enough to close the connection, whatever length follows. */
    @Test
    void manyGarbageSendersAtOnceDoNotDisturbAPahoRoundTrip() throws Exception { // [MQTT-3.1.0-1]
        String topic = Names.topic("many");
        TestClient sub = clients.connect(ClientKind.PAHO_V311);
        sub.subscribe(topic, 2);
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        List<RawClient> raws = new ArrayList<>();
        Random random = new Random(7);
        for (int i = 0; i < 20; i++) {
            RawClient raw = clients.raw();
            byte[] noise = new byte[64 + random.nextInt(512)];
            random.nextBytes(noise);
            noise[0] = (byte) 0xF0;                  // never a CONNECT: the first packet must be one
            raw.send(noise);
            raws.add(raw);
        }
        pub.publish(topic, "through the noise", 2);
        Msg m = sub.nextMessage();
        assertThat(m.text()).isEqualTo("through the noise");
        assertThat(m.qos()).isEqualTo(2);
        for (RawClient raw : raws) {
            assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
        }
    }
}
