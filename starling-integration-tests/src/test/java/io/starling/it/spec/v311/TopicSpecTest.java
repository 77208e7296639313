package io.starling.it.spec.v311;

import static io.starling.it.spec.Wire.str;
import static io.starling.it.spec.Wire.u16;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** MQTT 3.1.1 section 4.7 Topic Names and Topic Filters, byte by byte. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TopicSpecTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    /**
     * An invalid filter must not be granted: Starling answers SUBACK 0x80; closing the connection would also be a
     * valid reaction to the protocol violation, so both are accepted, a granted QoS is not.
     */
    private static void expectRefused(Conn c, String filter) {
        c.send(Wire.packet(0x82,                           // SUBSCRIBE
                u16(1),                                    // packet id 1
                str(filter),                               // the invalid filter
                Wire.b(0x00)));                            // QoS 0
        byte[] answer;
        try {
            answer = c.raw().readPacket(Conn.CLOSE);
        } catch (UncheckedIOException closed) {
            return;                                        // closed: refused
        }
        if (answer == null) {
            throw new AssertionError("no SUBACK and no close for invalid filter " + filter);
        }
        assertThat(Wire.toInts(answer)).as("SUBACK for " + filter)
                .containsExactly(0x90, 0x03, 0x00, 0x01, 0x80);
    }

    // [MQTT-4.7.1-1] Wildcards may be used in Topic Filters but not in Topic Names: '#' and '+' in a PUBLISH topic
    // close the connection; in a filter they are granted.
    @Test
    void wildcardsOnlyInFilters_MQTT_4_7_1_1() {
        conns.connect311("w1").send(Wire.publish311(0, "a/#", 0, "x")).expectClosedWithoutPacket();
        conns.connect311("w2").send(Wire.publish311(0, "+", 0, "x")).expectClosedWithoutPacket();
        Conn c = conns.connect311("w3");
        Conns.subscribe311(c, 1, "a/+/#", 0, 0);
    }

    // [MQTT-4.7.1-2] '#' must be alone or follow '/', and must be the last character: other placements are refused.
    @ParameterizedTest
    @ValueSource(strings = {"a/#/b", "a#", "#/", "a/b#", "##"})
    void misplacedHashIsRefused_MQTT_4_7_1_2(String filter) {
        expectRefused(conns.connect311("h" + Math.abs(filter.hashCode())), filter);
    }

    // [MQTT-4.7.1-2] '#' matches the parent level and every level below it.
    @Test
    void hashMatchesParentAndChildren_MQTT_4_7_1_2() {
        Conn sub = conns.subscriber311("hm", "hm/#", 0);
        Conn pub = conns.connect311("hm-pub");
        pub.send(Wire.publish311(0, "hm", 0, "parent"));
        pub.send(Wire.publish311(0, "hm/a/b", 0, "child"));
        pub.send(Wire.publish311(0, "hmx", 0, "other"));
        sub.expectPublish311(0, "hm", "parent");
        sub.expectPublish311(0, "hm/a/b", "child");
        sub.expectNothing();
    }

    // [MQTT-4.7.1-3] '+' must occupy a whole level: "a+", "+a", "a/+b" are refused; "+", "+/+", "/+" are granted and
    // '+' matches exactly one level (also an empty one).
    @ParameterizedTest
    @ValueSource(strings = {"a+", "+a", "a/+b", "a/b+/c"})
    void plusInsideALevelIsRefused_MQTT_4_7_1_3(String filter) {
        expectRefused(conns.connect311("p" + Math.abs(filter.hashCode())), filter);
    }

    // [MQTT-4.7.1-3] '+' matches exactly one level.
    @Test
    void plusMatchesOneLevel_MQTT_4_7_1_3() {
        Conn sub = conns.subscriber311("pm", "pm/+/x", 0);
        Conn pub = conns.connect311("pm-pub");
        pub.send(Wire.publish311(0, "pm/a/x", 0, "one"));
        pub.send(Wire.publish311(0, "pm//x", 0, "empty"));
        pub.send(Wire.publish311(0, "pm/a/b/x", 0, "two levels"));
        pub.send(Wire.publish311(0, "pm/x", 0, "none"));
        sub.expectPublish311(0, "pm/a/x", "one");
        sub.expectPublish311(0, "pm//x", "empty");
        sub.expectNothing();
    }

    // [MQTT-4.7.2-1] Filters starting with '#' or '+' do not match topic names starting with '$'.
    @Test
    void dollarTopicsAreNotMatchedByLeadingWildcards_MQTT_4_7_2_1() {
        Conn hash = conns.subscriber311("d-hash", "#", 0).drain(); // drain retained messages of other tests
        Conn plus = conns.subscriber311("d-plus", "+/d", 0);
        Conn exact = conns.subscriber311("d-exact", "$x/d", 0);
        Conn dollarHash = conns.subscriber311("d-dhash", "$x/#", 0);
        Conn pub = conns.connect311("d-pub");
        pub.send(Wire.publish311(0, "$x/d", 0, "dollar"));
        exact.expectPublish311(0, "$x/d", "dollar");
        dollarHash.expectPublish311(0, "$x/d", "dollar");
        hash.expectNothing();
        plus.expectNothing();
    }

    // [MQTT-4.7.3-1] Topic names and filters are at least one character long: an empty topic name closes the
    // connection, an empty filter is refused.
    @Test
    void emptyTopicNameOrFilterIsRefused_MQTT_4_7_3_1() {
        conns.connect311("e1").send(
                0x30, 0x03,                                // PUBLISH QoS 0, remaining length 3
                0x00, 0x00,                                // topic "" (zero length)
                'x')                                       // payload
                .expectClosedWithoutPacket();
        expectRefused(conns.connect311("e2"), "");
    }

    // [MQTT-4.7.3-2] Topic names and filters contain no U+0000: the connection is closed.
    @Test
    void nullCharacterInTopicOrFilterCloses_MQTT_4_7_3_2() {
        conns.connect311("n1").send(
                0x30, 0x06,                                // PUBLISH QoS 0, remaining length 6
                0x00, 0x03, 'a', '/', 0x00,                // topic "a/\0"
                'x')                                       // payload
                .expectClosedWithoutPacket();
        conns.connect311("n2").send(
                0x82, 0x08,                                // SUBSCRIBE, remaining length 8
                0x00, 0x01,                                // packet id 1
                0x00, 0x03, 0x00, '/', '#',                // filter "\0/#"
                0x00)                                      // QoS 0
                .expectClosedWithoutPacket();
    }

    // [MQTT-4.7.3-3] Topic names and filters are at most 65,535 bytes (the two-byte length cannot say more); one of
    // exactly 65,535 bytes is accepted and delivered intact.
    @Test
    void longestTopicIsDelivered_MQTT_4_7_3_3() {
        String topic = "L/" + "x".repeat(65_533);          // 65,535 bytes
        Conn sub = conns.subscriber311("long-sub", topic, 0);
        Conn pub = conns.connect311("long-pub");
        pub.send(Wire.publish311(0, topic, 0, "!"));
        sub.expectPublish311(0, topic, "!");
    }

    // [MQTT-4.7.3-4] Matching does not normalise, fold case or substitute characters: NFC "é" and NFD "e\u0301",
    // "A" and "a", "a/" and "a" are all different topics.
    @Test
    void noNormalisationWhenMatching_MQTT_4_7_3_4() {
        Conn sub = conns.connect311("norm-sub");
        Conns.subscribe311(sub, 1, "norm/caf\u00e9", 0, 0);
        Conns.subscribe311(sub, 2, "norm/A", 0, 0);
        Conns.subscribe311(sub, 3, "norm/a/", 0, 0);
        Conn pub = conns.connect311("norm-pub");
        pub.send(Wire.publish311(0, "norm/cafe\u0301", 0, "nfd"));
        pub.send(Wire.publish311(0, "norm/a", 0, "lower"));
        pub.send(Wire.publish311(0, "norm/a", 0, "no slash"));
        sub.expectNothing();
        pub.send(Wire.publish311(0, "norm/caf\u00e9", 0, "nfc"));
        sub.expectPublish311(0, "norm/caf\u00e9", "nfc");
    }
}
