package io.starling.it.v5;

import static io.starling.it.spec.Wire.props;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.BrokerConfig.SharedSubscriptionStrategy;
import io.starling.it.BrokerExtension;
import io.starling.it.Msg;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import io.starling.testkit.RawClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * MQTT 5.0 shared subscriptions ({@code $share/{ShareName}/{filter}}, 4.8.2) for 5.0 and 3.1.1 clients, end to
 * end with Paho mqttv5, Paho mqttv3 (3.1.1) and raw bytes: load balancing (round robin by default; random, sticky
 * and hash-client-id on brokers of the test's own), one delivery per group next to ordinary subscribers, the
 * granted QoS per member, messages of a member whose connection is lost, No Local, retained messages, invalid
 * share names, UNSUBSCRIBE, and shared subscriptions switched off. Statement ids are 5.0 ids.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SharedSubscriptionTest {

    /** The window in which a message that must not come is waited for. */
    private static final Duration QUIET = Duration.ofMillis(500);

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    @TempDir
    static Path tempDir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeAll
    static void starlingOnly() {
        assumeFalse(BrokerExtension.isMosquitto(), "strategies and brokers of the test's own are Starling's");
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        toClose.clear();
    }

    // ------------------------------------------------------------------ round robin (the default)

    // Round robin with every member online: 30 messages over 3 members, exactly 10 each, each message once.
    @Test
    void roundRobinSpreadsEvenly() throws Exception {
        List<SharedMember> members = List.of(v5("rr-1"), v5("rr-2"), v5("rr-3"));
        for (SharedMember m : members) {
            assertEquals(1, m.subscribe("$share/rr/sh/rr", 1));
        }
        SharedMember pub = v5("rr-pub");
        List<String> sent = publish(pub, "sh/rr", "rr-", 30, 1);

        Map<SharedMember, List<String>> got = receive(30, members);
        for (SharedMember m : members) {
            assertEquals(10, got.get(m).size(), m + " got " + got.get(m));
        }
        assertEachExactlyOnce(sent, got.values());
    }

    // 3.1.1 clients use shared subscriptions too, in the same group as 5.0 clients: 12 messages, 4 each.
    @Test
    void v311AndV5MembersShareOneGroup() throws Exception {
        List<SharedMember> members = List.of(v311("mix-1"), v311("mix-2"), v5("mix-3"));
        for (SharedMember m : members) {
            assertEquals(1, m.subscribe("$share/mix/sh/mix", 1));
        }
        SharedMember pub = v311("mix-pub");
        List<String> sent = publish(pub, "sh/mix", "mix-", 12, 1);

        Map<SharedMember, List<String>> got = receive(12, members);
        for (SharedMember m : members) {
            assertEquals(4, got.get(m).size(), m + " got " + got.get(m));
        }
        assertEachExactlyOnce(sent, got.values());
    }

    // Each message goes to exactly one member of each group: two groups both get every message, once per group,
    // and an ordinary subscriber to the same filter gets every message as well.
    @Test
    void everyGroupAndOrdinarySubscriberGetEveryMessage() throws Exception {
        List<SharedMember> groupA = List.of(v5("ga-1"), v311("ga-2"));
        List<SharedMember> groupB = List.of(v5("gb-1"), v5("gb-2"), v311("gb-3"));
        for (SharedMember m : groupA) {
            m.subscribe("$share/A/sh/groups/+", 1);
        }
        for (SharedMember m : groupB) {
            m.subscribe("$share/B/sh/groups/#", 1);
        }
        SharedMember ordinary = v5("g-ordinary");
        ordinary.subscribe("sh/groups/+", 1);
        SharedMember pub = v5("g-pub");
        List<String> sent = publish(pub, "sh/groups/x", "g-", 12, 1);

        List<SharedMember> all = new ArrayList<>(groupA);
        all.addAll(groupB);
        all.add(ordinary);
        Map<SharedMember, List<String>> got = receive(36, all);
        assertEquals(sent, got.get(ordinary), "the ordinary subscriber gets every message, in order");
        assertEachExactlyOnce(sent, List.of(got.get(groupA.get(0)), got.get(groupA.get(1))));
        assertEachExactlyOnce(sent, List.of(got.get(groupB.get(0)), got.get(groupB.get(1)), got.get(groupB.get(2))));
        assertEquals(6, got.get(groupA.get(0)).size(), "round robin in group A");
        assertEquals(4, got.get(groupB.get(0)).size(), "round robin in group B");
    }

    // [MQTT-4.8.2-3] the message goes to the chosen member at the QoS granted to that member's subscription:
    // QoS 2 messages to members subscribed at 0, 1 and 2 arrive at QoS 0, 1 and 2.
    @Test
    void eachMemberGetsItsGrantedQos_MQTT_4_8_2_3() throws Exception {
        SharedMember q0 = v5("qos-0");
        SharedMember q1 = v311("qos-1");
        SharedMember q2 = v5("qos-2");
        assertEquals(0, q0.subscribe("$share/qos/sh/qos", 0));
        assertEquals(1, q1.subscribe("$share/qos/sh/qos", 1));
        assertEquals(2, q2.subscribe("$share/qos/sh/qos", 2));
        List<String> sent = publish(v5("qos-pub"), "sh/qos", "q-", 6, 2);

        List<SharedMember> members = List.of(q0, q1, q2);
        Map<SharedMember, List<Msg>> got = receiveMsgs(6, members);
        List<List<String>> texts = new ArrayList<>();
        for (int qos = 0; qos < 3; qos++) {
            List<Msg> msgs = got.get(members.get(qos));
            assertEquals(2, msgs.size(), members.get(qos) + " got " + msgs);
            List<String> t = new ArrayList<>();
            for (Msg m : msgs) {
                assertEquals(qos, m.qos(), members.get(qos) + " granted QoS " + qos + " got " + m);
                t.add(m.text());
            }
            texts.add(t);
        }
        assertEachExactlyOnce(sent, texts);
    }

    // ------------------------------------------------------------------ a member's connection is lost

    // QoS 1 messages a member has not acknowledged when its connection is lost (one in flight, two queued behind
    // its Receive Maximum of 1) go to another member instead of being lost (5.0 4.8.2: "MAY attempt to send the
    // message to another Client as soon as it loses its connection").
    @Test
    void unacknowledgedQos1MessagesGoToAnotherMember() throws Exception {
        Conn a = conns.open();
        a.send(Wire.connect5("lost-a", Wire.CLEAN, 60, props(Wire.receiveMaximum(1))));
        a.expectConnack5(0);
        Conns.subscribe5(a, 1, props(), "$share/lost/sh/lost", 1, 1);
        List<String> sent = publish(v5("lost-pub"), "sh/lost", "lost-", 3, 1);
        Conn.Pub first = a.readPublish(true);
        assertEquals(1, first.qos());
        assertEquals("lost-0", first.text());
        a.expectNothing();                                         // the other two wait behind Receive Maximum 1

        SharedMember b = v5("lost-b");
        b.subscribe("$share/lost/sh/lost", 1);
        a.close();                                                 // no PUBACK, no DISCONNECT: connection lost

        Map<SharedMember, List<String>> got = receive(3, List.of(b));
        assertEquals(new TreeSet<>(sent), new TreeSet<>(got.get(b)), "all three reach the other member");
    }

    // [MQTT-4.8.2-4] a QoS 2 message whose delivery to the chosen member is cut off before it completed is completed
    // to THAT member when it reconnects (4.3.3: PUBLISH again with DUP), not sent to another member.
    @Test
    void qos2CutOffIsCompletedToTheSameMemberOnReconnect_MQTT_4_8_2_4() throws Exception {
        Conn a = conns.connect5("q2-keep-a", true, props(Wire.sessionExpiry(300)), 0);
        Conns.subscribe5(a, 1, props(), "$share/q2keep/sh/q2keep", 2, 2);
        publish(v5("q2-keep-pub"), "sh/q2keep", "q2-", 1, 2);
        Conn.Pub p = a.readPublish(true);
        assertEquals(2, p.qos());
        SharedMember b = v5("q2-keep-b");
        b.subscribe("$share/q2keep/sh/q2keep", 2);
        a.close();                                                 // no PUBREC: delivery cut off

        assertQuiet(List.of(b));
        Conn again = conns.connect5("q2-keep-a", false, props(Wire.sessionExpiry(300)), 1);
        Conn.Pub dup = again.readPublish(true);
        assertEquals(p.packetId(), dup.packetId(), "the same packet identifier");
        assertTrue(dup.dup(), "DUP set on the resent PUBLISH");
        assertEquals("q2-0", dup.text());
        again.send(0x50, 0x02, dup.packetId() >> 8, dup.packetId() & 0xFF);   // PUBREC
        again.expect(0x62, 0x02, dup.packetId() >> 8, dup.packetId() & 0xFF); // PUBREL
    }

    // [MQTT-4.8.2-5] if that member's session ends before it reconnects, the QoS 2 message is NOT given to another
    // member (it may already have been delivered onward).
    @Test
    void qos2CutOffIsNotGivenToAnotherMemberWhenTheSessionEnds_MQTT_4_8_2_5() throws Exception {
        Conn a = conns.connect5("q2-end-a");
        Conns.subscribe5(a, 1, props(), "$share/q2end/sh/q2end", 2, 2);
        publish(v5("q2-end-pub"), "sh/q2end", "q2e-", 1, 2);
        assertEquals(2, a.readPublish(true).qos());
        SharedMember b = v5("q2-end-b");
        b.subscribe("$share/q2end/sh/q2end", 2);
        a.close();                                                 // no PUBREC; the session ends with the connection
        assertQuiet(List.of(b));
    }

    // [MQTT-4.8.2-6] a member that answers PUBACK with a reason code of 0x80 or more has had the message: it is
    // discarded, not sent to another member (not even when the member's connection is then lost).
    @Test
    void errorPubackDiscardsTheMessage_MQTT_4_8_2_6() throws Exception {
        Conn a = conns.connect5("err-a");
        Conns.subscribe5(a, 1, props(), "$share/err/sh/err", 1, 1);
        publish(v5("err-pub"), "sh/err", "err-", 1, 1);
        Conn.Pub p = a.readPublish(true);
        a.send(0x40, 0x03, p.packetId() >> 8, p.packetId() & 0xFF, 0x80);  // PUBACK, reason 0x80 Unspecified error
        a.expectAlive();                                           // the PUBACK has been processed
        SharedMember b = v5("err-b");
        b.subscribe("$share/err/sh/err", 1);
        a.close();
        assertQuiet(List.of(b));
    }

    // ------------------------------------------------------------------ SUBSCRIBE rules

    // [MQTT-3.8.3-4] No Local on a Shared Subscription is a Protocol Error: DISCONNECT 0x82.
    @Test
    void noLocalOnASharedSubscriptionIsAProtocolError_MQTT_3_8_3_4() {
        Conn c = conns.connect5("nolocal");
        c.send(Wire.subscribe5(1, props(), "$share/nl/sh/nl", 0x04 | 0x01));   // No Local, QoS 1
        c.expectDisconnect(0x82);
    }

    // Retained messages are not sent on a shared subscribe (5.0 4.8.2, 3.3.1.3), for 5.0 and 3.1.1; an ordinary
    // subscription on the same connection shows the retained message is there.
    @Test
    void retainedMessagesAreNotSentOnSharedSubscribe() throws Exception {
        SharedMember pub = v5("ret-pub");
        pub.publishRetained("sh/ret", "kept");
        try {
            Conn c5 = conns.connect5("ret-5");
            Conns.subscribe5(c5, 1, props(), "$share/ret/sh/ret", 0x01, 1);   // Retain Handling 0: send at subscribe
            Conn c3 = conns.connect311("ret-3");
            Conns.subscribe311(c3, 1, "$share/ret3/sh/+", 1, 1);
            c5.expectNothing();
            c3.expectNothing();

            Conns.subscribe5(c5, 2, props(), "sh/ret", 0x01, 1);               // control: ordinary subscription
            Conn.Pub retained = c5.readPublish(true);
            assertTrue(retained.retain(), "the retained message exists: " + retained);
            assertEquals("kept", retained.text());
        } finally {
            pub.publishRetained("sh/ret", "");
        }
    }

    // [MQTT-4.8.2-1] a ShareName of at least one character; [MQTT-4.8.2-2] without '/', '+' or '#', followed by
    // '/' and a Topic Filter. Invalid ones get SUBACK 0x8F Topic Filter invalid on 5.0, 0x80 on 3.1.1; the
    // connection stays open and a valid one is granted.
    @Test
    void invalidShareNamesAreRefused_MQTT_4_8_2_1_and_4_8_2_2() {
        String[] invalid = {"$share//a", "$share/g+/a", "$share/g#/a", "$share/g", "$share/g/", "$share/g/a/#/b"};
        Conn c5 = conns.connect5("badshare-5");
        Conn c3 = conns.connect311("badshare-3");
        int packetId = 1;
        for (String filter : invalid) {
            Conns.subscribe5(c5, packetId, props(), filter, 1, 0x8F);
            Conns.subscribe311(c3, packetId, filter, 1, 0x80);
            packetId++;
        }
        Conns.subscribe5(c5, packetId, props(), "$share/g/a", 1, 1);
        Conns.subscribe311(c3, packetId, "$share/g/a", 1, 1);
        c5.expectAlive();
        c3.expectAlive();
    }

    // UNSUBSCRIBE of "$share/{group}/{filter}" removes the member: UNSUBACK 0x00 (0x11 the second time), and every
    // later message goes to the remaining member.
    @Test
    void unsubscribeRemovesTheMember() throws Exception {
        Conn a = conns.connect5("unsub-a");
        Conns.subscribe5(a, 1, props(), "$share/unsub/sh/unsub", 1, 1);
        SharedMember c = v311("unsub-c");
        c.subscribe("$share/unsub/sh/unsub", 1);
        SharedMember b = v5("unsub-b");
        b.subscribe("$share/unsub/sh/unsub", 1);

        a.send(Wire.unsubscribe5(2, "$share/unsub/sh/unsub"));
        a.expect(0xB0, 0x04, 0x00, 0x02, 0x00, 0x00);             // UNSUBACK, id 2, no properties, 0x00 Success
        c.unsubscribe("$share/unsub/sh/unsub");
        List<String> sent = publish(v5("unsub-pub"), "sh/unsub", "u-", 6, 1);

        Map<SharedMember, List<String>> got = receive(6, List.of(b, c));
        assertEquals(sent, got.get(b), "all to the remaining member");
        assertEquals(List.of(), got.get(c), "nothing to the 3.1.1 member that unsubscribed");
        a.expectNothing();
        a.send(Wire.unsubscribe5(3, "$share/unsub/sh/unsub"));
        a.expect(0xB0, 0x04, 0x00, 0x03, 0x00, 0x11);             // 0x11 No subscription existed
    }

    // Shared subscriptions available (the default): CONNACK has no Shared Subscription Available 0.
    @Test
    void sharedSubscriptionsAreAnnouncedByDefault() {
        Conn c = conns.open();
        c.send(Wire.connect5("avail", Wire.CLEAN, 60, props()));
        EnhancedAuthTest.V5Packet connack = EnhancedAuthTest.V5Packet.parse(c.expectConnack5(0));
        assertNotEquals(0, connack.props().getOrDefault(0x2A, 1), "Shared Subscription Available: " + connack);
    }

    // shared-subscriptions-available: false → CONNACK Shared Subscription Available 0 (3.2.2.3.14), SUBACK 0x9E
    // Shared Subscriptions not supported on 5.0 and 0x80 on 3.1.1; ordinary subscriptions still work.
    @Test
    void sharedSubscriptionsSwitchedOff() throws Exception {
        SharedBroker off = ownBroker("off", b -> b.sharedSubscriptionsAvailable(false));
        try (RawClient r5 = RawClient.connect(SharedBroker.host(), off.port());
                RawClient r3 = RawClient.connect(SharedBroker.host(), off.port())) {
            r5.send(Wire.connect5("off-5", Wire.CLEAN, 60, props()));
            EnhancedAuthTest.V5Packet connack = EnhancedAuthTest.V5Packet.parse(r5.readPacket(RawClient.DEFAULT_TIMEOUT));
            assertEquals(0x00, connack.reason(), "CONNACK: " + connack);
            assertEquals(0, connack.props().get(0x2A), "Shared Subscription Available 0: " + connack);
            r5.send(Wire.subscribe5(1, props(), "$share/g/sh/off", 1));
            r5.expectPacket(0x90, 0x04, 0x00, 0x01, 0x00, 0x9E);   // SUBACK, id 1, no properties, 0x9E
            r5.send(Wire.subscribe5(2, props(), "sh/off", 1));
            r5.expectPacket(0x90, 0x04, 0x00, 0x02, 0x00, 0x01);   // ordinary: granted QoS 1

            r3.send(Wire.connect311("off-3", Wire.CLEAN, 60));
            r3.expectPacket(0x20, 0x02, 0x00, 0x00);
            r3.send(Wire.subscribe311(1, "$share/g/sh/off", 1));
            r3.expectPacket(0x90, 0x03, 0x00, 0x01, 0x80);         // SUBACK, id 1, 0x80 Failure
        }
    }

    // ------------------------------------------------------------------ the configured strategies

    // random: each message to exactly one member, both members used, and not the strict alternation of round robin
    // (2^-38 odds of a false failure).
    @Test
    void randomStrategy() throws Exception {
        SharedBroker own = ownBroker("random", b -> b.sharedSubscriptionStrategy(SharedSubscriptionStrategy.RANDOM));
        List<SharedMember> members = List.of(v5(own, "rnd-1"), v5(own, "rnd-2"));
        for (SharedMember m : members) {
            m.subscribe("$share/rnd/sh/rnd", 1);
        }
        List<String> sent = publish(v5(own, "rnd-pub"), "sh/rnd", "", 40, 1);
        Map<SharedMember, List<String>> got = receive(40, members);
        assertEachExactlyOnce(sent, got.values());
        List<String> first = got.get(members.get(0));
        assertTrue(!first.isEmpty() && first.size() < 40, "both members get messages: " + got);
        Set<Integer> parities = new HashSet<>();
        for (String s : first) {
            parities.add(Integer.parseInt(s) % 2);
        }
        assertEquals(2, parities.size(), "random, not alternating: " + got);
    }

    // sticky: every message to one member while it stays online; when it disconnects they move to one other member,
    // which keeps them even after the first one is back.
    @Test
    void stickyStrategy() throws Exception {
        SharedBroker own = ownBroker("sticky", b -> b.sharedSubscriptionStrategy(SharedSubscriptionStrategy.STICKY));
        List<SharedMember> members = new ArrayList<>(List.of(v5(own, "st-1"), v311(own, "st-2"), v5(own, "st-3")));
        for (SharedMember m : members) {
            m.subscribe("$share/st/sh/st", 1);
        }
        SharedMember pub = v5(own, "st-pub");
        List<String> sent = publish(pub, "sh/st", "a-", 10, 1);
        SharedMember stuck = onlyRecipient(sent, receive(10, members));

        stuck.disconnect();
        own.awaitOffline(stuck.id());
        members.remove(stuck);
        sent = publish(pub, "sh/st", "b-", 10, 1);
        SharedMember next = onlyRecipient(sent, receive(10, members));

        SharedMember back = stuck.id().startsWith("st-2") ? v311(own, stuck.id()) : v5(own, stuck.id());
        back.subscribe("$share/st/sh/st", 1);
        members.add(back);
        sent = publish(pub, "sh/st", "c-", 5, 1);
        assertEquals(next, onlyRecipient(sent, receive(5, members)), "sticks to the member it moved to");
    }

    // hash-client-id: all messages of one publisher go to one member (4 publishers interleaved, 3 members).
    @Test
    void hashClientIdStrategy() throws Exception {
        SharedBroker own = ownBroker("hash",
                b -> b.sharedSubscriptionStrategy(SharedSubscriptionStrategy.HASH_CLIENT_ID));
        List<SharedMember> members = List.of(v5(own, "h-1"), v5(own, "h-2"), v311(own, "h-3"));
        for (SharedMember m : members) {
            m.subscribe("$share/h/sh/h", 1);
        }
        List<SharedMember> pubs = List.of(v5(own, "h-pub-a"), v311(own, "h-pub-b"), v5(own, "h-pub-c"),
                v5(own, "h-pub-d"));
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            for (SharedMember p : pubs) {
                String payload = p.id() + "/" + i;
                p.publish("sh/h", payload, 1);
                sent.add(payload);
            }
        }
        Map<SharedMember, List<String>> got = receive(24, members);
        assertEachExactlyOnce(sent, got.values());
        for (SharedMember p : pubs) {
            Set<SharedMember> recipients = new HashSet<>();
            got.forEach((m, texts) -> texts.stream().filter(t -> t.startsWith(p.id() + "/")).forEach(t -> recipients.add(m)));
            assertEquals(1, recipients.size(), p + "'s messages went to " + recipients + ": " + got);
        }
    }

    // ------------------------------------------------------------------ helpers

    private SharedMember v5(String id) throws Exception {
        return track(SharedMember.v5(broker.host(), broker.port(), id));
    }

    private SharedMember v311(String id) throws Exception {
        return track(SharedMember.v311(broker.host(), broker.port(), id));
    }

    private SharedMember v5(SharedBroker b, String id) throws Exception {
        return track(SharedMember.v5(SharedBroker.host(), b.port(), id));
    }

    private SharedMember v311(SharedBroker b, String id) throws Exception {
        return track(SharedMember.v311(SharedBroker.host(), b.port(), id));
    }

    private SharedMember track(SharedMember m) {
        toClose.add(m);
        return m;
    }

    private SharedBroker ownBroker(String name, Consumer<BrokerConfig.Builder> customiser) throws Exception {
        SharedBroker b = SharedBroker.start(tempDir.resolve(name), customiser);
        toClose.add(0, b);                                          // closed last, after its clients
        return b;
    }

    /** Publishes {@code n} messages {@code prefix + i} to {@code topic}; returns the payloads in order. */
    private static List<String> publish(SharedMember pub, String topic, String prefix, int n, int qos) throws Exception {
        List<String> sent = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            pub.publish(topic, prefix + i, qos);
            sent.add(prefix + i);
        }
        return sent;
    }

    /**
     * Waits until the members together received {@code total} messages, then for {@link #QUIET} in which no more
     * may arrive; returns what each received (and takes it from its queue).
     */
    private static Map<SharedMember, List<String>> receive(int total, List<SharedMember> members) {
        Map<SharedMember, List<Msg>> msgs = receiveMsgs(total, members);
        Map<SharedMember, List<String>> texts = new HashMap<>();
        msgs.forEach((m, list) -> texts.put(m, list.stream().map(Msg::text).toList()));
        return texts;
    }

    private static Map<SharedMember, List<Msg>> receiveMsgs(int total, List<SharedMember> members) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                .until(() -> count(members) >= total);
        await().during(QUIET).atMost(QUIET.multipliedBy(3)).pollInterval(Duration.ofMillis(20))
                .until(() -> count(members) == total);
        Map<SharedMember, List<Msg>> got = new HashMap<>();
        for (SharedMember m : members) {
            List<Msg> list = new ArrayList<>();
            m.messages().drainTo(list);
            got.put(m, list);
        }
        return got;
    }

    private static int count(List<SharedMember> members) {
        int n = 0;
        for (SharedMember m : members) {
            n += m.messages().size();
        }
        return n;
    }

    /** Nothing arrives at these members for {@link #QUIET}. */
    private static void assertQuiet(List<SharedMember> members) {
        await().during(QUIET).atMost(QUIET.multipliedBy(3)).pollInterval(Duration.ofMillis(20))
                .until(() -> count(members) == 0);
    }

    /** The lists together hold every sent payload exactly once. */
    private static void assertEachExactlyOnce(List<String> sent, Collection<List<String>> received) {
        List<String> all = new ArrayList<>();
        received.forEach(all::addAll);
        assertEquals(sent.size(), all.size(), "one delivery per message: " + received);
        assertEquals(new TreeSet<>(sent), new TreeSet<>(all), "every message once: " + received);
    }

    /** The one member that received all of {@code sent} (the others nothing). */
    private static SharedMember onlyRecipient(List<String> sent, Map<SharedMember, List<String>> got) {
        SharedMember only = null;
        for (Map.Entry<SharedMember, List<String>> e : got.entrySet()) {
            if (!e.getValue().isEmpty()) {
                assertEquals(null, only, "more than one member got messages: " + got);
                only = e.getKey();
                assertEquals(sent, e.getValue(), "all messages, in order, to one member: " + got);
            }
        }
        assertTrue(only != null, "no member got the messages");
        return only;
    }
}
