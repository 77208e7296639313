package io.starling.it.v5;

import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.starling.it.BrokerExtension;
import io.starling.testkit.RawClient;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 5.0 CONNECT payload rules not covered elsewhere: a refused Client Identifier and Will User Properties. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClientIdAndWillV5Test {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.maxClientIdLength(8));

    // [MQTT-3.1.3-8] a Client Identifier the server refuses (here: longer than max-client-id-length 8) gets CONNACK
    // 0x85 Client Identifier not valid, then the connection is closed.
    @Test
    void refusedClientIdGetsConnack85_MQTT_3_1_3_8() {
        RawClient c = RawClient.connect(broker.host(), broker.port());
        c.send(
                0x10, 0x16,                                // CONNECT, remaining length 22
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x02,                                      // flags: clean start
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x09, 'n', 'i', 'n', 'e', '-', 'c', 'h', 'a', 'r'); // client id "nine-char", 9 > 8
        byte[] connack = c.readPacket(Duration.ofSeconds(5));
        assertThat(connack).isNotNull();
        assertThat(connack[0] & 0xFF).as("CONNACK").isEqualTo(0x20);
        assertThat(connack[2]).as("session present 0").isEqualTo((byte) 0);
        assertThat(connack[3] & 0xFF).as("0x85 Client Identifier not valid").isEqualTo(0x85);
        assertThat(c.awaitClosed(Duration.ofSeconds(5))).isTrue();
    }

    // [MQTT-3.1.3-10] the Will's User Properties are published in the order they were sent.
    @Test
    void willUserPropertiesKeepTheirOrder_MQTT_3_1_3_10() throws Exception {
        Mqtt5AsyncClient sub = Mqtt5Client.builder().identifier("wup-sub").serverHost(broker.host())
                .serverPort(broker.port()).buildAsync();
        sub.connect().get(10, TimeUnit.SECONDS);
        BlockingQueue<Mqtt5Publish> got = new LinkedBlockingQueue<>();
        sub.subscribeWith().topicFilter("wup/will").qos(MqttQos.AT_LEAST_ONCE).callback(got::add)
                .send().get(10, TimeUnit.SECONDS);
        RawClient c = RawClient.connect(broker.host(), broker.port());
        c.send(
                0x10, 0x2F,                                // CONNECT, remaining length 47
                0x00, 0x04, 'M', 'Q', 'T', 'T',            // protocol name
                0x05,                                      // protocol version 5
                0x0E,                                      // flags: clean start, will, will QoS 1
                0x00, 0x3C,                                // keep alive 60 s
                0x00,                                      // property length 0
                0x00, 0x03, 'w', 'u', 'p',                 // client id "wup"
                0x0E,                                      // will property length 14
                0x26, 0x00, 0x01, 'z', 0x00, 0x01, '1',    //   User Property z=1
                0x26, 0x00, 0x01, 'a', 0x00, 0x01, '2',    //   User Property a=2
                0x00, 0x08, 'w', 'u', 'p', '/', 'w', 'i', 'l', 'l', // will topic "wup/will"
                0x00, 0x04, 'g', 'o', 'n', 'e');           // will payload "gone"
        byte[] connack = c.readPacket(Duration.ofSeconds(5));
        assertThat(connack[3]).as("CONNACK accepted").isEqualTo((byte) 0x00);
        c.close();                                         // no DISCONNECT: the Will goes out
        Mqtt5Publish will = got.poll(10, TimeUnit.SECONDS);
        assertThat(will).isNotNull();
        assertThat(will.getUserProperties().asList()).extracting(u -> u.getName() + "=" + u.getValue())
                .containsExactly("z=1", "a=2");
        sub.disconnect().get(10, TimeUnit.SECONDS);
    }
}
