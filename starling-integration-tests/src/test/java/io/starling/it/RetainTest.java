package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Retained messages with every client: stored, replaced, cleared, delivered on subscribe, forwarded live. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RetainTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @ParameterizedTest
    @EnumSource(ClientKind.class)
    void retainedMessageIsDeliveredToNewSubscribersWithRetainSet(ClientKind kind) throws Exception {
        // [MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8]
        String topic = Names.topic("ret");
        TestClient pub = clients.connect(kind);
        pub.publish(topic, "kept".getBytes(), 1, true);
        TestClient sub = clients.connect(kind);
        sub.subscribe(topic, 1);
        Msg m = sub.nextMessage();
        assertThat(m.text()).isEqualTo("kept");
        assertThat(m.retain()).as("sent because of a new subscription").isTrue();
        assertThat(m.qos()).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(ClientKind.class)
    void retainedMessageIsForwardedLiveWithRetainClear(ClientKind kind) throws Exception { // [MQTT-3.3.1-9]
        String topic = Names.topic("live");
        TestClient sub = clients.connect(kind);
        sub.subscribe(topic, 1);
        TestClient pub = clients.connect(kind);
        pub.publish(topic, "live".getBytes(), 1, true);
        Msg m = sub.nextMessage();
        assertThat(m.text()).isEqualTo("live");
        // v5: Retain As Published is 0 by default, so the flag is cleared there too [MQTT-3.3.1-12] (v5)
        assertThat(m.retain()).as("matched an established subscription").isFalse();
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5", "MOSQUITTO_CLI_V311"})
    void retainedMessageIsReplaced(ClientKind kind) throws Exception { // [MQTT-3.3.1-5] [MQTT-3.3.1-7]
        String topic = Names.topic("repl");
        TestClient pub = clients.connect(kind);
        pub.publish(topic, "first".getBytes(), 1, true);
        pub.publish(topic, "second".getBytes(), 0, true); // a QoS 0 retained message replaces it too
        TestClient sub = clients.connect(kind);
        sub.subscribe(topic, 1);
        Msg m = sub.nextMessage();
        assertThat(m.text()).isEqualTo("second");
        assertThat(m.qos()).as("stored with its QoS").isEqualTo(0);
        assertThat(sub.pollQuietly()).isNull();
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V31", "PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5",
        "MOSQUITTO_CLI_V311", "MOSQUITTO_CLI_V5"})
    void emptyRetainedPayloadClearsTheRetainedMessage(ClientKind kind) throws Exception {
        // [MQTT-3.3.1-10] [MQTT-3.3.1-11]
        String topic = Names.topic("clear");
        TestClient pub = clients.connect(kind);
        pub.publish(topic, "soon gone".getBytes(), 1, true);
        TestClient live = clients.connect(kind);
        live.subscribe(topic, 1);
        assertThat(live.nextMessage().retain()).isTrue();
        pub.publish(topic, new byte[0], 1, true);
        // the empty message is processed as normal and sent to current subscribers
        Msg forwarded = live.nextMessage();
        assertThat(forwarded.payload()).isEmpty();
        TestClient later = clients.connect(kind);
        later.subscribe(topic, 1);
        assertThat(later.pollQuietly()).as("no retained message any more").isNull();
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5"})
    void nonRetainedPublishLeavesTheRetainedMessage(ClientKind kind) throws Exception { // [MQTT-3.3.1-12]
        String topic = Names.topic("keep");
        TestClient pub = clients.connect(kind);
        pub.publish(topic, "retained".getBytes(), 1, true);
        pub.publish(topic, "transient".getBytes(), 1, false);
        TestClient sub = clients.connect(kind);
        sub.subscribe(topic, 1);
        Msg m = sub.nextMessage();
        assertThat(m.text()).isEqualTo("retained");
        assertThat(m.retain()).isTrue();
        assertThat(sub.pollQuietly()).isNull();
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5"})
    void wildcardSubscriptionGetsEveryMatchingRetainedMessage(ClientKind kind) throws Exception { // [MQTT-3.3.1-6]
        String t = Names.topic("rwild");
        TestClient pub = clients.connect(kind);
        pub.publish(t + "/a", "A".getBytes(), 1, true);
        pub.publish(t + "/b", "B".getBytes(), 1, true);
        pub.publish(t + "/b/c", "C".getBytes(), 1, true);
        TestClient sub = clients.connect(kind);
        sub.subscribe(t + "/+", 1);
        assertThat(sub.nextMessages(2)).extracting(Msg::text).containsExactlyInAnyOrder("A", "B");
        assertThat(sub.pollQuietly()).isNull();
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V311", "HIVEMQ_V5"})
    void retainedMessageIsDowngradedToTheSubscriptionQos(ClientKind kind) throws Exception { // [MQTT-3.8.4-6]
        String topic = Names.topic("rdown");
        TestClient pub = clients.connect(kind);
        pub.publish(topic, "two".getBytes(), 2, true);
        TestClient sub = clients.connect(kind);
        sub.subscribe(topic, 0);
        Msg m = sub.nextMessage();
        assertThat(m.qos()).isEqualTo(0);
        assertThat(m.retain()).isTrue();
    }
}
