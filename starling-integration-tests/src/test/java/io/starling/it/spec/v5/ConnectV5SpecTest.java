package io.starling.it.spec.v5;

import static io.starling.it.spec.Wire.CLEAN;
import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.RETAIN;
import static io.starling.it.spec.Wire.WILL;
import static io.starling.it.spec.Wire.WILL_QOS1;
import static io.starling.it.spec.Wire.WILL_RETAIN;
import static io.starling.it.spec.Wire.props;
import static io.starling.it.spec.Wire.sessionExpiry;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 sections 3.1 CONNECT, 3.2 CONNACK, 3.12 PINGREQ and 3.14 DISCONNECT, byte by byte (protocol version 5).
 * Statement ids are 5.0 ids.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectV5SpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    // [MQTT-3.1.4-5] A valid CONNECT is answered with CONNACK reason code 0x00. [MQTT-3.2.2-1] the acknowledge flag
    // bits 7-1 are zero. [MQTT-3.2.2-2] Clean Start 1: Session Present 0. [MQTT-3.2.2-8] only defined reason codes.
    // [MQTT-2.2.2-1] a CONNACK without other properties still has its Property Length. [MQTT-4.12.0-6] and has no
    // Authentication Method.
    @Test
    void validConnectGetsConnack00_MQTT_3_1_4_5() {
        Conn c = conns.open();
        c.send(
                0x10, 0x0E,                                // CONNECT, remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x02,                                      // flags: clean start
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'k');                          // client id "k"
        byte[] connack = c.expectConnack5(0x00);           // flags 0, reason 0x00, Property Length consistent
        assertThat(connack[2] & 0xFF).as("acknowledge flags, bits 7-1 zero").isZero();
    }

    // [MQTT-3.1.0-1] The first packet must be CONNECT: anything else closes the connection.
    @Test
    void firstPacketNotConnectCloses_MQTT_3_1_0_1() {
        conns.open().send(
                0x82, 0x07,                                // SUBSCRIBE as the first packet
                0x00, 0x01,                                // packet id 1
                0x00,                                      // property length 0
                0x00, 0x01, 'a',                           // filter "a"
                0x00)                                      // options
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.0-2] A second CONNECT is a Protocol Error: DISCONNECT 0x82, close. [MQTT-4.13.1-1]
    @Test
    void secondConnectIsAProtocolError_MQTT_3_1_0_2() {
        Conn c = conns.connect5("v5-2nd");
        c.send(Wire.connect5("v5-2nd", CLEAN, 60, props())); // CONNECT again
        c.expectDisconnect(0x82);
    }

    // [MQTT-3.1.2-1] The protocol name must be "MQTT"; otherwise the server may send CONNACK 0x84 and must close.
    @Test
    void wrongProtocolNameCloses_MQTT_3_1_2_1() {
        conns.open().send(
                0x10, 0x0E,                                // CONNECT, remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'Z',            // protocol name "MQTZ"
                0x05,                                      // protocol version 5
                0x02,                                      // flags: clean start
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'n')                           // client id "n"
                .expectClosed();
    }

    // [MQTT-3.1.2-2] An unsupported protocol version: optional CONNACK (Starling: 0x01 in 3.1.1 format), then close.
    @Test
    void unsupportedVersionCloses_MQTT_3_1_2_2() {
        Conn c = conns.open();
        c.send(
                0x10, 0x0E,                                // CONNECT, remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x06,                                      // protocol version 6
                0x02,                                      // flags: clean start
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'u');                          // client id "u"
        c.expectClosed();
    }

    // [MQTT-3.1.2-3] The reserved CONNECT flag must be 0: the CONNECT is malformed (CONNACK 0x81 allowed), close.
    // [MQTT-3.1.4-1] a CONNECT that does not match the format closes the connection.
    @Test
    void reservedFlagCloses_MQTT_3_1_2_3() {
        Conn c = conns.open();
        c.send(
                0x10, 0x0E,                                // CONNECT, remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x03,                                      // flags: clean start + reserved bit
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'r');                          // client id "r"
        byte[] p;
        try {
            p = c.raw().readPacket(Conn.CLOSE);
        } catch (java.io.UncheckedIOException closed) {
            return;                                        // closed without CONNACK
        }
        assertThat(p).as("CONNACK 0x81 or nothing").isNotNull();
        // a 5.0 CONNACK with a 5.0 reason code [MQTT-3.2.2-8]; properties (a Reason String) may follow
        assertThat(p[0] & 0xFF).as("CONNACK").isEqualTo(0x20);
        assertThat(p[2]).as("session present 0").isEqualTo((byte) 0x00);
        assertThat(p[3] & 0xFF).as("0x81 malformed packet").isEqualTo(0x81);
        assertThat(p[4] & 0xFF).as("property length covers the rest").isEqualTo(p.length - 5);
        c.expectClosed();
    }

    // [MQTT-3.1.2-4] Clean Start 1 discards an existing session. [MQTT-3.1.2-6] Clean Start 0 without a session
    // creates one (Session Present 0). [MQTT-3.1.2-5] Clean Start 0 with a session resumes it (Session Present 1).
    // [MQTT-3.2.2-3] Session Present reflects whether state existed. [MQTT-3.1.2-23] with Session Expiry > 0 the
    // state is kept after the connection closes. [MQTT-3.1.4-4] Clean Start is processed on CONNECT.
    // [MQTT-3.1.3-2] the ClientID selects the session. [MQTT-4.1.0-1] state is kept while the session lasts.
    @Test
    void cleanStartAndSessionExpiry_MQTT_3_1_2_4() {
        Conn c = conns.connect5("v5-sess", false, props(sessionExpiry(60)), 0x00); // new session
        Conns.subscribe5(c, 1, props(), "v5sess/t", 1, 0x01);
        c.send(0xE0, 0x00);                                // DISCONNECT normal
        c.expectClosed();
        Conn pub = conns.connect5("v5-sess-pub");
        pub.send(Wire.publish5(QOS1, "v5sess/t", 1, props(), "queued"));
        pub.expectAck5(0x40, (0x00) << 8 | (0x01));                // PUBACK (short form: success, no properties)
        Conn resumed = conns.connect5("v5-sess", false, props(sessionExpiry(60)), 0x01); // resumed
        int id = resumed.expectPublish5(QOS1, "v5sess/t", props(), "queued");
        resumed.send(0x40, 0x02, id >> 8, id & 0xFF);
        resumed.send(0xE0, 0x00);
        resumed.expectClosed();
        Conn fresh = conns.connect5("v5-sess", true, props(sessionExpiry(60)), 0x00); // Clean Start 1: discarded
        pub.send(Wire.publish5(QOS1, "v5sess/t", 2, props(), "gone"));
        pub.expectAck5(0x40, (0x00) << 8 | (0x02));
        fresh.expectNothing();                             // the subscription went with the old session
    }

    // [MQTT-3.1.2-23] Session Expiry Interval 0 (absent): the session ends with the connection; Clean Start 0 later
    // finds nothing (Session Present 0). [MQTT-4.1.0-2] the state is discarded once the (zero) expiry has passed.
    @Test
    void sessionExpiry0EndsWithTheConnection_MQTT_3_1_2_23() {
        Conn c = conns.connect5("v5-exp0", false, props(), 0x00);
        Conns.subscribe5(c, 1, props(), "v5exp0/t", 1, 0x01);
        c.send(0xE0, 0x00);
        c.expectClosed();
        Conn again = conns.connect5("v5-exp0", false, props(), 0x00);
        again.expectAlive();
    }

    // [MQTT-3.1.2-7] The Will is stored with the session; [MQTT-3.1.2-8] it is published when the connection closes
    // without DISCONNECT 0x00 (Will Delay 0). [MQTT-3.1.2-14] Will Retain 0: published non-retained.
    // [MQTT-3.1.2-12] Will QoS 1 is valid.
    @Test
    void willIsPublishedOnDrop_MQTT_3_1_2_8() {
        Conn sub = conns.subscriber5("v5-will-sub", "v5will/t", 1);
        Conn c = conns.open();
        c.send(Wire.connect5Will("v5-will", CLEAN | WILL | WILL_QOS1, 60, props(), props(), "v5will/t", "bye"));
        c.expectConnack5(0x00);
        c.close();                                         // dropped
        int id = sub.expectPublish5(QOS1, "v5will/t", props(), "bye");
        sub.send(0x40, 0x02, id >> 8, id & 0xFF);
    }

    // [MQTT-3.1.2-15] Will Retain 1: the Will is published as a retained message.
    @Test
    void willRetainIsPublishedRetained_MQTT_3_1_2_15() {
        Conn live = conns.subscriber5("v5-wret-live", "v5wret/t", 0);
        Conn c = conns.open();
        c.send(Wire.connect5Will("v5-wret", CLEAN | WILL | WILL_RETAIN, 60, props(), props(), "v5wret/t", "r"));
        c.expectConnack5(0x00);
        c.close();
        live.expectPublish5(0, "v5wret/t", props(), "r");
        Conn later = conns.connect5("v5-wret-later");
        Conns.subscribe5(later, 1, props(), "v5wret/t", 0, 0x00);
        later.expectPublish5(RETAIN, "v5wret/t", props(), "r");
    }

    // [MQTT-3.1.2-10] DISCONNECT 0x00 removes the Will: nothing is published. [MQTT-3.14.4-3]
    @Test
    void normalDisconnectDiscardsTheWill_MQTT_3_1_2_10() {
        Conn sub = conns.subscriber5("v5-wd-sub", "v5wd/t", 0);
        Conn c = conns.open();
        c.send(Wire.connect5Will("v5-wd", CLEAN | WILL, 60, props(), props(), "v5wd/t", "w"));
        c.expectConnack5(0x00);
        c.send(
                0xE0, 0x01,                                // DISCONNECT, remaining length 1
                0x00);                                     // reason 0x00 normal disconnection
        c.expectClosed();
        sub.expectNothing();
    }

    // [MQTT-3.14.4-3] DISCONNECT 0x04 (Disconnect with Will Message) keeps the Will: it is published.
    @Test
    void disconnectWithWillMessagePublishesTheWill_MQTT_3_14_4_3() {
        Conn sub = conns.subscriber5("v5-dw-sub", "v5dw/t", 0);
        Conn c = conns.open();
        c.send(Wire.connect5Will("v5-dw", CLEAN | WILL, 60, props(), props(), "v5dw/t", "w4"));
        c.expectConnack5(0x00);
        c.send(
                0xE0, 0x01,                                // DISCONNECT, remaining length 1
                0x04);                                     // reason 0x04 disconnect with Will Message
        c.expectClosed();
        sub.expectPublish5(0, "v5dw/t", props(), "w4");
    }

    // [MQTT-3.1.2-9] Will Flag 1 requires Will Properties, Will Topic and Will Payload; missing, the CONNECT is
    // malformed. [MQTT-3.1.2-11] Will QoS must be 0 without the Will Flag. [MQTT-3.1.2-13] Will Retain too.
    @Test
    void inconsistentWillFlagsClose_MQTT_3_1_2_9() {
        conns.open().send(
                0x10, 0x0E,                                // CONNECT, remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x06,                                      // flags: clean start, will flag
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'w')                           // client id "w", then no will at all
                .expectClosed();
        conns.open().send(
                0x10, 0x0E,                                // CONNECT, remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x0A,                                      // flags: clean start, will QoS 1 without will flag
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'w')                           // client id "w"
                .expectClosed();
        conns.open().send(
                0x10, 0x0E,                                // CONNECT, remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x22,                                      // flags: clean start, will retain without will flag
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'w')                           // client id "w"
                .expectClosed();
    }

    // [MQTT-3.1.2-12] Will QoS 3 is malformed.
    @Test
    void willQos3Closes_MQTT_3_1_2_12() {
        conns.open().send(Wire.connect5Will("wq3", CLEAN | WILL | 0x18, 60, props(), props(), "w/t", "m")) // QoS 3
                .expectClosed();
    }

    // [MQTT-3.1.2-16] User Name Flag 0: no user name; [MQTT-3.1.2-17] flag 1: a user name; [MQTT-3.1.2-18] Password
    // Flag 0: no password; [MQTT-3.1.2-19] flag 1: a password (in 5.0 a password without a user name is allowed).
    // [MQTT-3.1.3-1] payload order; [MQTT-3.1.3-12] the user name is a UTF-8 string.
    @Test
    void userNameAndPassword_MQTT_3_1_2_17() {
        Conn ok = conns.open();
        ok.send(
                0x10, 0x17,                                // CONNECT, remaining length 23
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0xC2,                                      // flags: user name, password, clean start
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'u',                           // client id "u"
                0x00, 0x03, 'b', 'o', 'b',                 // user name "bob"
                0x00, 0x02, 'p', 'w');                     // password "pw"
        ok.expectConnack5(0x00);
        Conn pwOnly = conns.open();
        pwOnly.send(
                0x10, 0x12,                                // CONNECT, remaining length 18
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x42,                                      // flags: password only, clean start
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'x',                           // client id "x"
                0x00, 0x02, 'p', 'w');                     // password "pw"
        pwOnly.expectConnack5(0x00);
        conns.open().send(
                0x10, 0x0E,                                // CONNECT, remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x82,                                      // flags: user name flag, clean start
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'y')                           // client id "y", user name missing [MQTT-3.1.2-17]
                .expectClosed();
        conns.open().send(
                0x10, 0x13,                                // CONNECT, remaining length 19
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x02,                                      // flags: clean start, no user name flag
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'z',                           // client id "z"
                0x00, 0x03, 'b', 'o', 'b')                 // an unannounced user name [MQTT-3.1.2-16]
                .expectClosed();
        conns.open().send(
                0x10, 0x12,                                // CONNECT, remaining length 18
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x82,                                      // flags: user name, clean start
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'q',                           // client id "q"
                0x00, 0x02, 0xC0, 0x80)                    // user name: overlong NUL, not UTF-8 [MQTT-3.1.3-12]
                .expectClosed();
    }

    // [MQTT-3.1.2-22] Keep Alive 1 s and silence: the server closes within 1.5 s (5.0: DISCONNECT 0x8D first).
    // [MQTT-3.2.2-22] no Server Keep Alive was sent, so the client's value applies.
    @Test
    void keepAliveTimeout_MQTT_3_1_2_22() {
        Conn c = conns.open();
        c.send(Wire.connect5("v5-ka", CLEAN, 1, props())); // keep alive 1 s
        c.expectConnack5(0x00);                             // no Server Keep Alive property
        long start = System.nanoTime();
        c.expectDisconnect(0x8D);                          // Keep Alive timeout
        long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertThat(ms).as("ms until the DISCONNECT").isLessThan(3000);
    }

    // [MQTT-3.1.3-2] The ClientID identifies the session; [MQTT-3.1.3-3] it is present and first;
    // [MQTT-3.1.3-4] it is a UTF-8 string: ill-formed UTF-8 closes. [MQTT-3.1.3-5] 1-23 alphanumerics accepted.
    @Test
    void clientIdentifierRules_MQTT_3_1_3_5() {
        Conn ok = conns.open();
        ok.send(Wire.connect5("09azAZ0123456789abcdXYZ", CLEAN, 60, props())); // 23 characters
        ok.expectConnack5(0x00);
        conns.open().send(
                0x10, 0x0B,                                // CONNECT, remaining length 11
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x02,                                      // flags: clean start
                0x00, 0x3C,                                // keep alive 60 s
                0x00)                                      // property length 0, and no client id [MQTT-3.1.3-3]
                .expectClosed();
        conns.open().send(
                0x10, 0x0F,                                // CONNECT, remaining length 15
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x02,                                      // flags: clean start
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x02, 0xED, 0xB0)                    // client id: a cut surrogate [MQTT-3.1.3-4]
                .expectClosed();
    }

    // [MQTT-3.1.3-6] A zero-length ClientID gets a unique identifier; [MQTT-3.1.3-7] returned as Assigned Client
    // Identifier; [MQTT-3.2.2-16] one no other session uses: two such clients get different identifiers.
    @Test
    void assignedClientIdentifier_MQTT_3_1_3_7() {
        String[] ids = new String[2];
        for (int i = 0; i < 2; i++) {
            Conn c = conns.open();
            c.send(
                    0x10, 0x0D,                            // CONNECT, remaining length 13
                    0x00, 0x04, 'M', 'Q', 'T', 'T',        // protocol name
                    0x05,                                  // protocol version 5
                    0x02,                                  // flags: clean start
                    0x00, 0x3C,                            // keep alive 60 s
                    0x00,                                  // property length 0
                    0x00, 0x00);                           // client id ""
            byte[] connack = c.read();
            assertThat(connack[0] & 0xFF).isEqualTo(0x20);
            assertThat(connack[3] & 0xFF).as("reason code").isEqualTo(0x00);
            String s = new String(connack, java.nio.charset.StandardCharsets.ISO_8859_1);
            int at = s.indexOf((char) 0x12);               // Assigned Client Identifier property
            assertThat(at).as("Assigned Client Identifier in " + io.starling.testkit.RawClient.hex(connack)).isPositive();
            int len = (connack[at + 1] & 0xFF) << 8 | (connack[at + 2] & 0xFF);
            ids[i] = new String(connack, at + 3, len, java.nio.charset.StandardCharsets.UTF_8);
            assertThat(ids[i]).isNotEmpty();
            c.expectAlive();
        }
        assertThat(ids[0]).isNotEqualTo(ids[1]);
    }

    // [MQTT-3.1.3-11] The Will Topic is a UTF-8 string: ill-formed UTF-8 closes the connection.
    @Test
    void willTopicMustBeUtf8_MQTT_3_1_3_11() {
        conns.open().send(
                0x10, 0x16,                                // CONNECT, remaining length 22
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x06,                                      // flags: clean start, will
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x01, 'w',                           // client id "w"
                0x00,                                      // will property length 0
                0x00, 0x02, 0xFF, 0xFF,                    // will topic: not UTF-8
                0x00, 0x01, 'm')                           // will payload "m"
                .expectClosed();
    }

    // [MQTT-3.1.4-3] A second connection with the same ClientID: DISCONNECT 0x8E to the old one, which is closed.
    @Test
    void takeoverSendsDisconnect8E_MQTT_3_1_4_3() {
        Conn first = conns.connect5("v5-take");
        Conn second = conns.connect5("v5-take");
        first.expectDisconnect(0x8E);                      // Session taken over
        second.expectAlive();
    }

    // [MQTT-3.1.4-6] After a refused CONNECT nothing else is processed: a retained PUBLISH behind a CONNECT with an
    // unsupported Authentication Method (refused, 0x8C) is not stored. [MQTT-3.2.2-6] Session Present 0;
    // [MQTT-3.2.2-7] closed after the CONNACK. [MQTT-4.12.0-1] CONNACK 0x8C for an unsupported method.
    // [MQTT-3.1.4-2] a failed authentication check closes the connection. [MQTT-4.13.2-1] a CONNACK >= 0x80 closes.
    @Test
    void nothingIsProcessedAfterARefusedConnect_MQTT_3_1_4_6() {
        Conn c = conns.open();
        c.send(Wire.cat(
                Wire.connect5("v5-refused", CLEAN, 60, props(
                        Wire.b(0x15), Wire.str("NOPE"))),  // Authentication Method "NOPE"
                Wire.publish5(RETAIN, "v5refused/t", 0, props(), "must not be stored")));
        c.expectConnackRefusal(0x8C);
        Conn sub = conns.connect5("v5-refused-sub");
        Conns.subscribe5(sub, 1, props(), "v5refused/t", 0, 0x00);
        sub.expectNothing();
    }

    // [MQTT-3.2.0-1] CONNACK is the first packet the server sends, before queued messages. [MQTT-3.2.0-2] only one.
    @Test
    void connackFirstAndOnlyOnce_MQTT_3_2_0_1() {
        Conn c = conns.connect5("v5-first", false, props(sessionExpiry(60)), 0x00);
        Conns.subscribe5(c, 1, props(), "v5first/t", 1, 0x01);
        c.close();
        Conn pub = conns.connect5("v5-first-pub");
        pub.send(Wire.publish5(QOS1, "v5first/t", 1, props(), "q"));
        pub.expectAck5(0x40, (0x00) << 8 | (0x01));
        Conn again = conns.open();
        again.send(Wire.connect5("v5-first", 0, 60, props(sessionExpiry(60))));
        byte[] connack = again.read();
        assertThat(connack[0] & 0xFF).as("first packet").isEqualTo(0x20);
        assertThat(connack[2] & 0xFF).as("session present").isEqualTo(0x01);
        int id = again.expectPublish5(QOS1, "v5first/t", props(), "q");
        again.send(0x40, 0x02, id >> 8, id & 0xFF);
        again.expectAlive();                               // and no second CONNACK [MQTT-3.2.0-2]
        again.expectNothing();
    }

    // [MQTT-3.12.4-1] Every PINGREQ gets a PINGRESP.
    @Test
    void pingreqGetsPingresp_MQTT_3_12_4_1() {
        Conn c = conns.connect5("v5-ping");
        c.send(0xC0, 0x00, 0xC0, 0x00);                    // two PINGREQ
        c.expect(0xD0, 0x00);                              // PINGRESP
        c.expect(0xD0, 0x00);                              // PINGRESP
    }

    // [MQTT-3.14.1-1] DISCONNECT reserved bits must be 0: otherwise DISCONNECT 0x81 (Malformed Packet). [MQTT-2.1.3-1]
    // [MQTT-3.14.0-1] the server sends a DISCONNECT only after a successful CONNACK; [MQTT-3.14.2-1] defined codes;
    // [MQTT-3.14.2-2] no Session Expiry Interval in it; [MQTT-3.14.4-1] nothing after it; [MQTT-3.14.4-2] closed.
    @Test
    void disconnectWithReservedBitsIsMalformed_MQTT_3_14_1_1() {
        Conn c = conns.connect5("v5-dflags");
        c.send(
                0xE2, 0x00);                               // DISCONNECT with flags 0010
        c.expectDisconnect(0x81);                          // checks no Session Expiry Interval and the close
    }

    // [MQTT-3.14.2-2] / 3.14.2.2: a client that connected with Session Expiry 0 must not set a non-zero one at
    // DISCONNECT: Protocol Error, DISCONNECT 0x82 from the server.
    @Test
    void sessionExpiryFromZeroAtDisconnectIsAProtocolError_MQTT_3_14_2_2() {
        Conn c = conns.connect5("v5-dexp");
        c.send(Wire.packet(0xE0,                           // DISCONNECT
                Wire.b(0x00),                              // reason 0x00
                props(sessionExpiry(30))));                // Session Expiry Interval 30
        c.expectDisconnect(0x82);
    }
}
