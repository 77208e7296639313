package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.testkit.RawClient;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Acceptance scenario: a QoS 2 flow cut by a dropped TCP connection completes after reconnect with exactly one
 * delivery, in both directions. The MQTT side under test is driven byte by byte (MQTT 3.1.1); the other side is a
 * Paho client.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Qos2RecoveryTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    /** Inbound: the publisher drops after PUBREC, reconnects, resends with DUP=1, completes; one delivery. */
    @Test
    void inboundQos2CutAfterPubrecCompletesOnceAfterReconnect() throws Exception { // [MQTT-4.3.3-2] [MQTT-4.4.0-1]
        TestClient subscriber = clients.connect(ClientKind.PAHO_V311);
        subscriber.subscribe("q/in", 2);

        RawClient raw = clients.raw();
        raw.send(
                0x10, 0x10,                          // CONNECT, remaining length 16
                0x00, 0x04, 'M', 'Q', 'T', 'T',      // protocol name
                0x04,                                // level 4 (3.1.1)
                0x00,                                // flags: clean session 0 (persistent)
                0x00, 0x3C,                          // keep alive 60 s
                0x00, 0x04, 'q', 'i', 'n', '1');     // client id "qin1"
        raw.expectPacket(
                0x20, 0x02,                          // CONNACK, remaining length 2
                0x00,                                // session present 0
                0x00);                               // accepted
        raw.send(
                0x34, 0x0E,                          // PUBLISH QoS 2, DUP 0, RETAIN 0, remaining length 14
                0x00, 0x04, 'q', '/', 'i', 'n',      // topic "q/in"
                0x00, 0x07,                          // packet id 7
                'o', 'n', 'c', 'e', '!', '!');       // payload "once!!"
        raw.expectPacket(
                0x50, 0x02,                          // PUBREC, remaining length 2
                0x00, 0x07);                         // packet id 7
        raw.close();                                 // the TCP connection drops before PUBREL

        RawClient again = clients.raw();
        again.send(
                0x10, 0x10,                          // CONNECT, remaining length 16
                0x00, 0x04, 'M', 'Q', 'T', 'T',      // protocol name
                0x04,                                // level 4 (3.1.1)
                0x00,                                // flags: clean session 0, resume the session
                0x00, 0x3C,                          // keep alive 60 s
                0x00, 0x04, 'q', 'i', 'n', '1');     // client id "qin1"
        again.expectPacket(
                0x20, 0x02,                          // CONNACK
                0x01,                                // session present 1 [MQTT-3.2.2-2]
                0x00);                               // accepted
        again.send(
                0x3C, 0x0E,                          // PUBLISH QoS 2, DUP 1 (re-delivery) [MQTT-3.3.1-1]
                0x00, 0x04, 'q', '/', 'i', 'n',      // topic "q/in"
                0x00, 0x07,                          // the same packet id 7 [MQTT-4.4.0-1]
                'o', 'n', 'c', 'e', '!', '!');       // payload "once!!"
        again.expectPacket(
                0x50, 0x02,                          // PUBREC again [MQTT-4.3.3-2]
                0x00, 0x07);                         // packet id 7
        again.send(
                0x62, 0x02,                          // PUBREL (flags 0010 [MQTT-3.6.1-1])
                0x00, 0x07);                         // packet id 7
        again.expectPacket(
                0x70, 0x02,                          // PUBCOMP
                0x00, 0x07);                         // packet id 7

        Msg m = subscriber.nextMessage();
        assertThat(m.text()).isEqualTo("once!!");
        assertThat(m.qos()).isEqualTo(2);
        assertThat(subscriber.pollQuietly()).as("exactly one delivery [MQTT-4.3.3-2]").isNull();
    }

    /** Outbound: the subscriber drops after PUBREL arrived (before PUBCOMP); the broker resends PUBREL. */
    @Test
    void outboundQos2CutBeforePubcompResendsPubrel() throws Exception { // [MQTT-4.4.0-1]
        RawClient raw = clients.raw();
        connectOut(raw, "qout1", 0x00);              // session present 0: a new session
        subscribeOut(raw, "q/o1");

        TestClient publisher = clients.connect(ClientKind.PAHO_V311);
        publisher.publish("q/o1", "x", 2);

        byte[] publish = raw.readPacket(RawClient.DEFAULT_TIMEOUT);
        assertThat(publish).isNotNull();
        assertThat(Packets.u8(publish, 0)).as("PUBLISH QoS 2, DUP 0").isEqualTo(0x34);
        int hi = Packets.u8(publish, 8);               // packet id after 34 RL 00 04 q / o 1
        int lo = Packets.u8(publish, 9);
        assertThat(Arrays.copyOfRange(publish, 10, publish.length)).isEqualTo(new byte[] {'x'});
        raw.send(
                0x50, 0x02,                          // PUBREC, remaining length 2
                hi, lo);                             // the PUBLISH's packet id
        raw.expectPacket(
                0x62, 0x02,                          // PUBREL
                hi, lo);
        raw.close();                                 // dropped before PUBCOMP

        RawClient again = clients.raw();
        connectOut(again, "qout1", 0x01);            // session present 1
        again.expectPacket(
                0x62, 0x02,                          // PUBREL resent with the original packet id [MQTT-4.4.0-1]
                hi, lo);
        again.send(
                0x70, 0x02,                          // PUBCOMP
                hi, lo);
        assertThat(again.readPacket(TestClient.QUIET_PERIOD)).as("no PUBLISH again: the message was delivered").isNull();
    }

    /** Outbound: the subscriber drops before PUBREC; the broker resends the PUBLISH with DUP=1, same id. */
    @Test
    void outboundQos2CutBeforePubrecResendsPublishWithDup() throws Exception { // [MQTT-4.4.0-1] [MQTT-3.3.1-1]
        RawClient raw = clients.raw();
        connectOut(raw, "qout2", 0x00);
        subscribeOut(raw, "q/o2");

        TestClient publisher = clients.connect(ClientKind.PAHO_V311);
        publisher.publish("q/o2", "y", 2);

        byte[] publish = raw.readPacket(RawClient.DEFAULT_TIMEOUT);
        assertThat(publish).isNotNull();
        assertThat(Packets.u8(publish, 0)).isEqualTo(0x34);
        int hi = Packets.u8(publish, 8);
        int lo = Packets.u8(publish, 9);
        raw.close();                                 // dropped before PUBREC

        RawClient again = clients.raw();
        connectOut(again, "qout2", 0x01);
        again.expectPacket(
                0x3C, 0x09,                          // PUBLISH QoS 2 with DUP 1, remaining length 9
                0x00, 0x04, 'q', '/', 'o', '2',      // topic "q/o2"
                hi, lo,                              // the original packet id
                'y');                                // payload
        again.send(0x50, 0x02, hi, lo);              // PUBREC
        again.expectPacket(0x62, 0x02, hi, lo);      // PUBREL
        again.send(0x70, 0x02, hi, lo);              // PUBCOMP
        assertThat(again.readPacket(TestClient.QUIET_PERIOD)).isNull();
    }

    /** CONNECT a five-character client id with clean session 0; expects CONNACK with that session present flag. */
    private static void connectOut(RawClient raw, String id, int sessionPresent) {
        raw.send(
                0x10, 0x11,                          // CONNECT, remaining length 17
                0x00, 0x04, 'M', 'Q', 'T', 'T',      // protocol name
                0x04,                                // level 4 (3.1.1)
                0x00,                                // flags: clean session 0
                0x00, 0x3C,                          // keep alive 60 s
                0x00, 0x05,                          // client id length 5
                id.charAt(0), id.charAt(1), id.charAt(2), id.charAt(3), id.charAt(4)); // client id
        raw.expectPacket(0x20, 0x02, sessionPresent, 0x00); // CONNACK
    }

    /** SUBSCRIBE to a four-character filter at QoS 2 (packet id 1), expects SUBACK granting QoS 2. */
    private static void subscribeOut(RawClient raw, String filter) {
        raw.send(
                0x82, 0x09,                          // SUBSCRIBE (flags 0010), remaining length 9
                0x00, 0x01,                          // packet id 1
                0x00, 0x04,                          // filter length 4
                filter.charAt(0), filter.charAt(1), filter.charAt(2), filter.charAt(3),
                0x02);                               // requested QoS 2
        raw.expectPacket(
                0x90, 0x03,                          // SUBACK
                0x00, 0x01,                          // packet id 1 [MQTT-3.8.4-2]
                0x02);                               // granted QoS 2
    }
}
