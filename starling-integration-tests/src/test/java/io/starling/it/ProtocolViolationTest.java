package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.testkit.RawClient;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Malformed packets and protocol violations, byte by byte: the broker closes the connection (or refuses). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProtocolViolationTest {

    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @Test
    void firstPacketNotConnectCloses() { // [MQTT-3.1.0-1]
        RawClient raw = clients.raw();
        raw.send(
                0xC0, 0x00);                         // PINGREQ instead of CONNECT
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void secondConnectCloses() { // [MQTT-3.1.0-2]
        RawClient raw = connected("pv2");
        raw.send(Packets.connect(4, "pv2", Packets.CLEAN, 60)); // the same CONNECT once more
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void unsupportedProtocolLevelGetsConnack01ThenClose() { // [MQTT-3.1.2-2]
        RawClient raw = clients.raw();
        raw.send(
                0x10, 0x0D,                          // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'T',      // protocol name
                0x06,                                // level 6: no such version
                0x02,                                // flags: clean session
                0x00, 0x3C,                          // keep alive 60 s
                0x00, 0x01, 'c');                    // client id "c"
        raw.expectPacket(
                0x20, 0x02,                          // CONNACK, remaining length 2
                0x00,                                // session present 0
                0x01);                               // 0x01 unacceptable protocol version
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void reservedConnectFlagCloses() { // [MQTT-3.1.2-3]
        RawClient raw = clients.raw();
        raw.send(
                0x10, 0x0D,                          // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'T',      // protocol name
                0x04,                                // level 4
                0x03,                                // flags: clean session + RESERVED bit 0 set
                0x00, 0x3C,                          // keep alive 60 s
                0x00, 0x01, 'r');                    // client id "r"
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void publishTopicWithWildcardCloses() { // [MQTT-3.3.2-2] [MQTT-4.8.0-1]
        RawClient raw = connected("pv5");
        raw.send(
                0x30, 0x06,                          // PUBLISH QoS 0, remaining length 6
                0x00, 0x03, 'a', '/', '+',           // topic "a/+": a wildcard in a topic name
                'x');                                // payload
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void publishWithQos3Closes() { // [MQTT-3.3.1-4]
        RawClient raw = connected("pv6");
        raw.send(
                0x36, 0x06,                          // PUBLISH with both QoS bits set
                0x00, 0x01, 'a',                     // topic "a"
                0x00, 0x01,                          // packet id 1
                'x');                                // payload
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void subscribeWithBadFixedHeaderFlagsCloses() { // [MQTT-3.8.1-1]
        RawClient raw = connected("pv7");
        raw.send(
                0x80, 0x06,                          // SUBSCRIBE with flags 0000 instead of 0010
                0x00, 0x01,                          // packet id 1
                0x00, 0x01, 'a',                     // filter "a"
                0x00);                               // QoS 0
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void subscribeWithoutFiltersCloses() { // [MQTT-3.8.3-3]
        RawClient raw = connected("pv8");
        raw.send(
                0x82, 0x02,                          // SUBSCRIBE, remaining length 2
                0x00, 0x01);                         // packet id 1 and no topic filter at all
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    /** Starling answers an invalid filter with a failure return code instead of closing. */
    @Test
    void invalidFilterGetsSuback80OnV311() { // [MQTT-4.7.1-2] [MQTT-3.8.4-5] [MQTT-3.9.3-2]
        RawClient raw = connected("pv9");
        raw.send(
                0x82, 0x0A,                          // SUBSCRIBE, remaining length 10
                0x00, 0x05,                          // packet id 5
                0x00, 0x05, 'a', '/', '#', '/', 'b', // filter "a/#/b": '#' not last
                0x01);                               // QoS 1
        raw.expectPacket(
                0x90, 0x03,                          // SUBACK, remaining length 3
                0x00, 0x05,                          // packet id 5
                0x80);                               // 0x80 failure
    }

    /** Starling answers an invalid filter with reason code 0x8F (Topic Filter invalid) on MQTT 5. */
    @Test
    void invalidFilterGetsSuback8FOnV5() {
        RawClient raw = clients.raw();
        raw.send(Packets.connect(5, "pv10", Packets.CLEAN, 60));
        byte[] connack = raw.readPacket(RawClient.DEFAULT_TIMEOUT);
        assertThat(connack).isNotNull();
        assertThat(Packets.u8(connack, 0)).isEqualTo(0x20);
        raw.send(
                0x82, 0x0B,                          // SUBSCRIBE, remaining length 11
                0x00, 0x05,                          // packet id 5
                0x00,                                // property length 0
                0x00, 0x05, 'a', '/', '#', '/', 'b', // filter "a/#/b"
                0x01);                               // options: QoS 1
        byte[] suback = raw.readPacket(RawClient.DEFAULT_TIMEOUT);
        assertThat(suback).as("SUBACK").isNotNull();
        assertThat(Packets.u8(suback, 0)).isEqualTo(0x90);
        int off = Packets.bodyOffset(suback);
        assertThat(Packets.u8(suback, off) << 8 | Packets.u8(suback, off + 1)).as("packet id").isEqualTo(5);
        assertThat(Packets.u8(suback, suback.length - 1)).as("reason code").isEqualTo(0x8F);
    }

    @Test
    void remainingLengthInFiveBytesCloses() { // [MQTT-4.8.0-1] (Remaining Length is at most four bytes, 2.2.3)
        RawClient raw = connected("pv11");
        raw.send(
                0x30,                                // PUBLISH QoS 0
                0xFF, 0xFF, 0xFF, 0xFF, 0x01);       // a fifth Remaining Length byte
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void reservedPacketTypeCloses() { // [MQTT-4.8.0-1] (packet type 0 is reserved, 2.2.1)
        RawClient raw = connected("pv12");
        raw.send(
                0x00, 0x00);                         // type 0, remaining length 0
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    @Test
    void pubrelWithBadFlagsCloses() { // [MQTT-3.6.1-1] [MQTT-2.2.2-2]
        RawClient raw = connected("pv13");
        raw.send(
                0x60, 0x02,                          // PUBREL with flags 0000 instead of 0010
                0x00, 0x01);                         // packet id 1
        assertThat(raw.awaitClosed(CLOSE_TIMEOUT)).isTrue();
    }

    /** A 3.1.1 connection with clean session, CONNACK checked. */
    private RawClient connected(String clientId) {
        RawClient raw = clients.raw();
        raw.send(Packets.connect(4, clientId, Packets.CLEAN, 60)); // CONNECT 3.1.1, clean session, keep alive 60
        raw.expectPacket(0x20, 0x02, 0x00, 0x00);    // CONNACK accepted, no session present
        return raw;
    }
}
