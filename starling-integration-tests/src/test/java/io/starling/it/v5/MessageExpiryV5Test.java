package io.starling.it.v5;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.QOS2;
import static io.starling.it.spec.Wire.props;
import static io.starling.it.spec.Wire.sessionExpiry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5Connect;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.starling.it.BrokerExtension;
import io.starling.it.Clients;
import io.starling.it.HiveMqV5Client;
import io.starling.it.Mosquitto;
import io.starling.it.Names;
import io.starling.it.PahoV5Client;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 Message Expiry Interval (3.3.2.3.3): expiry in an offline session's queue and in the retained store, the
 * remaining interval on forwarded messages, and QoS 2 flows that started before the expiry.
 *
 * <p>Waiting for an expiry: the broker stamps a message when it receives it, which is before the publisher has the
 * PUBACK; the tests wait (Awaitility, on the shared wall clock) until the interval has passed since that PUBACK, so
 * the message has certainly expired on the broker's side too.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MessageExpiryV5Test {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @RegisterExtension
    final Conns conns = new Conns(broker);

    private static int[] messageExpiry(long seconds) {
        return Wire.cat(Wire.b(0x02), Wire.u32(seconds));  // Message Expiry Interval
    }

    /** Waits until {@code millis} of wall-clock time have passed since {@code sinceMillis}. */
    private static void awaitPassed(long sinceMillis, long millis) {
        await().atMost(Duration.ofMillis(millis + 5_000)).pollInterval(Duration.ofMillis(50))
                .until(() -> System.currentTimeMillis() - sinceMillis > millis);
    }

    // [MQTT-3.3.2-5] A message whose interval passed while it waited in an offline session's queue is not delivered
    // when the session resumes; one without expiry (published after it) still is. Raw bytes, exact PUBLISH.
    @Test
    void expiredMessageIsDroppedFromTheOfflineQueue_MQTT_3_3_2_5() {
        String id = "mx-q-" + Names.clientId("x");
        Conn sub = conns.connect5(id, false, props(sessionExpiry(30)), 0x00);
        Conns.subscribe5(sub, 1, props(), "mx/q/t", 1, 0x01);
        sub.send(0xE0, 0x00);
        sub.expectClosed();
        Conn pub = conns.connect5(id + "p");
        pub.send(Wire.publish5(QOS1, "mx/q/t", 1, props(messageExpiry(1)), "short-lived"));
        pub.expectAck5(0x40, 1);
        long acked = System.currentTimeMillis();
        pub.send(Wire.publish5(QOS1, "mx/q/t", 2, props(), "forever"));
        pub.expectAck5(0x40, 2);
        awaitPassed(acked, 1_000);
        Conn again = conns.connect5(id, false, props(sessionExpiry(30)), 0x01);
        int pid = again.expectPublish5(QOS1, "mx/q/t", props(), "forever"); // the expired one is skipped
        again.send(0x40, 0x02, pid >> 8, pid & 0xFF);
        again.expectNothing();
    }

    // [MQTT-3.3.2-5] The same with real clients: HiveMQ publishes with Message Expiry 1 s and 60 s, Paho resumes its
    // session after 1 s and gets only the second.
    @Test
    void expiredMessageIsNotDeliveredToPaho_MQTT_3_3_2_5() throws Exception {
        String id = Names.clientId("mx-paho");
        String topic = Names.topic("mx-paho");
        PahoV5Client sub = clients.track(PahoV5Client.connect(broker, id, false, 30));
        sub.subscribe(topic, 1);
        sub.disconnect();
        HiveMqV5Client pub = clients.track(HiveMqV5Client.connect(broker, Names.clientId("mx-hpub"), true, 0));
        pub.hivemq().publish(Mqtt5Publish.builder().topic(topic).qos(MqttQos.AT_LEAST_ONCE)
                .payload("gone".getBytes(StandardCharsets.UTF_8)).messageExpiryInterval(1).build())
                .get(10, TimeUnit.SECONDS);
        long acked = System.currentTimeMillis();
        pub.hivemq().publish(Mqtt5Publish.builder().topic(topic).qos(MqttQos.AT_LEAST_ONCE)
                .payload("kept".getBytes(StandardCharsets.UTF_8)).messageExpiryInterval(60).build())
                .get(10, TimeUnit.SECONDS);
        awaitPassed(acked, 1_000);
        PahoV5Client again = clients.track(PahoV5Client.connect(broker, id, false, 30));
        assertThat(again.sessionPresent()).isTrue();
        assertThat(again.nextMessage().text()).isEqualTo("kept");
        assertThat(again.pollQuietly()).isNull();
    }

    // [MQTT-3.3.2-6] A message forwarded after waiting in the queue carries the interval minus the time it waited:
    // published with 10 s by mosquitto_pub (-D publish message-expiry-interval 10), delivered after more than 1 s with
    // at most 9 s left (and at least 1), as HiveMQ reports it.
    @Test
    void forwardedIntervalIsReducedByTheWait_MQTT_3_3_2_6() throws Exception {
        String id = Names.clientId("mx-rem");
        String topic = Names.topic("mx-rem");
        HiveMqV5Client sub = clients.track(HiveMqV5Client.connect(broker, id, false, 30));
        sub.subscribe(topic, 1);
        sub.disconnect();
        Mosquitto.pub(5, broker, "-t", topic, "-q", "1", "-m", "ten", "-D", "publish", "message-expiry-interval", "10");
        long acked = System.currentTimeMillis();
        awaitPassed(acked, 1_000);
        BlockingQueue<Mqtt5Publish> received = new LinkedBlockingQueue<>();
        Mqtt5AsyncClient again = Mqtt5Client.builder().identifier(id).serverHost(broker.host()).serverPort(broker.port())
                .buildAsync();
        again.publishes(MqttGlobalPublishFilter.ALL, received::add);
        try {
            Mqtt5ConnAck ack = again.connect(Mqtt5Connect.builder().cleanStart(false).sessionExpiryInterval(0).build())
                    .get(10, TimeUnit.SECONDS);
            assertThat(ack.isSessionPresent()).isTrue();
            Mqtt5Publish p = received.poll(10, TimeUnit.SECONDS);
            assertThat(p).as("the queued message").isNotNull();
            assertThat(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("ten");
            assertThat(p.getMessageExpiryInterval()).as("remaining interval [MQTT-3.3.2-6]").isPresent();
            assertThat(p.getMessageExpiryInterval().getAsLong()).isBetween(1L, 9L);
        } finally {
            again.disconnect().get(10, TimeUnit.SECONDS);
        }
    }

    // [MQTT-3.3.2-6] Raw bytes: a live subscriber gets the Message Expiry Interval, at most the published 30 s; a
    // message without one is forwarded without one.
    @Test
    void liveForwardCarriesTheInterval_MQTT_3_3_2_6() {
        Conn sub = conns.subscriber5("mx-live", "mx/live/t", 0x01);
        Conn pub = conns.connect5("mx-live-p");
        pub.send(Wire.publish5(QOS1, "mx/live/t", 1, props(messageExpiry(30)), "e"));
        pub.expectAck5(0x40, 1);
        byte[] p = sub.read();
        V5.Packet d = V5.decode(p);
        assertThat(d.props().ids()).as(d.toString()).containsExactly(V5.MESSAGE_EXPIRY);
        assertThat(d.props().u32(V5.MESSAGE_EXPIRY)).isBetween(1L, 30L);
        Conn.Pub pp = Conn.Pub.parse(p, true);
        sub.send(0x40, 0x02, pp.packetId() >> 8, pp.packetId() & 0xFF);
        pub.send(Wire.publish5(QOS1, "mx/live/t", 2, props(), "n"));
        pub.expectAck5(0x40, 2);
        int pid = sub.expectPublish5(QOS1, "mx/live/t", props(), "n");
        sub.send(0x40, 0x02, pid >> 8, pid & 0xFF);
    }

    // 3.3.2.3.3 / [MQTT-3.3.2-5]: a retained message expires from the retained store: sent (with its remaining
    // interval) to a subscriber before the interval passed, not to one that subscribes after it. Paho publishes it.
    @Test
    void retainedMessageExpires_MQTT_3_3_2_5() throws Exception {
        String topic = Names.topic("mx-ret");
        PahoV5Client pub = clients.track(PahoV5Client.connect(broker, Names.clientId("mx-rp"), true, 0));
        MqttMessage m = new MqttMessage("retained for 1 s".getBytes(StandardCharsets.UTF_8), 1, true, null);
        MqttProperties mp = new MqttProperties();
        mp.setMessageExpiryInterval(1L);
        m.setProperties(mp);
        pub.paho().publish(topic, m);
        long acked = System.currentTimeMillis();
        Conn early = conns.connect5("mx-ret-a");
        Conns.subscribe5(early, 1, props(), topic, 0x00, 0x00);
        byte[] got = early.read();
        V5.Packet d = V5.decode(got);
        assertThat(Conn.Pub.parse(got, true).retain()).isTrue();
        assertThat(Conn.Pub.parse(got, true).text()).isEqualTo("retained for 1 s");
        assertThat(d.props().u32(V5.MESSAGE_EXPIRY)).as("remaining interval").isEqualTo(1L);
        awaitPassed(acked, 1_000);
        Conn late = conns.connect5("mx-ret-b");
        Conns.subscribe5(late, 1, props(), topic, 0x00, 0x00);
        late.expectNothing();
        Conn later = conns.connect5("mx-ret-c");
        Conns.subscribe5(later, 1, props(), "#", 0x00, 0x00);  // a wildcard match does not find it either
        while (true) {
            byte[] r;
            r = later.raw().readPacket(Conn.QUIET);
            if (r == null) {
                break;
            }
            assertThat(Conn.Pub.parse(r, true).topic()).isNotEqualTo(topic);
        }
    }

    // [MQTT-4.3.3-7] Expiry is not applied once the QoS 2 PUBLISH has been sent: the subscriber that did not answer
    // gets it again (DUP 1) on resume after the interval passed; [MQTT-4.3.3-13] and the PUBREC/PUBREL/PUBCOMP
    // sequence completes.
    @Test
    void qos2FlowCompletesAfterExpiry_MQTT_4_3_3_7() {
        String id = "mx-q2-" + Names.clientId("x");
        Conn sub = conns.connect5(id, false, props(sessionExpiry(30)), 0x00);
        Conns.subscribe5(sub, 1, props(), "mx/q2/t", 2, 0x02);
        Conn pub = conns.connect5(id + "p");
        pub.send(Wire.publish5(QOS2, "mx/q2/t", 1, props(messageExpiry(1)), "q2"));
        pub.expectAck5(0x50, 1);
        long acked = System.currentTimeMillis();
        pub.send(0x62, 0x02, 0x00, 0x01);                  // PUBREL
        pub.expect(0x70, 0x02, 0x00, 0x01);                // PUBCOMP
        Conn.Pub first = sub.readPublish(true);
        assertThat(first.text()).isEqualTo("q2");
        sub.close();                                       // no PUBREC
        awaitPassed(acked, 1_000);
        Conn again = conns.connect5(id, false, props(sessionExpiry(30)), 0x01);
        Conn.Pub resent = again.readPublish(true);
        assertThat(resent.dup()).as("re-sent with DUP 1 [MQTT-4.3.3-7]").isTrue();
        assertThat(resent.packetId()).isEqualTo(first.packetId());
        assertThat(resent.text()).isEqualTo("q2");
        int pid = resent.packetId();
        again.send(0x50, 0x02, pid >> 8, pid & 0xFF);      // PUBREC
        again.expect(0x62, 0x02, pid >> 8, pid & 0xFF);    // PUBREL [MQTT-4.3.3-13]
        again.send(0x70, 0x02, pid >> 8, pid & 0xFF);      // PUBCOMP
        again.expectNothing();
    }

    // [MQTT-3.3.2-5] The expiry also applies to a message waiting behind a full Receive Maximum window on a live
    // connection: with Receive Maximum 1 and the first message unacknowledged, a second one with 1 s expiry is
    // dropped if the window opens after its expiry; a third without expiry follows.
    @Test
    void expiryAppliesInTheLiveQueue_MQTT_3_3_2_5() {
        Conn sub = conns.connect5("mx-win", true, props(Wire.receiveMaximum(1)), 0x00);
        Conns.subscribe5(sub, 1, props(), "mx/win/t", 1, 0x01);
        Conn pub = conns.connect5("mx-win-p");
        pub.send(Wire.publish5(QOS1, "mx/win/t", 1, props(), "a"));
        pub.expectAck5(0x40, 1);
        int a = sub.expectPublish5(QOS1, "mx/win/t", props(), "a");
        pub.send(Wire.publish5(QOS1, "mx/win/t", 2, props(messageExpiry(1)), "b"));
        pub.expectAck5(0x40, 2);
        long acked = System.currentTimeMillis();
        pub.send(Wire.publish5(QOS1, "mx/win/t", 3, props(), "c"));
        pub.expectAck5(0x40, 3);
        sub.expectNothing();                               // window full
        awaitPassed(acked, 1_000);
        sub.send(0x40, 0x02, a >> 8, a & 0xFF);
        int c = sub.expectPublish5(QOS1, "mx/win/t", props(), "c");
        sub.send(0x40, 0x02, c >> 8, c & 0xFF);
        sub.expectNothing();
    }
}
