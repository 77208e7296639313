package io.starling.it.limits;

import static io.starling.it.Packets.packet;
import static io.starling.it.Packets.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.it.BrokerExtension;
import io.starling.it.ClientKind;
import io.starling.it.Clients;
import io.starling.it.Packets;
import io.starling.it.TestClient;
import io.starling.testkit.RawClient;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * max-topic-length (UTF-8 bytes) and max-topic-levels for PUBLISH Topic Names, SUBSCRIBE Topic Filters and Will
 * Topics. 5.0: PUBACK/PUBREC 0x90 Topic Name invalid (the connection stays), DISCONNECT 0x90 at QoS 0, SUBACK 0x8F
 * Topic Filter invalid, CONNACK 0x90 for a Will Topic (5.0 3.2.2.2, 3.4.2.1, 3.9.3, 3.14.2.1). 3.x: the connection
 * is closed for a PUBLISH [MQTT-3.3.5-2] or a Will, SUBACK 0x80 per filter [MQTT-3.9.3-2]. A topic at the limits
 * is accepted. Without the limits every refusal here would be a success.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TopicLimitsTest {

    private static final int MAX_LENGTH = 32;
    private static final int MAX_LEVELS = 4;

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.maxTopicLength(MAX_LENGTH).maxTopicLevels(MAX_LEVELS));

    @RegisterExtension
    final Clients clients = new Clients(broker);

    /** 33 bytes in one level. */
    private static final String TOO_LONG = "a".repeat(MAX_LENGTH + 1);
    /** 32 bytes of UTF-8 in 16 characters: at the limit (bytes are counted, not characters). */
    private static final String LONGEST = "é".repeat(MAX_LENGTH / 2);
    /** 17 characters, 34 bytes. */
    private static final String TOO_LONG_IN_BYTES = "é".repeat(MAX_LENGTH / 2) + "x";
    private static final String TOO_DEEP = "a/b/c/d/e";
    private static final String DEEPEST = "a/b/c/d";

    private RawClient connect5(String id) {
        RawClient c = clients.raw();
        c.send(Packets.connect(5, id, Packets.CLEAN, 0));
        byte[] connack = c.readPacket(Duration.ofSeconds(10));
        assertThat(connack[0] & 0xFF).isEqualTo(0x20);
        assertThat(connack[3] & 0xFF).as("CONNACK success").isEqualTo(0x00);
        return c;
    }

    private RawClient connect311(String id) {
        RawClient c = clients.raw();
        c.send(Packets.connect(4, id, Packets.CLEAN, 0));
        c.expectPacket(0x20, 0x02, 0x00, 0x00);
        return c;
    }

    private static int[] publish5(int qos, String topic, int packetId) {
        return packet(0x30 | qos << 1,
                str(topic),                                          // Topic Name
                qos > 0 ? new int[] {packetId >> 8, packetId & 0xFF} : new int[0],
                new int[] {0x00},                                    // no properties
                Packets.bytes("payload"));
    }

    @Test
    void v5PublishOverTheLimitsGetsPuback0x90AndTheConnectionStays() {
        RawClient c = connect5("tl-pub5");
        for (String topic : new String[] {TOO_LONG, TOO_LONG_IN_BYTES, TOO_DEEP}) {
            c.send(publish5(1, topic, 7));
            byte[] ack = c.readPacket(Duration.ofSeconds(10));
            assertThat(ack[0] & 0xFF).as("PUBACK").isEqualTo(0x40);
            assertThat(ack[2] << 8 | ack[3] & 0xFF).isEqualTo(7);
            assertThat(ack[4] & 0xFF).as("Topic Name invalid for %s", topic).isEqualTo(0x90);
        }
        // QoS 2: PUBREC 0x90, and the packet id is free again
        c.send(publish5(2, TOO_DEEP, 8));
        byte[] rec = c.readPacket(Duration.ofSeconds(10));
        assertThat(rec[0] & 0xFF).as("PUBREC").isEqualTo(0x50);
        assertThat(rec[4] & 0xFF).isEqualTo(0x90);
        // topics at the limits pass: PUBACK 0x10 No matching subscribers
        for (String topic : new String[] {LONGEST, DEEPEST}) {
            c.send(publish5(1, topic, 9));
            byte[] ok = c.readPacket(Duration.ofSeconds(10));
            assertThat(ok[0] & 0xFF).isEqualTo(0x40);
            assertThat(ok[4] & 0xFF).as("accepted: %s", topic).isEqualTo(0x10);
        }
    }

    @Test
    void v5Qos0PublishOverTheLimitsGetsDisconnect0x90() {
        RawClient c = connect5("tl-pub5-q0");
        c.send(publish5(0, TOO_DEEP, 0));
        byte[] d = c.readPacket(Duration.ofSeconds(10));
        assertThat(d[0] & 0xFF).as("DISCONNECT").isEqualTo(0xE0);
        assertThat(d[2] & 0xFF).as("Topic Name invalid").isEqualTo(0x90);
        assertThat(c.awaitClosed(Duration.ofSeconds(10))).isTrue();
    }

    @Test
    void v311PublishOverTheLimitsClosesTheConnection() {
        RawClient c = connect311("tl-pub3");
        c.send(Packets.publish(0x32, TOO_LONG, 1, "x"));
        assertThat(c.awaitClosed(Duration.ofSeconds(10))).isTrue();
        RawClient ok = connect311("tl-pub3-ok");
        ok.send(Packets.publish(0x32, DEEPEST, 1, "x"));
        ok.expectPacket(0x40, 0x02, 0x00, 0x01); // PUBACK
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V5", "PAHO_V311", "PAHO_V31"})
    void subscribeOverTheLimitsIsRefusedPerFilter(ClientKind kind) throws Exception {
        TestClient c = clients.connect(kind);
        int refused = kind.protocolLevel() == 5 ? 0x8F : 0x80;
        // one SUBSCRIBE: each filter is answered on its own (the HiveMQ client throws on any error code, so Paho here);
        // for $share/{group}/{filter} the levels are those of the filter after the group
        int[] codes = c.subscribe(List.of(TOO_DEEP, "+/+/+/+/#", TOO_LONG, "a/+/c/d", "$share/g/" + DEEPEST,
                "$share/g/" + TOO_DEEP), List.of(1, 1, 1, 1, 1, 1));
        assertThat(codes).containsExactly(refused, refused, refused, 1, 1, refused);
        // and the client goes on: what it subscribed to reaches it
        c.publish(DEEPEST, "still here", 1);
        assertThat(c.nextMessage().text()).isEqualTo("still here");
    }

    @Test
    void v5WillTopicOverTheLimitsGetsConnack0x90() {
        RawClient c = clients.raw();
        c.send(Packets.connectWithWill(5, "tl-will5", Packets.CLEAN, 0, TOO_DEEP, "gone"));
        byte[] connack = c.readPacket(Duration.ofSeconds(10));
        assertThat(connack[0] & 0xFF).isEqualTo(0x20);
        assertThat(connack[3] & 0xFF).as("Topic Name invalid").isEqualTo(0x90);
        assertThat(c.awaitClosed(Duration.ofSeconds(10))).isTrue();
    }

    @Test
    void v311WillTopicOverTheLimitsIsClosedWithoutConnack() {
        RawClient c = clients.raw();
        c.send(Packets.connectWithWill(4, "tl-will3", Packets.CLEAN, 0, TOO_LONG, "gone"));
        assertThatThrownBy(() -> c.readPacket(Duration.ofSeconds(10))).as("closed without CONNACK")
                .isInstanceOf(UncheckedIOException.class);
    }
}
