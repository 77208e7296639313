package io.starling.it.spec.v311;

import static io.starling.it.spec.Wire.CLEAN;
import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.QOS2;
import static io.starling.it.spec.Wire.RETAIN;
import static io.starling.it.spec.Wire.WILL;
import static io.starling.it.spec.Wire.WILL_QOS1;
import static io.starling.it.spec.Wire.WILL_QOS2;
import static io.starling.it.spec.Wire.WILL_RETAIN;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 3.1.1 section 3.1 CONNECT and 3.2 CONNACK, byte by byte. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectSpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    /** A second broker that rejects client identifiers longer than 8 characters. */
    @RegisterExtension
    static BrokerExtension shortIds = new BrokerExtension(b -> b.maxClientIdLength(8));

    @RegisterExtension
    final Conns conns = new Conns(broker);

    @RegisterExtension
    final Conns shortIdConns = new Conns(shortIds);

    // [MQTT-3.1.0-1] The first packet from the client must be CONNECT; the server closes a connection that starts
    // with anything else.
    @Test
    void firstPacketNotConnectIsClosed_MQTT_3_1_0_1() {
        conns.open().send(
                0xC0, 0x00)                                // PINGREQ as the first packet
                .expectClosedWithoutPacket();
        conns.open().send(
                0x30, 0x04,                                // PUBLISH QoS 0, remaining length 4
                0x00, 0x01, 'a',                           // topic "a"
                'x')                                       // payload
                .expectClosedWithoutPacket();
        conns.open().send(Wire.subscribe311(1, "a", 0))    // SUBSCRIBE as the first packet
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.0-2] A second CONNECT on the same connection is a protocol violation: disconnect.
    @Test
    void secondConnectIsClosed_MQTT_3_1_0_2() {
        Conn c = conns.connect311("c2nd");
        c.send(Wire.connect311("c2nd", CLEAN, 60));        // the same CONNECT again
        c.expectClosedWithoutPacket();
    }

    // [MQTT-3.1.2-1] A protocol name other than "MQTT" is not handled as 3.1.1: Starling closes without CONNACK.
    // [MQTT-3.2.2-6] No return code applies to an unknown protocol, so no CONNACK is sent at all.
    @Test
    void unknownProtocolNameIsClosedWithoutConnack_MQTT_3_1_2_1() {
        conns.open().send(
                0x10, 0x0D,                                // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'X',            // protocol name "MQTX"
                0x04,                                      // level 4
                0x02,                                      // flags: clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'p')                           // client id "p"
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.2-2] Unsupported protocol level: CONNACK with return code 0x01, then the connection is closed.
    // [MQTT-3.2.2-5] After a non-zero CONNACK the server closes the connection.
    @Test
    void unsupportedLevelGetsConnack01AndClose_MQTT_3_1_2_2() {
        Conn c = conns.open();
        c.send(
                0x10, 0x0D,                                // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x07,                                      // level 7: not a version Starling speaks
                0x02,                                      // flags: clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'v');                          // client id "v"
        c.expect(
                0x20, 0x02,                                // CONNACK
                0x00,                                      // session present 0 [MQTT-3.2.2-4]
                0x01);                                     // 0x01 unacceptable protocol version
        c.expectClosed();
    }

    // [MQTT-3.1.2-3] The reserved CONNECT flag must be 0; otherwise the server disconnects the client.
    // [MQTT-3.1.4-1] An invalid CONNECT is closed without a CONNACK.
    @Test
    void reservedConnectFlagIsClosed_MQTT_3_1_2_3() {
        conns.open().send(
                0x10, 0x0D,                                // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x03,                                      // flags: clean session + reserved bit 0 set
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'r')                           // client id "r"
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.2-4] CleanSession=0 resumes the session identified by the Client Identifier and keeps it after the
    // disconnect. [MQTT-3.2.2-2] Session Present is 1 when a stored session is resumed.
    // [MQTT-3.2.2-3] Session Present is 0 for CleanSession=0 when there was no stored session.
    @Test
    void cleanSession0ResumesTheSession_MQTT_3_1_2_4() {
        Conn c = conns.connect311("cs0-resume", false, 0x00); // no stored session yet: session present 0
        Conns.subscribe311(c, 1, "cs0/resume", 1, 1);
        c.send(0xE0, 0x00);                                // DISCONNECT
        c.expectClosed();
        Conn again = conns.connect311("cs0-resume", false, 0x01); // session present 1
        Conn pub = conns.connect311("cs0-resume-pub");
        pub.send(Wire.publish311(QOS1, "cs0/resume", 5, "kept")); // PUBLISH QoS 1, packet id 5
        pub.expect(0x40, 0x02, 0x00, 0x05);                // PUBACK 5
        // the subscription was part of the session: no new SUBSCRIBE needed
        int id = again.expectPublish311(QOS1, "cs0/resume", "kept");
        again.send(0x40, 0x02, id >> 8, id & 0xFF);        // PUBACK
    }

    // [MQTT-3.1.2-5] While a CleanSession=0 client is disconnected, the server stores QoS 1 and QoS 2 messages
    // matching its subscriptions and delivers them when it reconnects.
    @Test
    void storedQos1AndQos2MessagesAreDeliveredOnResume_MQTT_3_1_2_5() {
        Conn c = conns.connect311("cs0-store", false, 0x00);
        Conns.subscribe311(c, 1, "cs0/store", 2, 2);
        c.send(0xE0, 0x00);                                // DISCONNECT
        c.expectClosed();
        Conn pub = conns.connect311("cs0-store-pub");
        pub.send(Wire.publish311(QOS1, "cs0/store", 1, "one")); // PUBLISH QoS 1, packet id 1
        pub.expect(0x40, 0x02, 0x00, 0x01);                // PUBACK
        pub.send(Wire.publish311(QOS2, "cs0/store", 2, "two")); // PUBLISH QoS 2, packet id 2
        pub.expect(0x50, 0x02, 0x00, 0x02);                // PUBREC
        pub.send(0x62, 0x02, 0x00, 0x02);                  // PUBREL
        pub.expect(0x70, 0x02, 0x00, 0x02);                // PUBCOMP
        Conn again = conns.connect311("cs0-store", false, 0x01);
        int id1 = again.expectPublish311(QOS1, "cs0/store", "one");
        int id2 = again.expectPublish311(QOS2, "cs0/store", "two");
        again.send(0x40, 0x02, id1 >> 8, id1 & 0xFF);      // PUBACK
        again.send(0x50, 0x02, id2 >> 8, id2 & 0xFF);      // PUBREC
        again.expect(0x62, 0x02, id2 >> 8, id2 & 0xFF);    // PUBREL
    }

    // [MQTT-3.1.2-6] CleanSession=1 discards the previous session and the new session's state is not reused
    // later. [MQTT-3.2.2-1] CleanSession=1 is answered with Session Present 0 even if a session existed.
    @Test
    void cleanSession1DiscardsTheSession_MQTT_3_1_2_6() {
        Conn c = conns.connect311("cs1-drop", false, 0x00);
        Conns.subscribe311(c, 1, "cs1/drop", 1, 1);
        c.send(0xE0, 0x00);                                // DISCONNECT
        c.expectClosed();
        Conn clean = conns.connect311("cs1-drop", true, 0x00); // session present 0 although a session existed
        Conn pub = conns.connect311("cs1-drop-pub");
        pub.send(Wire.publish311(QOS1, "cs1/drop", 1, "x"));
        pub.expect(0x40, 0x02, 0x00, 0x01);                // PUBACK
        clean.expectNothing();                             // the old subscription is gone
        clean.send(0xE0, 0x00);                            // DISCONNECT: the clean session ends
        clean.expectClosed();
        Conn later = conns.connect311("cs1-drop", false, 0x00); // nothing of the clean session survived
        pub.send(Wire.publish311(QOS1, "cs1/drop", 2, "y"));
        pub.expect(0x40, 0x02, 0x00, 0x02);
        later.expectNothing();
    }

    // [MQTT-3.1.2-6] A CleanSession=1 session lasts only as long as its network connection and is never reused: a
    // CleanSession=0 CONNECT that takes the Client Identifier over finds no stored session (Session Present 0,
    // [MQTT-3.2.2-3]) and does not inherit the clean session's subscription.
    @Test
    void cleanSessionIsNotResumedByATakeover_MQTT_3_1_2_6() {
        Conn clean = conns.connect311("cs1-take", true, 0x00);
        Conns.subscribe311(clean, 1, "cs1/take", 1, 1);
        Conn resumer = conns.connect311("cs1-take", false, 0x00); // must not see the clean session as stored
        clean.expectClosed();
        Conn pub = conns.connect311("cs1-take-pub");
        pub.send(Wire.publish311(QOS1, "cs1/take", 1, "x"));
        pub.expect(0x40, 0x02, 0x00, 0x01);
        resumer.expectNothing();                           // the clean session's subscription is not reused
    }

    // [MQTT-3.1.2-7] Retained messages are not part of the session: they outlive the session of their publisher.
    @Test
    void retainedMessagesOutliveTheSession_MQTT_3_1_2_7() {
        Conn pub = conns.connect311("ret-outlive");
        pub.send(Wire.publish311(RETAIN | QOS1, "ret/outlive", 1, "still")); // retained PUBLISH QoS 1
        pub.expect(0x40, 0x02, 0x00, 0x01);                // PUBACK
        pub.send(0xE0, 0x00);                              // DISCONNECT: the clean session ends
        pub.expectClosed();
        Conn sub = conns.connect311("ret-outlive-sub");
        Conns.subscribe311(sub, 1, "ret/outlive", 0, 0);
        sub.expectPublish311(RETAIN, "ret/outlive", "still");
    }

    // [MQTT-3.1.2-8] With Will Flag=1 the Will is published when the connection closes without DISCONNECT.
    // [MQTT-3.1.2-16] Will Retain=0: the Will is published as a non-retained message.
    @Test
    void willIsPublishedWhenTheConnectionDrops_MQTT_3_1_2_8() {
        Conn sub = conns.subscriber311("will-drop-sub", "will/drop", 1);
        Conn c = conns.open();
        c.send(
                0x10, 0x20,                                // CONNECT, remaining length 32
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x0E,                                      // flags: clean session, will, will QoS 1, will retain 0
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x03, 'w', 'd', '1',                 // client id "wd1"
                0x00, 0x09, 'w', 'i', 'l', 'l', '/', 'd', 'r', 'o', 'p', // will topic "will/drop"
                0x00, 0x04, 'g', 'o', 'n', 'e');           // will message "gone"
        c.expect(0x20, 0x02, 0x00, 0x00);                  // CONNACK accepted
        c.close();                                         // drop the TCP connection, no DISCONNECT
        int id = sub.expectPublish311(QOS1, "will/drop", "gone"); // RETAIN 0 [MQTT-3.1.2-16]
        sub.send(0x40, 0x02, id >> 8, id & 0xFF);          // PUBACK
        Conn later = conns.connect311("will-drop-later");
        Conns.subscribe311(later, 1, "will/drop", 1, 1);
        later.expectNothing();                             // not retained [MQTT-3.1.2-16]
    }

    // [MQTT-3.1.2-8] A connection closed by the server for a protocol error also publishes the Will.
    @Test
    void willIsPublishedWhenTheServerClosesForAProtocolError_MQTT_3_1_2_8() {
        Conn sub = conns.subscriber311("will-err-sub", "will/err", 0);
        Conn c = conns.open();
        c.send(Wire.connect311Will("will-err", CLEAN | WILL, 60, "will/err", "bye"));
        c.expect(0x20, 0x02, 0x00, 0x00);                  // CONNACK accepted
        c.send(
                0x36, 0x06,                                // PUBLISH with QoS 3: a protocol violation
                0x00, 0x01, 'a',                           // topic "a"
                0x00, 0x01,                                // packet id 1
                'x');                                      // payload
        c.expectClosed();
        sub.expectPublish311(0, "will/err", "bye");
    }

    // [MQTT-3.1.2-9] With Will Flag=1 the payload must hold Will Topic and Will Message; a CONNECT without them is
    // malformed and the connection is closed.
    @Test
    void willFlagWithoutWillFieldsIsClosed_MQTT_3_1_2_9() {
        conns.open().send(
                0x10, 0x0D,                                // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x06,                                      // flags: clean session, will flag
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'w')                           // client id "w" and no will topic / message
                .expectClosedWithoutPacket();
        conns.open().send(
                0x10, 0x12,                                // CONNECT, remaining length 18
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x06,                                      // flags: clean session, will flag
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'w',                           // client id "w"
                0x00, 0x03, 'a', '/', 'b')                 // will topic "a/b" but no will message
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.2-10] The Will is deleted once it has been published: a later drop of the resumed session (without a
    // will this time) publishes nothing. (The DISCONNECT half is in PingDisconnectSpecTest.)
    @Test
    void willIsDeletedAfterPublication_MQTT_3_1_2_10() {
        Conn sub = conns.subscriber311("will-once-sub", "will/once", 0);
        Conn c = conns.open();
        c.send(Wire.connect311Will("will-once", WILL, 60, "will/once", "w")); // CleanSession 0, will QoS 0
        c.expect(0x20, 0x02, 0x00, 0x00);                  // CONNACK
        c.close();                                         // dropped: the will is published
        sub.expectPublish311(0, "will/once", "w");
        Conn again = conns.connect311("will-once", false, 0x01); // the same session, no will this time
        again.close();                                     // dropped again
        sub.expectNothing();                               // the will was not kept in the session
    }

    // [MQTT-3.1.2-11] Will Flag=0 requires Will QoS 0 and Will Retain 0; [MQTT-3.1.2-13] Will QoS must be 0 when
    // Will Flag=0; [MQTT-3.1.2-15] Will Retain must be 0 when Will Flag=0. Otherwise the CONNECT is malformed.
    @Test
    void willQosOrRetainWithoutWillFlagIsClosed_MQTT_3_1_2_11() {
        conns.open().send(
                0x10, 0x0D,                                // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x0A,                                      // flags: clean session, will QoS 1, will flag 0
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'q')                           // client id "q"
                .expectClosedWithoutPacket();
        conns.open().send(
                0x10, 0x0D,                                // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x22,                                      // flags: clean session, will retain, will flag 0
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'q')                           // client id "q"
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.2-12] Will Flag=0: no Will Message is published when the connection drops.
    @Test
    void noWillFlagPublishesNothing_MQTT_3_1_2_12() {
        Conn sub = conns.subscriber311("nowill-sub", "#", 0).drain(); // retained messages of other tests
        Conn c = conns.connect311("nowill");              // CONNECT with will flag 0
        c.close();                                         // dropped without DISCONNECT
        sub.expectNothing();
    }

    // [MQTT-3.1.2-14] Will QoS 3 is invalid: the CONNECT is malformed and the connection is closed.
    @Test
    void willQos3IsClosed_MQTT_3_1_2_14() {
        conns.open().send(Wire.connect311Will("q3", CLEAN | WILL | WILL_QOS1 | WILL_QOS2, 60, "w/t", "m")) // QoS 3
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.2-17] Will Retain=1: the Will is published as a retained message. [MQTT-3.1.2-14] Will QoS 2 is valid.
    @Test
    void willRetain1IsPublishedRetained_MQTT_3_1_2_17() {
        Conn live = conns.subscriber311("will-ret-live", "will/ret", 0);
        Conn c = conns.open();
        c.send(Wire.connect311Will("will-ret", CLEAN | WILL | WILL_QOS2 | WILL_RETAIN, 60, "will/ret", "r"));
        c.expect(0x20, 0x02, 0x00, 0x00);                  // CONNACK
        c.close();
        live.expectPublish311(0, "will/ret", "r");         // the will has been published (live: RETAIN 0)
        Conn later = conns.connect311("will-ret-later");
        Conns.subscribe311(later, 1, "will/ret", 2, 2);
        int id = later.expectPublish311(QOS2 | RETAIN, "will/ret", "r"); // retained, with the will QoS 2
        later.send(0x50, 0x02, id >> 8, id & 0xFF);        // PUBREC
        later.expect(0x62, 0x02, id >> 8, id & 0xFF);      // PUBREL
        later.send(0x70, 0x02, id >> 8, id & 0xFF);        // PUBCOMP
    }

    // [MQTT-3.1.2-18] User Name Flag=0: no user name in the payload; a CONNECT with one is malformed.
    // [MQTT-3.1.2-20] Password Flag=0: no password in the payload; a CONNECT with one is malformed.
    @Test
    void fieldsBeyondTheFlagsAreClosed_MQTT_3_1_2_18() {
        conns.open().send(
                0x10, 0x12,                                // CONNECT, remaining length 18
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x02,                                      // flags: clean session, user name flag 0
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'u',                           // client id "u"
                0x00, 0x03, 'b', 'o', 'b')                 // a user name nobody announced
                .expectClosedWithoutPacket();
        conns.open().send(
                0x10, 0x17,                                // CONNECT, remaining length 23
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x82,                                      // flags: clean session, user name 1, password 0
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'u',                           // client id "u"
                0x00, 0x03, 'b', 'o', 'b',                 // user name "bob"
                0x00, 0x03, 'p', 'w', 'd')                 // a password nobody announced [MQTT-3.1.2-20]
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.2-19] User Name Flag=1: the user name is in the payload (accepted); missing, the CONNECT is malformed.
    // [MQTT-3.1.2-21] Password Flag=1: the password is in the payload (accepted); missing, the CONNECT is malformed.
    // [MQTT-3.1.3-1] The payload fields come in the order client id, will topic, will message, user name, password.
    @Test
    void userNameAndPasswordPresentAreAccepted_MQTT_3_1_2_19() {
        Conn sub = conns.subscriber311("all-fields-sub", "all/fields", 0);
        Conn c = conns.open();
        c.send(
                0x10, 0x27,                                // CONNECT, remaining length 39
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0xC6,                                      // flags: user name, password, will (QoS 0), clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x02, 'a', 'f',                      // 1. client id "af"
                0x00, 0x0A, 'a', 'l', 'l', '/', 'f', 'i', 'e', 'l', 'd', 's', // 2. will topic "all/fields"
                0x00, 0x01, 'W',                           // 3. will message "W"
                0x00, 0x03, 'b', 'o', 'b',                 // 4. user name "bob"
                0x00, 0x03, 'p', 'w', 'd');                // 5. password "pwd"
        c.expect(0x20, 0x02, 0x00, 0x00);                  // CONNACK accepted
        c.close();
        sub.expectPublish311(0, "all/fields", "W");        // the will fields were read in their place
        conns.open().send(
                0x10, 0x0D,                                // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x82,                                      // flags: user name flag 1, clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'u')                           // client id "u" and no user name
                .expectClosedWithoutPacket();
        conns.open().send(
                0x10, 0x12,                                // CONNECT, remaining length 18
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0xC2,                                      // flags: user name 1, password 1, clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'u',                           // client id "u"
                0x00, 0x03, 'b', 'o', 'b')                 // user name "bob" and no password [MQTT-3.1.2-21]
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.2-22] The Password Flag must be 0 when the User Name Flag is 0.
    @Test
    void passwordWithoutUserNameIsClosed_MQTT_3_1_2_22() {
        conns.open().send(
                0x10, 0x12,                                // CONNECT, remaining length 18
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x42,                                      // flags: password 1, user name 0, clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'p',                           // client id "p"
                0x00, 0x03, 'p', 'w', 'd')                 // password "pwd"
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.2-24] Keep Alive 1 s and nothing sent: the server disconnects within 1.5 x Keep Alive.
    @Test
    void silentClientIsDisconnectedAfterOneAndAHalfKeepAlive_MQTT_3_1_2_24() {
        Conn c = conns.open();
        c.send(Wire.connect311("ka1", CLEAN, 1));          // keep alive 1 s
        c.expect(0x20, 0x02, 0x00, 0x00);                  // CONNACK
        long start = System.nanoTime();
        c.expectClosed();
        long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
        if (ms > 3000) {
            throw new AssertionError("closed only after " + ms + " ms; keep alive 1 s allows 1.5 s");
        }
    }

    // [MQTT-3.1.2-24] A client that sends a packet within each Keep Alive period stays connected past 1.5 x Keep Alive.
    @Test
    void activeClientStaysConnected_MQTT_3_1_2_24() {
        Conn c = conns.open();
        c.send(Wire.connect311("ka2", CLEAN, 1));          // keep alive 1 s
        c.expect(0x20, 0x02, 0x00, 0x00);                  // CONNACK
        for (int i = 0; i < 4; i++) {                      // 4 x 0.4 s + round trips > 1.5 s
            c.expectNothing();                             // wait 0.4 s (bounded poll, nothing expected)
            c.expectAlive();                               // PINGREQ / PINGRESP
        }
    }

    // [MQTT-3.1.2-8] A keep-alive timeout is a connection closed without DISCONNECT: the Will is published.
    @Test
    void keepAliveTimeoutPublishesTheWill_MQTT_3_1_2_8() {
        Conn sub = conns.subscriber311("ka-will-sub", "ka/will", 0);
        Conn c = conns.open();
        c.send(Wire.connect311Will("ka-will", CLEAN | WILL, 1, "ka/will", "timeout")); // keep alive 1 s
        c.expect(0x20, 0x02, 0x00, 0x00);                  // CONNACK
        c.expectClosed();
        sub.expectPublish311(0, "ka/will", "timeout");
    }

    // [MQTT-3.1.3-2] The Client Identifier selects the session: two identifiers have two separate sessions.
    @Test
    void clientIdentifierSelectsTheSession_MQTT_3_1_3_2() {
        Conn a = conns.connect311("sess-a", false, 0x00);
        Conns.subscribe311(a, 1, "sess/a", 1, 1);
        a.send(0xE0, 0x00);                                // DISCONNECT
        a.expectClosed();
        Conn b = conns.connect311("sess-b", false, 0x00); // a different id: no stored session
        Conn pub = conns.connect311("sess-pub");
        pub.send(Wire.publish311(QOS1, "sess/a", 1, "for a"));
        pub.expect(0x40, 0x02, 0x00, 0x01);
        b.expectNothing();                                 // b has not got a's subscription
        Conn a2 = conns.connect311("sess-a", false, 0x01); // a's session, with the message queued for it
        int id = a2.expectPublish311(QOS1, "sess/a", "for a");
        a2.send(0x40, 0x02, id >> 8, id & 0xFF);
    }

    // [MQTT-3.1.3-3] The Client Identifier must be present as the first payload field: a CONNECT whose payload is
    // missing is malformed.
    @Test
    void connectWithoutClientIdIsClosed_MQTT_3_1_3_3() {
        conns.open().send(
                0x10, 0x0A,                                // CONNECT, remaining length 10
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x02,                                      // flags: clean session
                0x00, 0x3C)                                // keep alive 60 s, and no payload at all
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.3-4] The Client Identifier is a UTF-8 encoded string: ill-formed UTF-8 closes the connection.
    @Test
    void clientIdWithIllFormedUtf8IsClosed_MQTT_3_1_3_4() {
        conns.open().send(
                0x10, 0x0E,                                // CONNECT, remaining length 14
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x02,                                      // flags: clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x02, 0xC3, 0x28)                    // client id: 0xC3 followed by a non-continuation byte
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.3-5] The server must accept identifiers of 1 to 23 bytes made of 0-9, a-z and A-Z.
    @Test
    void twentyThreeAlphanumericCharactersAreAccepted_MQTT_3_1_3_5() {
        conns.connect311("09azAZ0123456789abcdXYZ").expectAlive(); // 23 characters
        conns.connect311("Z").expectAlive();              // 1 character
    }

    // [MQTT-3.1.3-6] A zero-byte Client Identifier with CleanSession=1 gets a unique identifier assigned: two such
    // clients are connected at the same time, neither takes the other over.
    @Test
    void emptyClientIdsGetDistinctIdentifiers_MQTT_3_1_3_6() {
        Conn a = conns.open();
        Conn b = conns.open();
        for (Conn c : new Conn[] {a, b}) {
            c.send(
                    0x10, 0x0C,                            // CONNECT, remaining length 12
                    0x00, 0x04, 'M', 'Q', 'T', 'T',        // protocol name
                    0x04,                                  // level 4
                    0x02,                                  // flags: clean session
                    0x00, 0x3C,                            // keep alive 60 s
                    0x00, 0x00);                           // client id "" (zero bytes)
            c.expect(0x20, 0x02, 0x00, 0x00);              // CONNACK accepted
        }
        a.expectAlive();
        b.expectAlive();
    }

    // [MQTT-3.1.3-8] Zero-byte Client Identifier with CleanSession=0: CONNACK 0x02, then close.
    @Test
    void emptyClientIdWithoutCleanSessionIsRejected_MQTT_3_1_3_8() {
        Conn c = conns.open();
        c.send(
                0x10, 0x0C,                                // CONNECT, remaining length 12
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x00,                                      // flags: clean session 0
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x00);                               // client id "" (zero bytes)
        c.expect(
                0x20, 0x02,                                // CONNACK
                0x00,                                      // session present 0 [MQTT-3.2.2-4]
                0x02);                                     // 0x02 identifier rejected
        c.expectClosed();                                  // [MQTT-3.2.2-5]
    }

    // [MQTT-3.1.3-9] A Client Identifier the server rejects (here: longer than the configured 8 characters) gets
    // CONNACK 0x02 and the connection is closed.
    @Test
    void rejectedClientIdGetsConnack02_MQTT_3_1_3_9() {
        Conn c = shortIdConns.open();
        c.send(Wire.connect311("123456789", CLEAN, 60));   // 9 characters
        c.expect(
                0x20, 0x02,                                // CONNACK
                0x00,                                      // session present 0
                0x02);                                     // 0x02 identifier rejected
        c.expectClosed();
    }

    // [MQTT-3.1.3-10] The Will Topic is a UTF-8 encoded string: ill-formed UTF-8 closes the connection.
    @Test
    void willTopicWithIllFormedUtf8IsClosed_MQTT_3_1_3_10() {
        conns.open().send(
                0x10, 0x14,                                // CONNECT, remaining length 20
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x06,                                      // flags: clean session, will
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'w',                           // client id "w"
                0x00, 0x02, 0xED, 0xA0,                    // will topic: a truncated surrogate sequence
                0x00, 0x01, 'm')                           // will message "m"
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.3-11] The User Name is a UTF-8 encoded string: ill-formed UTF-8 closes the connection.
    @Test
    void userNameWithIllFormedUtf8IsClosed_MQTT_3_1_3_11() {
        conns.open().send(
                0x10, 0x11,                                // CONNECT, remaining length 17
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x82,                                      // flags: user name, clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'u',                           // client id "u"
                0x00, 0x02, 0xFF, 0xFE)                    // user name: bytes that are never UTF-8
                .expectClosedWithoutPacket();
    }

    // [MQTT-3.1.4-2] A second connection with the same Client Identifier disconnects the first.
    @Test
    void sameClientIdDisconnectsTheExistingClient_MQTT_3_1_4_2() {
        Conn first = conns.connect311("takeover");
        Conn second = conns.connect311("takeover");
        first.expectClosedWithoutPacket();                 // 3.1.1: closed, no DISCONNECT from the server
        second.expectAlive();
    }

    // [MQTT-3.1.4-4] A valid CONNECT is answered with CONNACK return code 0.
    @Test
    void validConnectGetsConnack0_MQTT_3_1_4_4() {
        Conn c = conns.open();
        c.send(
                0x10, 0x0D,                                // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x04,                                      // level 4
                0x02,                                      // flags: clean session
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x01, 'k');                          // client id "k"
        c.expect(
                0x20, 0x02,                                // CONNACK, remaining length 2
                0x00,                                      // session present 0
                0x00);                                     // return code 0: accepted
    }

    // [MQTT-3.1.4-5] After a refused CONNECT the server processes nothing more from that connection: a retained
    // PUBLISH pipelined right behind the refused CONNECT is not stored.
    @Test
    void nothingIsProcessedAfterARefusedConnect_MQTT_3_1_4_5() {
        Conn c = conns.open();
        c.send(Wire.cat(
                Wire.b(
                        0x10, 0x0C,                        // CONNECT, remaining length 12
                        0x00, 0x04, 'M', 'Q', 'T', 'T',    // protocol name
                        0x04,                              // level 4
                        0x00,                              // flags: clean session 0 ...
                        0x00, 0x3C,                        // keep alive 60 s
                        0x00, 0x00),                       // ... with an empty client id: refused with 0x02
                Wire.publish311(RETAIN, "refused/ret", 0, "must not be stored"))); // in the same write
        c.expect(0x20, 0x02, 0x00, 0x02);                  // CONNACK 0x02
        c.expectClosed();
        Conn sub = conns.connect311("refused-sub");
        Conns.subscribe311(sub, 1, "refused/ret", 0, 0);
        sub.expectNothing();
    }

    // [MQTT-3.2.0-1] The first packet the server sends is CONNACK, even when queued messages wait for the session.
    @Test
    void connackComesBeforeQueuedMessages_MQTT_3_2_0_1() {
        Conn c = conns.connect311("first-connack", false, 0x00);
        Conns.subscribe311(c, 1, "first/connack", 1, 1);
        c.close();
        Conn pub = conns.connect311("first-connack-pub");
        pub.send(Wire.publish311(QOS1 | RETAIN, "first/connack", 1, "queued")); // queued and retained
        pub.expect(0x40, 0x02, 0x00, 0x01);
        Conn again = conns.open();
        again.send(Wire.connect311("first-connack", 0, 60));
        again.expect(0x20, 0x02, 0x01, 0x00);              // CONNACK first, session present 1
        int id = again.expectPublish311(QOS1, "first/connack", "queued");
        again.send(0x40, 0x02, id >> 8, id & 0xFF);
    }

    // [MQTT-3.2.2-4] A CONNACK with a non-zero return code has Session Present 0, even if a session is stored for
    // the Client Identifier.
    @Test
    void refusedConnectHasSessionPresent0_MQTT_3_2_2_4() {
        Conn c = conns.connect311("refused-present", false, 0x00); // a stored session now exists
        c.send(0xE0, 0x00);
        c.expectClosed();
        Conn refused = conns.open();
        refused.send(
                0x10, 0x1B,                                // CONNECT, remaining length 27
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x09,                                      // level 9: unsupported
                0x00,                                      // flags: clean session 0
                0x00, 0x3C,                                // keep alive 60 s
                0x00, 0x0F, 'r', 'e', 'f', 'u', 's', 'e', 'd', '-', 'p', 'r', 'e', 's', 'e', 'n', 't'); // same id
        refused.expect(
                0x20, 0x02,                                // CONNACK
                0x00,                                      // session present 0
                0x01);                                     // 0x01 unacceptable protocol version
        refused.expectClosed();
    }

    // [MQTT-3.1.4-3] The CleanSession rules are applied on each valid CONNECT (see cleanSession0ResumesTheSession
    // and cleanSession1DiscardsTheSession); here: CleanSession=0 after CleanSession=1 finds no session.
    @Test
    void cleanSessionIsAppliedOnConnect_MQTT_3_1_4_3() {
        Conn c = conns.connect311("cs-apply", true, 0x00);
        Conns.subscribe311(c, 1, "cs/apply", 0, 0);
        c.send(0xE0, 0x00);
        c.expectClosed();
        conns.connect311("cs-apply", false, 0x00).expectAlive(); // the clean session ended with its connection
    }
}
