package io.starling.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.config.BridgeConfig;
import io.starling.broker.config.BridgeConfig.Direction;
import io.starling.broker.config.BrokerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code bridges} key as the config file gives it: every key, the defaults, and errors that name the key. */
class BridgeConfigParserTest {

    @TempDir
    Path tmp;

    private BrokerConfig load(String yaml) throws IOException {
        Path f = tmp.resolve("c.yaml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f).build();
    }

    @Test
    void everyKey() throws IOException {
        BrokerConfig c = load("""
                bridges:
                  - name: cloud
                    addresses: ["cloud-1.example.com:8883", "[::1]:8884"]
                    tls: {ca: ca.pem, cert: client.pem, key: client.key, verify-hostname: false}
                    username: edge
                    password: secret
                    protocol: 5.0
                    keep-alive-seconds: 30
                    client-id: edge-7
                    clean-start: true
                    session-expiry-seconds: 600
                    connect-timeout-seconds: 5
                    reconnect-delay-min-ms: 200
                    reconnect-delay-max-ms: 10000
                    local-username: bridge-user
                    max-queued-messages: 500
                    max-queued-bytes: 5000000000
                    topics:
                      - {pattern: "telemetry/#", direction: out, qos: 1, local-prefix: "", remote-prefix: "edge-7/"}
                      - {pattern: "cmd/+", direction: in, qos: 2, local-prefix: "cloud/", remote-prefix: "edge-7/"}
                      - {pattern: "", direction: both, local-prefix: "a/b", remote-prefix: "c/d"}
                """);
        assertThat(c.bridges()).hasSize(1);
        BridgeConfig b = c.bridges().get(0);
        assertThat(b.name()).isEqualTo("cloud");
        assertThat(b.localClientId()).isEqualTo("$bridge/cloud");
        assertThat(b.addresses()).containsExactly(new BridgeConfig.Address("cloud-1.example.com", 8883),
                new BridgeConfig.Address("::1", 8884));
        assertThat(b.tls()).isEqualTo(new BridgeConfig.Tls(Path.of("ca.pem"), Path.of("client.pem"),
                Path.of("client.key"), false));
        assertThat(b.username()).isEqualTo("edge");
        assertThat(b.password()).isEqualTo("secret");
        assertThat(b.protocol()).isEqualTo(BridgeConfig.Protocol.MQTT5);
        assertThat(b.keepAliveSeconds()).isEqualTo(30);
        assertThat(b.clientId()).isEqualTo("edge-7");
        assertThat(b.cleanStart()).isTrue();
        assertThat(b.sessionExpirySeconds()).isEqualTo(600);
        assertThat(b.bridgeFlag()).isFalse(); // 3.1.1 only
        assertThat(b.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(b.reconnectMin()).isEqualTo(Duration.ofMillis(200));
        assertThat(b.reconnectMax()).isEqualTo(Duration.ofSeconds(10));
        assertThat(b.localUsername()).isEqualTo("bridge-user");
        assertThat(b.maxQueuedMessages()).isEqualTo(500);
        assertThat(b.maxQueuedBytes()).isEqualTo(5_000_000_000L);
        // the bridge's local session gets them; every other session (and a client id that only looks alike) the broker's
        BrokerConfig.SessionLimits own = c.sessionLimits("$bridge/cloud");
        assertThat(own.maxQueuedMessages()).isEqualTo(500);
        assertThat(own.maxQueuedBytes()).isEqualTo(5_000_000_000L);
        assertThat(own.maxInflightMessages()).isEqualTo(c.sessions().maxInflightMessages());
        assertThat(own.dropPolicy()).isEqualTo(c.sessions().dropPolicy());
        assertThat(c.sessionLimits("cloud")).isSameAs(c.sessions());
        assertThat(c.sessionLimits("$bridge/cloud2")).isSameAs(c.sessions());
        assertThat(b.mappings()).hasSize(3);
        BridgeConfig.Mapping in = b.mappings().get(1);
        assertThat(in.direction()).isEqualTo(Direction.IN);
        assertThat(in.localFilter()).isEqualTo("cloud/cmd/+");
        assertThat(in.remoteFilter()).isEqualTo("edge-7/cmd/+");
        assertThat(b.mappings().get(2).localFilter()).isEqualTo("a/b");
        assertThat(b.mappings().get(2).qos()).isZero();
    }

    @Test
    void defaults() throws IOException {
        BridgeConfig b = load("""
                bridges:
                  - name: b1
                    addresses: [127.0.0.1:1883]
                    topics: [{pattern: "#"}]
                """).bridges().get(0);
        assertThat(b.protocol()).isEqualTo(BridgeConfig.Protocol.MQTT311);
        assertThat(b.bridgeFlag()).isTrue();
        assertThat(b.clientId()).isEqualTo("starling-bridge-b1");
        assertThat(b.cleanStart()).isFalse();
        assertThat(b.sessionExpirySeconds()).isEqualTo(3600);
        assertThat(b.keepAliveSeconds()).isEqualTo(60);
        assertThat(b.tls()).isNull();
        assertThat(b.mappings().get(0).direction()).isEqualTo(Direction.OUT);
        assertThat(b.maxQueuedMessages()).isNull();
        assertThat(b.maxQueuedBytes()).isNull();
        assertThat(load("""
                max-queued-messages: 77
                bridges:
                  - name: b1
                    addresses: [127.0.0.1:1883]
                    topics: [{pattern: "#"}]
                """).sessionLimits("$bridge/b1").maxQueuedMessages()).isEqualTo(77); // the broker's
        // one key alone: the other is the broker's
        BrokerConfig c = load("""
                max-queued-bytes: 12345
                bridges:
                  - name: b1
                    addresses: [127.0.0.1:1883]
                    topics: [{pattern: "#"}]
                    max-queued-messages: 3
                """);
        assertThat(c.sessionLimits("$bridge/b1").maxQueuedMessages()).isEqualTo(3);
        assertThat(c.sessionLimits("$bridge/b1").maxQueuedBytes()).isEqualTo(12_345);
        assertThat(load("storage: memory").bridges()).isEmpty();
    }

    @Test
    void badValuesNameTheKey() {
        String ok = "    addresses: [h:1]\n    topics: [{pattern: a}]\n";
        for (List<String> c : List.of(
                List.of("bridges: {name: x}", "expected a list of bridges"),
                List.of("bridges:\n  - name: x\n" + ok + "    colour: red\n", "key 'colour': unknown key"),
                List.of("bridges:\n  - name: 'a/b'\n" + ok, "key 'name'"),
                List.of("bridges:\n  - name: x\n    topics: [{pattern: a}]\n", "'addresses' is required"),
                List.of("bridges:\n  - name: x\n    addresses: [h:1]\n", "'topics' is required"),
                List.of("bridges:\n  - name: x\n    addresses: [nohost]\n    topics: [{pattern: a}]\n",
                        "key 'addresses': 'nohost' is not host:port"),
                List.of("bridges:\n  - name: x\n    addresses: [h:70000]\n    topics: [{pattern: a}]\n",
                        "port out of range"),
                List.of("bridges:\n  - name: x\n" + ok + "    protocol: 4\n", "key 'protocol'"),
                List.of("bridges:\n  - name: x\n    addresses: [h:1]\n    topics: [{pattern: a, direction: sideways}]\n",
                        "topic 1: key 'direction': 'sideways' is not one of out, in, both"),
                List.of("bridges:\n  - name: x\n    addresses: [h:1]\n    topics: [{pattern: a, qos: 3}]\n",
                        "topic 1: key 'qos'"),
                List.of("bridges:\n  - name: x\n    addresses: [h:1]\n    topics: [{pattern: 'a/#/b'}]\n",
                        "not a valid topic filter"),
                List.of("bridges:\n  - name: x\n    addresses: [h:1]\n    topics: [{pattern: a, local-prefix: '+/'}]\n",
                        "key 'local-prefix': a prefix has no wildcards"),
                List.of("bridges:\n  - name: x\n    addresses: [h:1]\n    topics: [{pattern: ''}]\n",
                        "an empty pattern needs local-prefix and remote-prefix"),
                List.of("bridges:\n  - name: x\n" + ok + "  - name: x\n" + ok, "name 'x' is used twice"),
                List.of("bridges:\n  - name: x\n" + ok + "    tls: {cert: c.pem}\n", "cert and key go together"),
                List.of("bridges:\n  - name: x\n" + ok + "    reconnect-delay-min-ms: 500\n    reconnect-delay-max-ms: 100\n",
                        "reconnect-delay-max-ms must not be below"),
                List.of("bridges:\n  - name: x\n" + ok + "    max-queued-messages: -1\n",
                        "key 'max-queued-messages': -1 is not between 0 and 2147483647"),
                List.of("bridges:\n  - name: x\n" + ok + "    max-queued-messages: 2147483648\n",
                        "key 'max-queued-messages'"),
                List.of("bridges:\n  - name: x\n" + ok + "    max-queued-messages: lots\n",
                        "key 'max-queued-messages': expected a whole number"),
                List.of("bridges:\n  - name: x\n" + ok + "    max-queued-bytes: -5\n", "key 'max-queued-bytes'"),
                List.of("bridges:\n  - name: x\n" + ok + "    max-queued-bytes: 1.5\n",
                        "key 'max-queued-bytes': expected a whole number"),
                List.of("bridges:\n  - name: x\n" + ok + "    max-queued-bytes: 99999999999999999999\n",
                        "key 'max-queued-bytes'"))) {
            assertThatThrownBy(() -> load(c.get(0)))
                    .as(c.get(0))
                    .isInstanceOf(ConfigLoader.ConfigException.class)
                    .hasMessageContaining("key 'bridges'")
                    .hasMessageContaining(c.get(1));
        }
    }
}
