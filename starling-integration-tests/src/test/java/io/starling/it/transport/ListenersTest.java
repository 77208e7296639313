package io.starling.it.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.config.ListenerConfig.ClientAuth;
import io.starling.broker.config.ListenerConfig.Type;
import io.starling.server.StarlingServer;
import io.starling.server.config.ConfigLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code listeners} key: parsing, validation, the loopback rule, several listeners on one broker. */
class ListenersTest {

    @TempDir
    Path tmp;

    private BrokerConfig load(String yaml) throws Exception {
        Path f = tmp.resolve("starling-" + UUID.randomUUID() + ".yaml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f).build();
    }

    @Test
    void parsesEveryListenerKey() throws Exception {
        BrokerConfig c = load("""
                listeners:
                  - type: tcp
                    bind: 127.0.0.1
                    port: 1883
                  - type: tls
                    port: 8883
                    cert: /etc/starling/server.pem
                    key: /etc/starling/server.key
                    ca: /etc/starling/ca.pem
                    client-auth: require
                    protocols: [TLSv1.3, TLSv1.2]
                    ciphers: []
                  - type: ws
                    port: 8080
                    path: /mqtt
                  - type: wss
                    bind: 0.0.0.0
                    port: 8443
                    cert: server.pem
                    key: server.key
                    allow-anonymous: true
                """);
        assertThat(c.listeners()).hasSize(4);
        assertThat(c.effectiveListeners()).isEqualTo(c.listeners());
        ListenerConfig tls = c.listeners().get(1);
        assertThat(tls.type()).isEqualTo(Type.TLS);
        assertThat(tls.bind()).isEqualTo("127.0.0.1");
        assertThat(tls.port()).isEqualTo(8883);
        assertThat(tls.ca()).isEqualTo(Path.of("/etc/starling/ca.pem"));
        assertThat(tls.clientAuth()).isEqualTo(ClientAuth.REQUIRE);
        assertThat(tls.protocols()).containsExactly("TLSv1.3", "TLSv1.2");
        assertThat(tls.ciphers()).isEmpty();
        assertThat(c.listeners().get(2).path()).isEqualTo("/mqtt");
        ListenerConfig wss = c.listeners().get(3);
        assertThat(wss.allowAnonymous()).isTrue();
        assertThat(wss.bind()).isEqualTo("0.0.0.0");
        assertThat(wss.clientAuth()).isEqualTo(ClientAuth.NONE);
    }

    @Test
    void withoutListenersTheBrokerRunsOneTcpListenerOnBindAndPort() throws Exception {
        BrokerConfig c = load("bind: 127.0.0.1\nport: 1884\n");
        assertThat(c.listeners()).isEmpty();
        assertThat(c.effectiveListeners()).containsExactly(ListenerConfig.tcp("127.0.0.1", 1884));
        assertThat(BrokerConfig.builder().port(0).build().effectiveListeners()).hasSize(1);
    }

    @Test
    void badListenersAreErrorsNamingTheKey() {
        assertThatThrownBy(() -> load("listeners:\n  - type: quic\n    port: 1\n"))
                .hasMessageContaining("listener 1").hasMessageContaining("quic");
        assertThatThrownBy(() -> load("listeners:\n  - type: tcp\n    colour: blue\n"))
                .hasMessageContaining("'colour'").hasMessageContaining("unknown key");
        assertThatThrownBy(() -> load("listeners:\n  - type: tcp\n  - type: tls\n    port: 8883\n"))
                .hasMessageContaining("listener 2").hasMessageContaining("cert and key are required");
        assertThatThrownBy(() -> load("listeners:\n  - type: tls\n    cert: a\n    key: b\n    client-auth: require\n"))
                .hasMessageContaining("needs a ca file");
        assertThatThrownBy(() -> load("listeners:\n  - type: tcp\n    cert: a.pem\n"))
                .hasMessageContaining("tls and wss listeners only");
        assertThatThrownBy(() -> load("listeners:\n  - type: ws\n    path: mqtt\n"))
                .hasMessageContaining("must start with '/'");
        assertThatThrownBy(() -> load("listeners:\n  - port: 1\n")).hasMessageContaining("'type' is required");
    }

    @Test
    void aNonLoopbackListenerWithoutAllowAnonymousRefusesToStart() {
        BrokerConfig c = BrokerConfig.builder().dataDir(tmp)
                .listeners(List.of(ListenerConfig.tcp("127.0.0.1", 0),
                        ListenerConfig.builder(Type.WS).bind("0.0.0.0").port(0).build()))
                .build();
        assertThatThrownBy(() -> StarlingServer.start(c))
                .hasMessageContaining("ws listener 0.0.0.0:0/mqtt")
                .hasMessageContaining("allow-anonymous: true");
        // the implicit listener follows the same rule
        assertThatThrownBy(() -> StarlingServer.start(BrokerConfig.builder().dataDir(tmp).bindAddress("0.0.0.0").port(0).build()))
                .hasMessageContaining("tcp listener 0.0.0.0:0");
    }

    @Test
    void allowAnonymousLetsItStart() {
        BrokerConfig c = BrokerConfig.builder().dataDir(tmp)
                .listeners(List.of(ListenerConfig.builder(Type.TCP).bind("0.0.0.0").port(0).allowAnonymous(true).build()))
                .build();
        try (StarlingServer s = StarlingServer.start(c)) {
            assertThat(s.port()).isPositive();
        }
    }

    @Test
    void severalListenersShareOneBroker() throws Exception {
        BrokerConfig c = BrokerConfig.builder().dataDir(tmp)
                .listeners(List.of(ListenerConfig.tcp("127.0.0.1", 0), ListenerConfig.tcp("127.0.0.1", 0),
                        ListenerConfig.builder(Type.WS).port(0).build()))
                .build();
        try (StarlingServer s = StarlingServer.start(c)) {
            assertThat(s.ports()).hasSize(3).doesNotHaveDuplicates();
            assertThat(s.port()).isEqualTo(s.port(0));
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            MqttClient sub = connect("ws://127.0.0.1:" + s.port(2) + "/mqtt");
            sub.subscribe("multi/#", 1, (t, m) -> got.add(t + " " + new String(m.getPayload(), StandardCharsets.UTF_8)));
            MqttClient pub1 = connect("tcp://127.0.0.1:" + s.port(0));
            MqttClient pub2 = connect("tcp://127.0.0.1:" + s.port(1));
            pub1.publish("multi/a", "one".getBytes(StandardCharsets.UTF_8), 1, false);
            pub2.publish("multi/b", "two".getBytes(StandardCharsets.UTF_8), 1, false);
            assertThat(List.of(got.poll(10, TimeUnit.SECONDS), got.poll(10, TimeUnit.SECONDS)))
                    .containsExactlyInAnyOrder("multi/a one", "multi/b two");
            for (MqttClient m : List.of(sub, pub1, pub2)) {
                m.disconnect();
                m.close();
            }
        }
    }

    private static MqttClient connect(String uri) throws Exception {
        MqttClient c = new MqttClient(uri, "l-" + UUID.randomUUID().toString().substring(0, 8), new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        c.connect(o);
        return c;
    }
}
