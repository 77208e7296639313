package io.starling.it.v5;

import static io.starling.it.spec.Wire.props;
import static io.starling.it.spec.Wire.sessionExpiry;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.BrokerExtension;
import io.starling.it.ClientKind;
import io.starling.it.Clients;
import io.starling.it.HiveMqV5Client;
import io.starling.it.Names;
import io.starling.it.TestClient;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 DISCONNECT reason codes the server sends (3.14.2.1): 0x8B shutting down, 0x8D keep-alive timeout, 0x8E
 * session taken over, 0x97 quota exceeded (SUBACK, max-subscriptions-per-client 2), 0x98 administrative action.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerDisconnectV5Test {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.maxSubscriptionsPerClient(2));

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @RegisterExtension
    final Conns conns = new Conns(broker);

    // 0x8B Server shutting down: every 5.0 client gets it when the broker stops (raw bytes and Paho's report).
    // [MQTT-3.14.2-1] a defined reason code; [MQTT-3.14.2-2] without a Session Expiry Interval; then closed.
    @Test
    void shutdownSends0x8B_MQTT_3_14_2_1() throws Exception {
        Conn raw = conns.connect5("sd-8b");
        try (PahoCapture paho = PahoCapture.connect(broker, Names.clientId("sd-8bp"), PahoCapture.options())) {
            broker.stop();
            raw.expectDisconnect(0x8B);
            MqttDisconnectResponse r = paho.nextDisconnect();
            assertThat(r.getReturnCode()).isEqualTo(0x8B);
        }
    }

    // 0x8D Keep Alive timeout [MQTT-3.1.2-22]: a client with keep alive 1 s that sends nothing gets DISCONNECT 0x8D,
    // and its Will is published [MQTT-3.1.2-8].
    @Test
    void keepAliveTimeoutSends0x8DAndPublishesTheWill_MQTT_3_1_2_22() throws Exception {
        String topic = Names.topic("sd-8d");
        TestClient sub = clients.connect(ClientKind.HIVEMQ_V5);
        sub.subscribe(topic, 1);
        Conn c = conns.open();
        c.send(Wire.connect5Will("sd-8d", Wire.CLEAN | Wire.WILL | Wire.WILL_QOS1, 1, props(), props(), topic, "timed out"));
        c.expectConnack5(0x00);
        c.expectDisconnect(0x8D);
        assertThat(sub.nextMessage().text()).isEqualTo("timed out");
    }

    // 0x8E Session taken over [MQTT-3.1.4-3]: Paho's first connection is told so when a second one with its client id
    // connects.
    @Test
    void takeoverSends0x8E_MQTT_3_1_4_3() throws Exception {
        String id = Names.clientId("sd-8e");
        try (PahoCapture first = PahoCapture.connect(broker, id, PahoCapture.options());
                PahoCapture second = PahoCapture.connect(broker, id, PahoCapture.options())) {
            MqttDisconnectResponse r = first.nextDisconnect();
            assertThat(r.getReturnCode()).isEqualTo(0x8E);
            assertThat(second.paho().isConnected()).isTrue();
        }
    }

    // 0x97 Quota exceeded: with max-subscriptions-per-client 2 a third filter gets SUBACK 0x97; replacing an existing
    // subscription is not a new one and is granted.
    @Test
    void subscriptionQuotaGivesSuback0x97_MQTT_3_9_3_1() throws Exception {
        Conn c = conns.connect5("sd-97");
        Conns.subscribe5(c, 1, props(), "sd/97/a", 0x01, 0x01);
        Conns.subscribe5(c, 2, props(), "sd/97/b", 0x01, 0x01);
        Conns.subscribe5(c, 3, props(), "sd/97/c", 0x01, 0x97);
        Conns.subscribe5(c, 4, props(), "sd/97/a", 0x00, 0x00);
        HiveMqV5Client h = clients.track(HiveMqV5Client.connect(broker, Names.clientId("sd-97h"), true, 0));
        assertThat(V5.hivemqSubscribe(h.hivemq(), "x/1", "x/2", "x/3")).containsExactly(0x01, 0x01, 0x97);
    }

    // 0x98 Administrative action: Broker.disconnectClient closes a 5.0 client with it; the session stays (Session
    // Present 1 on reconnect with Clean Start 0).
    @Test
    void administrativeDisconnectSends0x98_MQTT_3_14_2_1() throws Exception {
        String id = Names.clientId("sd-98");
        MqttConnectionOptions o = PahoCapture.options();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(30L);
        try (PahoCapture p = PahoCapture.connect(broker, id, o)) {
            assertThat(broker.server().broker().disconnectClient(id)).isTrue();
            assertThat(p.nextDisconnect().getReturnCode()).isEqualTo(0x98);
        }
        Conn raw = conns.connect5("sd-98r");
        assertThat(broker.server().broker().disconnectClient("sd-98r")).isTrue();
        raw.expectDisconnect(0x98);
        assertThat(broker.server().broker().disconnectClient("sd-98-nobody")).isFalse();
        conns.connect5(id, false, props(sessionExpiry(30)), 0x01);
    }
}
