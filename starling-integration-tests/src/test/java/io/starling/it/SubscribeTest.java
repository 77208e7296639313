package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** SUBSCRIBE / UNSUBSCRIBE, granted QoS, wildcards, overlapping subscriptions, with the Java clients. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SubscribeTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    /** The message goes out at min(published QoS, granted QoS): published at 2, subscribed at 1, received at 1. */
    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V31", "PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5",
        "MOSQUITTO_CLI_V311", "MOSQUITTO_CLI_V5"})
    void qosIsDowngradedToTheGrantedQos(ClientKind kind) throws Exception { // [MQTT-3.8.4-6] (v5: [MQTT-3.8.4-8])
        String topic = Names.topic("down");
        TestClient sub = clients.connect(kind);
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        sub.subscribe(topic + "/q1", 1);
        sub.subscribe(topic + "/q0", 0);
        pub.publish(topic + "/q1", "two-to-one", 2);
        pub.publish(topic + "/q0", "two-to-zero", 2);
        List<Msg> got = sub.nextMessages(2);
        // in any order: two topics (and, for the mosquitto_sub client, two processes, one per subscribe)
        assertThat(got).extracting(m -> m.text() + " at QoS " + m.qos())
                .containsExactlyInAnyOrder("two-to-one at QoS 1", "two-to-zero at QoS 0");
        // and a QoS 0 publish is not upgraded by a QoS 1 subscription
        pub.publish(topic + "/q1", "zero", 0);
        assertThat(sub.nextMessage().qos()).isEqualTo(0);
    }

    /** One SUBSCRIBE with three filters gets one SUBACK with a granted QoS per filter, in order. */
    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V31", "PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5"})
    void severalFiltersInOneSubscribe(ClientKind kind) throws Exception { // [MQTT-3.8.4-4] [MQTT-3.8.4-5] [MQTT-3.9.3-1]
        String t = Names.topic("multi");
        TestClient sub = clients.connect(kind);
        int[] granted = sub.subscribe(List.of(t + "/a", t + "/b", t + "/c"), List.of(2, 0, 1));
        assertThat(granted).containsExactly(2, 0, 1);
        TestClient pub = clients.connect(ClientKind.HIVEMQ_V5);
        pub.publish(t + "/a", "a", 2);
        pub.publish(t + "/b", "b", 2);
        pub.publish(t + "/c", "c", 2);
        // order across different QoS levels is not guaranteed (a client may hand a QoS 2 message over on PUBREL)
        List<Msg> got = sub.nextMessages(3);
        assertThat(got).extracting(m -> m.text() + m.qos()).containsExactlyInAnyOrder("a2", "b0", "c1");
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5", "MOSQUITTO_CLI_V311"})
    void wildcardsMatch(ClientKind kind) throws Exception { // 4.7.1.2, 4.7.1.3 (non-normative examples)
        String t = Names.topic("wild");
        TestClient plus = clients.connect(kind);
        TestClient hash = clients.connect(kind);
        TestClient parentHash = clients.connect(kind);
        plus.subscribe(t + "/+/c", 1);
        hash.subscribe(t + "/a/#", 1);
        parentHash.subscribe(t + "/#", 1);
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish(t + "/a/c", "1", 1);                 // + / # / #
        pub.publish(t + "/x/c", "2", 1);                 // + / - / #
        pub.publish(t + "/a", "3", 1);                   // - / "a/#" matches its parent "a" / #
        pub.publish(t + "/a/b/c", "4", 1);               // - / # / #
        pub.publish(t + "/a/c/d", "5", 1);               // - / # / #
        pub.publish(t + "//c", "6", 1);                  // + matches an empty level / - / #
        assertThat(texts(plus, 3)).containsExactly("1", "2", "6");
        assertThat(texts(hash, 4)).containsExactly("1", "3", "4", "5");
        assertThat(texts(parentHash, 6)).containsExactly("1", "2", "3", "4", "5", "6");
        assertThat(plus.pollQuietly()).isNull();
        assertThat(hash.messages()).isEmpty();
        assertThat(parentHash.messages()).isEmpty();
    }

    /** Topics starting with '$' are not matched by filters starting with a wildcard. */
    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5"})
    void dollarTopicsAreNotMatchedByLeadingWildcards(ClientKind kind) throws Exception { // [MQTT-4.7.2-1]
        String suffix = Names.clientId("d");
        TestClient hash = clients.connect(kind);
        TestClient plus = clients.connect(kind);
        TestClient exact = clients.connect(kind);
        hash.subscribe("#", 0);
        plus.subscribe("+/" + suffix, 0);
        exact.subscribe("$it/" + suffix, 0);
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish("$it/" + suffix, "dollar", 0);
        pub.publish("it/" + suffix, "control", 0);
        assertThat(exact.nextMessage().text()).isEqualTo("dollar");
        assertThat(plus.nextMessage().text()).as("+/x matches it/x").isEqualTo("control");
        // '#' sees all traffic of other tests too: look only at topics starting with '$'
        List<Msg> seen = new ArrayList<>();
        Msg m;
        while ((m = hash.pollQuietly()) != null) {
            seen.add(m);
        }
        assertThat(seen).extracting(Msg::topic).contains("it/" + suffix).noneMatch(topic -> topic.startsWith("$"));
        assertThat(plus.messages()).isEmpty();
    }

    /** A $SYS topic published by a client is not matched by '#' or '+/...' either. */
    @Test
    void sysTopicIsNotMatchedByLeadingWildcards() throws Exception { // [MQTT-4.7.2-1]
        String suffix = Names.clientId("s");
        TestClient hash = clients.connect(ClientKind.PAHO_V311);
        TestClient plus = clients.connect(ClientKind.PAHO_V311);
        hash.subscribe("#", 0);
        plus.subscribe("+/" + suffix, 0);
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish("$SYS/" + suffix, "sys", 0);
        pub.publish("it/" + suffix, "control", 0);
        assertThat(plus.nextMessage().text()).isEqualTo("control");
        List<Msg> seen = new ArrayList<>();
        Msg m;
        while ((m = hash.pollQuietly()) != null) {
            seen.add(m);
        }
        assertThat(seen).extracting(Msg::topic).contains("it/" + suffix).noneMatch(topic -> topic.startsWith("$"));
        assertThat(plus.messages()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V31", "PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5"})
    void unsubscribeStopsDelivery(ClientKind kind) throws Exception { // [MQTT-3.10.4-1] [MQTT-3.10.4-2]
        String t = Names.topic("unsub");
        TestClient sub = clients.connect(kind);
        sub.subscribe(List.of(t + "/a", t + "/b/+"), List.of(1, 1));
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish(t + "/a", "before", 1);
        pub.publish(t + "/b/x", "before", 1);
        assertThat(sub.nextMessages(2)).extracting(Msg::text).containsExactly("before", "before");
        sub.unsubscribe(t + "/b/+");                    // exact string match of the filter, wildcard and all
        sub.unsubscribe(t + "/a");
        pub.publish(t + "/a", "after", 1);
        pub.publish(t + "/b/x", "after", 1);
        assertThat(sub.pollQuietly()).isNull();
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5"})
    void unsubscribeOneFilterKeepsTheOther(ClientKind kind) throws Exception { // [MQTT-3.10.4-1]
        String t = Names.topic("unsub1");
        TestClient sub = clients.connect(kind);
        sub.subscribe(List.of(t + "/a", t + "/b"), List.of(1, 1));
        sub.unsubscribe(t + "/a");
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish(t + "/a", "gone", 1);
        pub.publish(t + "/b", "kept", 1);
        assertThat(sub.nextMessage().text()).isEqualTo("kept");
        assertThat(sub.pollQuietly()).isNull();
    }

    /**
     * Overlapping subscriptions of one client: Starling's documented choice is ONE copy at the maximum QoS of the
     * matching subscriptions. Mosquitto sends one copy per matching subscription, so this fails against it.
     */
    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5"})
    void overlappingSubscriptionsDeliverOneCopyAtMaximumQos(ClientKind kind) throws Exception { // [MQTT-3.3.5-1]
        String t = Names.topic("overlap");
        TestClient sub = clients.connect(kind);
        sub.subscribe(t + "/+", 1);
        sub.subscribe(t + "/#", 2);
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish(t + "/x", "one copy", 2);
        Msg m = sub.nextMessage();
        assertThat(m.text()).isEqualTo("one copy");
        assertThat(m.qos()).as("maximum QoS of the matching subscriptions").isEqualTo(2);
        assertThat(sub.pollQuietly()).as("a second copy").isNull();
    }

    /** Whatever the copies, the maximum QoS of the matching subscriptions is respected. */
    @Test
    void overlappingSubscriptionsRespectTheMaximumQos() throws Exception { // [MQTT-3.3.5-1]
        String t = Names.topic("overlapq");
        TestClient sub = clients.connect(ClientKind.PAHO_V311);
        sub.subscribe(List.of(t + "/+", t + "/#"), List.of(1, 2));
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish(t + "/x", "q", 2);
        Set<Integer> qos = new HashSet<>();
        qos.add(sub.nextMessage().qos());
        Msg more;
        while ((more = sub.pollQuietly()) != null) {
            qos.add(more.qos());
        }
        assertThat(qos).contains(2);
    }

    /** Subscribing again with an identical filter replaces the subscription (its QoS). */
    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V311", "PAHO_V5", "HIVEMQ_V5"})
    void resubscribeReplacesTheSubscription(ClientKind kind) throws Exception { // [MQTT-3.8.4-3]
        String t = Names.topic("resub");
        TestClient sub = clients.connect(kind);
        sub.subscribe(t, 2);
        assertThat(sub.subscribe(t, 0)).isEqualTo(0);
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish(t, "x", 2);
        Msg m = sub.nextMessage();
        assertThat(m.qos()).isEqualTo(0);
        assertThat(sub.pollQuietly()).as("only one subscription").isNull();
    }

    private static List<String> texts(TestClient c, int n) throws InterruptedException {
        return c.nextMessages(n).stream().map(Msg::text).toList();
    }
}
