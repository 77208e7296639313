package io.starling.it.v5;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.props;
import static io.starling.it.spec.Wire.sessionExpiry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.it.BrokerExtension;
import io.starling.it.Names;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 Will Delay Interval (3.1.3.2.2) and will properties: the Will is published once the delay passed or the
 * session ended, whichever is first; a reconnect that resumes the session within the delay cancels it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WillDelayV5Test {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Conns conns = new Conns(broker);

    private static int[] willDelay(long seconds) {
        return Wire.cat(Wire.b(0x18), Wire.u32(seconds)); // Will Delay Interval
    }

    /** A raw connection with a QoS 1 Will (delay, session expiry as given); CONNACK checked. */
    private Conn withWill(String clientId, boolean clean, long expiry, long delay, String topic, int sessionPresent) {
        Conn c = conns.open();
        c.send(Wire.connect5Will(clientId, (clean ? Wire.CLEAN : 0) | Wire.WILL | Wire.WILL_QOS1, 60,
                props(sessionExpiry(expiry)), props(willDelay(delay)), topic, "will of " + clientId));
        c.expectConnack5(sessionPresent);
        return c;
    }

    private static void awaitPassed(long sinceMillis, long millis) {
        await().atMost(Duration.ofMillis(millis + 5_000)).pollInterval(Duration.ofMillis(50))
                .until(() -> System.currentTimeMillis() - sinceMillis > millis);
    }

    // [MQTT-3.1.2-8] Will Delay 2 s, Session Expiry 10 s: nothing right after the connection drops, the Will once the
    // delay passed, without the Will Delay Interval among its properties.
    @Test
    void willIsPublishedAfterTheDelay_MQTT_3_1_2_8() {
        Conn sub = conns.subscriber5("wd-sub1", "wd/1", 0x01);
        Conn c = withWill("wd-1", true, 10, 2, "wd/1", 0x00);
        c.close();
        long dropped = System.currentTimeMillis();
        sub.expectNothing();
        awaitPassed(dropped, 2_000);
        sub.expectPublish5(QOS1, "wd/1", props(), "will of wd-1");
    }

    // [MQTT-3.1.3-9] A reconnect with Clean Start 0 within the delay resumes the session and cancels the Will: nothing
    // arrives once the delay has passed.
    @Test
    void reconnectWithinTheDelayCancelsTheWill_MQTT_3_1_3_9() {
        Conn sub = conns.subscriber5("wd-sub2", "wd/2", 0x01);
        Conn c = withWill("wd-2", false, 10, 2, "wd/2", 0x00);
        c.close();
        long dropped = System.currentTimeMillis();
        Conn again = conns.connect5("wd-2", false, props(sessionExpiry(10)), 0x01);
        awaitPassed(dropped, 2_000);
        sub.expectNothing();
        again.send(0xE0, 0x00);
        again.expectClosed();
        sub.expectNothing();
    }

    // 3.1.3.2.2: the session ends (Session Expiry 1 s) before the Will Delay (30 s): the Will is published at the
    // end of the session, long before the delay.
    @Test
    void sessionEndingFirstPublishesTheWill_MQTT_3_1_2_8() {
        Conn sub = conns.subscriber5("wd-sub3", "wd/3", 0x01);
        Conn c = withWill("wd-3", true, 1, 30, "wd/3", 0x00);
        c.close();
        sub.expectNothing();
        sub.expectPublish5(QOS1, "wd/3", props(), "will of wd-3");   // within 5 s, not 30
    }

    // 3.1.3.2.2 / [MQTT-3.1.2-4]: a reconnect with Clean Start 1 within the delay (30 s) ends the old session, so its
    // Will is published right away.
    @Test
    void cleanStartReconnectPublishesTheWillAtOnce_MQTT_3_1_2_4() {
        Conn sub = conns.subscriber5("wd-sub4", "wd/4", 0x01);
        Conn c = withWill("wd-4", false, 60, 30, "wd/4", 0x00);
        c.close();
        sub.expectNothing();
        conns.connect5("wd-4", true, props(sessionExpiry(60)), 0x00);
        sub.expectPublish5(QOS1, "wd/4", props(), "will of wd-4");
    }

    // 3.14.2.1 DISCONNECT 0x04 (Disconnect with Will Message) with a Will Delay of 2 s: the Will is published after
    // the delay, like a dropped connection.
    @Test
    void disconnectWithWillMessageHonoursTheDelay_MQTT_3_14_4_3() {
        Conn sub = conns.subscriber5("wd-sub5", "wd/5", 0x01);
        Conn c = withWill("wd-5", true, 10, 2, "wd/5", 0x00);
        c.send(0xE0, 0x01, 0x04);                          // DISCONNECT 0x04
        c.expectClosed();
        long sent = System.currentTimeMillis();
        sub.expectNothing();
        awaitPassed(sent, 2_000);
        sub.expectPublish5(QOS1, "wd/5", props(), "will of wd-5");
    }

    // Will properties (3.1.3.2) go out with the Will: Content Type, Response Topic, Correlation Data, User Property,
    // Message Expiry, Payload Format Indicator, as Paho set them; the Will Delay Interval does not.
    @Test
    void willPropertiesArePublished_MQTT_3_1_2_8() throws Exception {
        String topic = Names.topic("wd-props");
        Conn sub = conns.subscriber5("wd-sub6", topic, 0x01);
        MqttConnectionOptions o = PahoCapture.options();
        MqttProperties wp = new MqttProperties();
        wp.setContentType("text/plain");
        wp.setResponseTopic("wd/reply");
        wp.setCorrelationData(new byte[] {9, 8});
        wp.setUserProperties(java.util.List.of(new org.eclipse.paho.mqttv5.common.packet.UserProperty("u", "1")));
        wp.setMessageExpiryInterval(100L);
        wp.setPayloadFormat(true);
        wp.setWillDelayInterval(0L);
        o.setWill(topic, new MqttMessage("bye".getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, false, null));
        o.setWillMessageProperties(wp);
        PahoCapture p = PahoCapture.connect(broker, Names.clientId("wd-p"), o);
        p.paho().disconnectForcibly(0, 50, false);        // no DISCONNECT: the connection just ends
        p.close();
        byte[] bytes = sub.read();
        assertThat(Conn.Pub.parse(bytes, true).text()).isEqualTo("bye");
        V5.Props props = V5.decode(bytes).props();
        assertThat(props.string(V5.CONTENT_TYPE)).isEqualTo("text/plain");
        assertThat(props.string(V5.RESPONSE_TOPIC)).isEqualTo("wd/reply");
        assertThat(props.binary(V5.CORRELATION_DATA)).containsExactly(9, 8);
        assertThat(props.userProperties()).containsExactly("u=1");
        assertThat(props.u32(V5.MESSAGE_EXPIRY)).isBetween(1L, 100L);
        assertThat(props.integer(V5.PAYLOAD_FORMAT)).isEqualTo(1);
        assertThat(props.ids()).doesNotContain(0x18);
    }
}
