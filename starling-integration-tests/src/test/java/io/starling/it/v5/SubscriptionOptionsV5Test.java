package io.starling.it.v5;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.RETAIN;
import static io.starling.it.spec.Wire.props;
import static io.starling.it.spec.Wire.subscriptionId;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5RetainHandling;
import io.starling.it.BrokerExtension;
import io.starling.it.ClientKind;
import io.starling.it.Clients;
import io.starling.it.Names;
import io.starling.it.TestClient;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 subscription options (3.8.3.1): No Local, Retain As Published, Retain Handling 0/1/2, and Subscription
 * Identifiers (3.8.2.1.2, 3.3.4), including one delivery carrying several when a client's subscriptions overlap.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SubscriptionOptionsV5Test {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @RegisterExtension
    final Conns conns = new Conns(broker);

    private final List<Mqtt5AsyncClient> hivemqs = new ArrayList<>();

    @AfterEach
    void closeHivemqs() {
        for (Mqtt5AsyncClient h : hivemqs) {
            try {
                h.disconnect().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // closing anyway
            }
        }
        hivemqs.clear();
    }

    private Mqtt5AsyncClient hivemq(String prefix) throws Exception {
        Mqtt5AsyncClient h = Mqtt5Client.builder().identifier(Names.clientId(prefix)).serverHost(broker.host())
                .serverPort(broker.port()).buildAsync();
        h.connect().get(10, TimeUnit.SECONDS);
        hivemqs.add(h);
        return h;
    }

    private static String text(Mqtt5Publish p) {
        return new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8);
    }

    // [MQTT-3.8.3-3] No Local: HiveMQ subscribes with No Local and does not get its own messages back, but gets the
    // ones of another client; a subscriber without No Local gets both.
    @Test
    void noLocal_MQTT_3_8_3_3() throws Exception {
        String topic = Names.topic("so-nl");
        Mqtt5AsyncClient self = hivemq("so-nl");
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        self.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).noLocal(true).callback(p -> got.add(text(p)))
                .send().get(10, TimeUnit.SECONDS);
        TestClient all = clients.connect(ClientKind.PAHO_V5);
        all.subscribe(topic, 1);
        self.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload("own".getBytes(StandardCharsets.UTF_8))
                .send().get(10, TimeUnit.SECONDS);
        TestClient other = clients.connect(ClientKind.PAHO_V5);
        other.publish(topic, "other", 1);
        assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("other");
        assertThat(got.poll(500, TimeUnit.MILLISECONDS)).isNull();
        assertThat(all.nextMessage().text()).isEqualTo("own");
        assertThat(all.nextMessage().text()).isEqualTo("other");
    }

    // [MQTT-3.3.1-12] Retain As Published 0: a live retained message is forwarded with RETAIN 0; [MQTT-3.3.1-13]
    // Retain As Published 1: with RETAIN 1 as published. Paho publishes, two HiveMQ subscribers receive.
    @Test
    void retainAsPublished_MQTT_3_3_1_13() throws Exception {
        String topic = Names.topic("so-rap");
        BlockingQueue<Mqtt5Publish> kept = new LinkedBlockingQueue<>();
        BlockingQueue<Mqtt5Publish> cleared = new LinkedBlockingQueue<>();
        hivemq("so-rap1").subscribeWith().topicFilter(topic).retainAsPublished(true).callback(kept::add)
                .send().get(10, TimeUnit.SECONDS);
        hivemq("so-rap0").subscribeWith().topicFilter(topic).retainAsPublished(false).callback(cleared::add)
                .send().get(10, TimeUnit.SECONDS);
        TestClient pub = clients.connect(ClientKind.PAHO_V5);
        pub.publish(topic, "r".getBytes(StandardCharsets.UTF_8), 1, true);
        pub.publish(topic, "n".getBytes(StandardCharsets.UTF_8), 1, false);
        Mqtt5Publish k1 = kept.poll(10, TimeUnit.SECONDS);
        Mqtt5Publish k2 = kept.poll(10, TimeUnit.SECONDS);
        Mqtt5Publish c1 = cleared.poll(10, TimeUnit.SECONDS);
        Mqtt5Publish c2 = cleared.poll(10, TimeUnit.SECONDS);
        assertThat(text(k1) + k1.isRetain() + " " + text(k2) + k2.isRetain()).isEqualTo("rtrue nfalse");
        assertThat(text(c1) + c1.isRetain() + " " + text(c2) + c2.isRetain()).isEqualTo("rfalse nfalse");
        pub.publish(topic, new byte[0], 1, true);          // clean up the retained message
    }

    // [MQTT-3.3.1-9] Retain Handling 0: retained messages on every SUBSCRIBE, also a repeated one; [MQTT-3.3.1-10]
    // Retain Handling 1: only if the subscription did not exist; [MQTT-3.3.1-11] Retain Handling 2: never. HiveMQ.
    @Test
    void retainHandling_MQTT_3_3_1_10() throws Exception {
        String topic = Names.topic("so-rh");
        TestClient pub = clients.connect(ClientKind.PAHO_V5);
        pub.publish(topic, "kept".getBytes(StandardCharsets.UTF_8), 1, true);
        int[][] cases = {{0, 1, 1}, {1, 1, 0}, {2, 0, 0}};   // retain handling, count on 1st, count on 2nd subscribe
        for (int[] c : cases) {
            Mqtt5RetainHandling rh = Mqtt5RetainHandling.fromCode(c[0]);
            BlockingQueue<Mqtt5Publish> got = new LinkedBlockingQueue<>();
            Mqtt5AsyncClient h = hivemq("so-rh" + c[0]);
            for (int round = 1; round <= 2; round++) {
                h.subscribeWith().topicFilter(topic).retainHandling(rh).callback(got::add).send().get(10, TimeUnit.SECONDS);
                Mqtt5Publish p = got.poll(c[round] == 1 ? 10_000 : 500, TimeUnit.MILLISECONDS);
                if (c[round] == 1) {
                    assertThat(p).as("Retain Handling " + c[0] + ", SUBSCRIBE #" + round).isNotNull();
                    assertThat(text(p)).isEqualTo("kept");
                    assertThat(p.isRetain()).isTrue();
                } else {
                    assertThat(p).as("Retain Handling " + c[0] + ", SUBSCRIBE #" + round).isNull();
                }
            }
        }
        pub.publish(topic, new byte[0], 1, true);
    }

    // [MQTT-3.3.4-3] / [MQTT-3.3.4-4] Overlapping subscriptions of one client with identifiers 7 and 300: ONE copy,
    // carrying both identifiers (Starling's choice of 3.3.4's two options), at the higher QoS [MQTT-3.3.4-2].
    @Test
    void overlappingSubscriptionsGiveOneCopyWithBothIdentifiers_MQTT_3_3_4_4() {
        Conn sub = conns.connect5("so-sid");
        Conns.subscribe5(sub, 1, props(subscriptionId(7)), "so/sid/+", 0x00, 0x00);
        Conns.subscribe5(sub, 2, props(subscriptionId(300)), "so/sid/#", 0x01, 0x01);
        Conns.subscribe5(sub, 3, props(), "so/+/x", 0x00, 0x00); // a third one without an identifier
        Conn pub = conns.connect5("so-sid-p");
        pub.send(Wire.publish5(QOS1, "so/sid/x", 1, props(), "s"));
        pub.expectAck5(0x40, 1);
        byte[] bytes = sub.read();
        Conn.Pub p = Conn.Pub.parse(bytes, true);
        assertThat(p.qos()).isEqualTo(1);
        assertThat(V5.decode(bytes).props().integers(V5.SUBSCRIPTION_ID)).containsExactlyInAnyOrder(7, 300);
        assertThat(V5.decode(bytes).props().ids()).containsOnly(V5.SUBSCRIPTION_ID);
        sub.send(0x40, 0x02, p.packetId() >> 8, p.packetId() & 0xFF);
        sub.expectNothing();                               // one copy
    }

    // [MQTT-3.8.4-3] A re-SUBSCRIBE replaces the subscription, including its identifier: 5 then 6 gives 6 only. A
    // retained message sent because of a SUBSCRIBE carries that subscription's identifier (3.3.4).
    @Test
    void identifierIsReplacedAndGoesOnRetainedMessages_MQTT_3_8_4_3() {
        Conn pub = conns.connect5("so-rsid-p");
        pub.send(Wire.publish5(QOS1 | RETAIN, "so/rsid/t", 1, props(), "r"));
        pub.expectAck5(0x40, 1);
        Conn sub = conns.connect5("so-rsid");
        Conns.subscribe5(sub, 1, props(subscriptionId(5)), "so/rsid/t", 0x20, 0x00); // Retain Handling 2
        sub.expectNothing();
        Conns.subscribe5(sub, 2, props(subscriptionId(6)), "so/rsid/t", 0x00, 0x00); // Retain Handling 0
        sub.expectPublish5(RETAIN, "so/rsid/t", props(subscriptionId(6)), "r");
        pub.send(Wire.publish5(0, "so/rsid/t", 0, props(), "live"));
        sub.expectPublish5(0, "so/rsid/t", props(subscriptionId(6)), "live");
        pub.send(Wire.publish5(QOS1 | RETAIN, "so/rsid/t", 2, props(), ""));
        pub.expectAck5(0x40, 2);
    }
}
