package io.starling.it.v5;

import static io.starling.it.spec.Wire.props;
import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperties;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PayloadFormatIndicator;
import io.starling.it.BrokerExtension;
import io.starling.it.Mosquitto;
import io.starling.it.Names;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import io.starling.testkit.RawClient;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 application properties passed through unchanged (3.3.2.3), request/response (Response Topic, Correlation
 * Data, Request Response Information → Response Information, config {@code response-information: "resp/%c"}),
 * Request Problem Information (3.1.2.11.7) and payload validation ({@code validate-utf8-payloads: true}, 0x99).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PropertiesPassThroughV5Test {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.responseInformation("resp/%c").validateUtf8Payloads(true));

    @RegisterExtension
    final Conns conns = new Conns(broker);

    /** A QoS {@code qos} PUBLISH flagged as UTF-8 (Payload Format Indicator 1) whose payload is C3 28: not UTF-8. */
    private static int[] invalidUtf8Publish(int qos, String topic, int packetId) {
        return Wire.packet(0x30 | qos << 1,                // PUBLISH
                Wire.str(topic),                           // topic
                qos > 0 ? Wire.u16(packetId) : new int[0], // packet id
                props(Wire.b(0x01, 0x01)),                 // Payload Format Indicator 1 (UTF-8)
                Wire.b(0xC3, 0x28));                       // payload: a lead byte without its continuation
    }

    // [MQTT-3.3.2-4] Payload Format Indicator, [MQTT-3.3.2-15] Response Topic, [MQTT-3.3.2-16] Correlation Data,
    // [MQTT-3.3.2-17] User Properties [MQTT-3.3.2-18] in order, [MQTT-3.3.2-20] Content Type: set from the command
    // line with mosquitto_pub -D publish ..., received unchanged by a raw subscriber.
    @Test
    void mosquittoPubPropertiesArriveUnchanged_MQTT_3_3_2_17() throws Exception {
        String topic = Names.topic("pp-mosq");
        Conn sub = conns.subscriber5("pp-mosq", topic, 0x01);
        Mosquitto.pub(5, broker, "-t", topic, "-q", "1", "-m", "héllo",
                "-D", "publish", "payload-format-indicator", "1",
                "-D", "publish", "content-type", "text/plain; charset=utf-8",
                "-D", "publish", "response-topic", "pp/reply",
                "-D", "publish", "correlation-data", "corr-42",
                "-D", "publish", "user-property", "zeta", "1",
                "-D", "publish", "user-property", "alpha", "2",
                "-D", "publish", "user-property", "zeta", "3");
        byte[] bytes = sub.read();
        Conn.Pub p = Conn.Pub.parse(bytes, true);
        assertThat(p.text()).isEqualTo("héllo");
        V5.Props props = V5.decode(bytes).props();
        assertThat(props.integer(V5.PAYLOAD_FORMAT)).isEqualTo(1);
        assertThat(props.string(V5.CONTENT_TYPE)).isEqualTo("text/plain; charset=utf-8");
        assertThat(props.string(V5.RESPONSE_TOPIC)).isEqualTo("pp/reply");
        assertThat(new String(props.binary(V5.CORRELATION_DATA), StandardCharsets.UTF_8)).isEqualTo("corr-42");
        assertThat(props.userProperties()).containsExactly("zeta=1", "alpha=2", "zeta=3");
        assertThat(props.ids()).doesNotContain(V5.TOPIC_ALIAS, V5.SUBSCRIPTION_ID, V5.MESSAGE_EXPIRY);
        sub.send(0x40, 0x02, p.packetId() >> 8, p.packetId() & 0xFF);
    }

    // The same properties from HiveMQ to Paho (a request with Response Topic + Correlation Data, answered by the
    // receiver to that Response Topic with the Correlation Data, which HiveMQ gets back unchanged).
    @Test
    void requestResponseBetweenHivemqAndPaho_MQTT_3_3_2_16() throws Exception {
        String topic = Names.topic("pp-req");
        String replyTo = Names.topic("pp-rep");
        byte[] corr = {0, 1, 2, (byte) 0xFF};
        Mqtt5AsyncClient h = Mqtt5Client.builder().identifier(Names.clientId("pp-h")).serverHost(broker.host())
                .serverPort(broker.port()).buildAsync();
        h.connect().get(10, TimeUnit.SECONDS);
        try (PahoCapture paho = PahoCapture.connect(broker, Names.clientId("pp-p"), PahoCapture.options())) {
            paho.paho().subscribe(topic, 1);
            java.util.concurrent.BlockingQueue<com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish> replies =
                    new java.util.concurrent.LinkedBlockingQueue<>();
            h.subscribeWith().topicFilter(replyTo).qos(MqttQos.AT_LEAST_ONCE).callback(replies::add)
                    .send().get(10, TimeUnit.SECONDS);
            h.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload("ping".getBytes(StandardCharsets.UTF_8))
                    .responseTopic(replyTo).correlationData(corr).contentType("text/plain")
                    .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8)
                    .userProperties(Mqtt5UserProperties.builder().add("b", "1").add("a", "2").build())
                    .send().get(10, TimeUnit.SECONDS);
            PahoCapture.Received r = paho.next();
            MqttProperties mp = r.message().getProperties();
            assertThat(mp.getResponseTopic()).isEqualTo(replyTo);
            assertThat(mp.getCorrelationData()).containsExactly(corr);
            assertThat(mp.getContentType()).isEqualTo("text/plain");
            assertThat(mp.getPayloadFormat()).isTrue();
            assertThat(mp.getUserProperties()).extracting(u -> u.getKey() + "=" + u.getValue()).containsExactly("b=1", "a=2");
            MqttProperties answer = new MqttProperties();
            answer.setCorrelationData(mp.getCorrelationData());
            answer.setUserProperties(java.util.List.of(new UserProperty("k", "v")));
            org.eclipse.paho.mqttv5.common.MqttMessage reply = new org.eclipse.paho.mqttv5.common.MqttMessage(
                    "pong".getBytes(StandardCharsets.UTF_8), 1, false, answer);
            paho.paho().publish(mp.getResponseTopic(), reply);
            var rep = replies.poll(10, TimeUnit.SECONDS);
            assertThat(rep).isNotNull();
            assertThat(rep.getCorrelationData()).isPresent();
            byte[] back = new byte[rep.getCorrelationData().get().remaining()];
            rep.getCorrelationData().get().duplicate().get(back);
            assertThat(back).containsExactly(corr);
            assertThat(rep.getUserProperties().asList()).extracting(u -> u.getName() + "=" + u.getValue())
                    .containsExactly("k=v");
        } finally {
            h.disconnect().get(10, TimeUnit.SECONDS);
        }
    }

    // 3.2.2.3.15: Request Response Information 1 → CONNACK Response Information "resp/<client id>" (raw and Paho);
    // [MQTT-3.1.2-28] Request Response Information 0 or absent → none.
    @Test
    void responseInformationOnlyWhenRequested_MQTT_3_1_2_28() throws Exception {
        Conn yes = conns.open();
        yes.send(Wire.connect5("pp-ri1", Wire.CLEAN, 60, props(Wire.b(0x19, 0x01))));   // Request Response Info 1
        V5.Packet a1 = V5.decode(yes.read());
        assertThat(a1.props().string(V5.RESPONSE_INFORMATION)).isEqualTo("resp/pp-ri1");
        Conn no = conns.open();
        no.send(Wire.connect5("pp-ri0", Wire.CLEAN, 60, props(Wire.b(0x19, 0x00))));    // Request Response Info 0
        assertThat(V5.decode(no.read()).props().has(V5.RESPONSE_INFORMATION)).isFalse();
        Conn absent = conns.open();
        absent.send(Wire.connect5("pp-ri", Wire.CLEAN, 60, props()));
        assertThat(V5.decode(absent.read()).props().has(V5.RESPONSE_INFORMATION)).isFalse();
        MqttConnectionOptions o = PahoCapture.options();
        o.setRequestResponseInfo(true);
        String id = Names.clientId("pp-rip");
        try (PahoCapture p = PahoCapture.connect(broker, id, o)) {
            assertThat(p.connAckProperties().getResponseInfo()).isEqualTo("resp/" + id);
        }
    }

    // 3.3.2.3.2 with validate-utf8-payloads: a QoS 1 PUBLISH flagged UTF-8 whose payload is not gets PUBACK 0x99
    // (Payload format invalid), with a Reason String since Request Problem Information is 1 by default; QoS 2 gets
    // PUBREC 0x99. The message is not forwarded. The connection stays open.
    @Test
    void invalidUtf8PayloadGetsAck0x99_MQTT_3_1_2_29() {
        Conn sub = conns.subscriber5("pp-u8s", "pp/u8", 0x01);
        Conn c = conns.connect5("pp-u8");
        c.send(invalidUtf8Publish(1, "pp/u8", 1));
        V5.Packet ack = V5.decode(c.read());
        assertThat(ack.type()).isEqualTo(4);
        assertThat(ack.reasonCode()).isEqualTo(0x99);
        assertThat(ack.props().has(V5.REASON_STRING)).as("Request Problem Information 1: " + ack).isTrue();
        c.send(invalidUtf8Publish(2, "pp/u8", 2));
        V5.Packet rec = V5.decode(c.read());
        assertThat(rec.type()).isEqualTo(5);
        assertThat(rec.reasonCode()).isEqualTo(0x99);
        c.expectAlive();
        sub.expectNothing();
        c.send(Wire.publish5(Wire.QOS1, "pp/u8", 3, props(Wire.b(0x01, 0x01)), "ünïcode")); // valid UTF-8: fine
        c.expectAck5(0x40, 3);
        sub.expectPublish5(Wire.QOS1, "pp/u8", props(Wire.b(0x01, 0x01)), "ünïcode");
    }

    // [MQTT-3.1.2-29] Request Problem Information 0: the PUBACK 0x99 carries no Reason String (nor User Property).
    @Test
    void requestProblemInformation0LeavesOutTheReasonString_MQTT_3_1_2_29() {
        Conn c = conns.connect5("pp-rpi0", true, props(Wire.b(0x17, 0x00)), 0x00);  // Request Problem Information 0
        c.send(invalidUtf8Publish(1, "pp/rpi0", 1));
        V5.Packet ack = V5.decode(c.read());
        assertThat(ack.reasonCode()).isEqualTo(0x99);
        assertThat(ack.props().list()).as(ack.toString()).isEmpty();
    }

    // A payload flagged UTF-8 that is not, at QoS 0: DISCONNECT 0x99 (there is no acknowledgement to carry it).
    @Test
    void invalidUtf8AtQos0IsDisconnect0x99_MQTT_3_3_2_4() {
        Conn c = conns.connect5("pp-u8q0");
        c.send(invalidUtf8Publish(0, "pp/q0", 0));
        c.expectDisconnect(0x99);
    }

    // Without the flag (Payload Format Indicator absent or 0) the payload is not checked: PUBACK success.
    @Test
    void unflaggedBinaryPayloadIsNotChecked_MQTT_3_3_2_4() {
        Conn c = conns.connect5("pp-bin");
        c.send(Wire.packet(0x32, Wire.str("pp/bin"), Wire.u16(1), props(Wire.b(0x01, 0x00)), Wire.b(0xC3, 0x28)));
        c.expectAck5(0x40, 1);
    }

    // [MQTT-3.4.2-2] The PUBACK Reason String is left out when it would make the PUBACK larger than the client's
    // Maximum Packet Size (16 here; PUBACK 0x99 without properties is 5 bytes).
    @Test
    void pubackReasonStringRespectsMaximumPacketSize_MQTT_3_4_2_2() {
        Conn c = conns.connect5("pp-mps", true, props(Wire.b(0x27), Wire.u32(16)), 0x00);
        c.send(invalidUtf8Publish(1, "pp/mps", 1));
        byte[] ack = c.read();
        assertThat(V5.decode(ack).reasonCode()).isEqualTo(0x99);
        assertThat(ack.length).as(RawClient.hex(ack)).isLessThanOrEqualTo(16);
    }

    // [MQTT-3.5.2-2] The same for PUBREC: the Reason String of PUBREC 0x99 is left out when it would make the PUBREC
    // larger than the client's Maximum Packet Size (16 here).
    @Test
    void pubrecReasonStringRespectsMaximumPacketSize_MQTT_3_5_2_2() {
        Conn c = conns.connect5("pp-mps2", true, props(Wire.b(0x27), Wire.u32(16)), 0x00);
        c.send(invalidUtf8Publish(2, "pp/mps2", 1));
        byte[] rec = c.read();
        assertThat(V5.decode(rec).type()).isEqualTo(5);
        assertThat(V5.decode(rec).reasonCode()).isEqualTo(0x99);
        assertThat(rec.length).as(RawClient.hex(rec)).isLessThanOrEqualTo(16);
    }
}
