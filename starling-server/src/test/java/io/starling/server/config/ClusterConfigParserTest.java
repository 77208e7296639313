package io.starling.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ClusterConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code cluster} section of the config file: every key, the defaults, and errors that name the key. */
class ClusterConfigParserTest {

    @TempDir
    Path dir;

    private BrokerConfig load(String yaml) throws IOException {
        Path f = dir.resolve("starling.yaml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f).build();
    }

    @Test
    void noSectionIsASingleNode() throws IOException {
        assertThat(load("port: 1883\n").cluster()).isNull();
    }

    @Test
    void everyKey() throws IOException {
        ClusterConfig c = load("""
                cluster:
                  node-name: n2
                  bind: 10.0.0.2
                  membership-port: 5702
                  link-port: 7702
                  members: [10.0.0.1:5701, 10.0.0.2:5702, 10.0.0.3:5703]
                  min-size: 3
                  heartbeat-timeout-seconds: 9
                  secret-file: /etc/starling/cluster.secret
                  tls: {cert: n2.pem, key: n2.key, ca: ca.pem}
                """).cluster();
        assertThat(c.nodeName()).isEqualTo("n2");
        assertThat(c.bind()).isEqualTo("10.0.0.2");
        assertThat(c.membershipPort()).isEqualTo(5702);
        assertThat(c.linkPort()).isEqualTo(7702);
        assertThat(c.members()).containsExactly("10.0.0.1:5701", "10.0.0.2:5702", "10.0.0.3:5703");
        assertThat(c.minSize()).isEqualTo(3);
        assertThat(c.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(9));
        assertThat(c.secretFile()).isEqualTo(Path.of("/etc/starling/cluster.secret"));
        assertThat(c.tlsCert()).isEqualTo(Path.of("n2.pem"));
        assertThat(c.tlsKey()).isEqualTo(Path.of("n2.key"));
        assertThat(c.tlsCa()).isEqualTo(Path.of("ca.pem"));
        assertThat(c.tls()).isTrue();
    }

    @Test
    void defaults() throws IOException {
        ClusterConfig c = load("""
                cluster:
                  node-name: n1
                  members: [a:5701, b:5701, c:5701, d:5701]
                  secret-file: s
                """).cluster();
        assertThat(c.bind()).isEqualTo("127.0.0.1");
        assertThat(c.membershipPort()).isEqualTo(5701);
        assertThat(c.linkPort()).isEqualTo(7701);
        assertThat(c.minSize()).as("a majority of four").isEqualTo(3);
        assertThat(c.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.tls()).isFalse();
    }

    @Test
    void errorsNameTheKey() {
        assertThatThrownBy(() -> load("cluster:\n  node-name: n1\n  members: [a:1]\n  secret-file: s\n  colour: red\n"))
                .hasMessageContaining("'cluster'").hasMessageContaining("'colour'").hasMessageContaining("unknown key");
        assertThatThrownBy(() -> load("cluster:\n  node-name: n1\n  members: [a:1]\n  secret-file: s\n  min-size: 2\n"))
                .hasMessageContaining("min-size");
        assertThatThrownBy(() -> load("cluster:\n  node-name: n1\n  secret-file: s\n"))
                .hasMessageContaining("members");
        assertThatThrownBy(() -> load("cluster:\n  node-name: n1\n  members: [nohost]\n  secret-file: s\n"))
                .hasMessageContaining("host:port");
        assertThatThrownBy(() -> load("cluster:\n  node-name: n1\n  members: [a:99999]\n  secret-file: s\n"))
                .hasMessageContaining("members");
        assertThatThrownBy(() -> load("cluster:\n  node-name: n1\n  members: [a:1]\n"))
                .hasMessageContaining("secret-file");
        assertThatThrownBy(() -> load("cluster:\n  node-name: n1\n  members: [a:1]\n  tls: {cert: c}\n"))
                .hasMessageContaining("tls needs cert, key and ca");
        assertThatThrownBy(() -> load("cluster:\n  node-name: n1\n  members: [a:1]\n  secret-file: s\n"
                + "  heartbeat-timeout-seconds: 0\n")).hasMessageContaining("heartbeat-timeout-seconds");
        assertThatThrownBy(() -> load("cluster:\n  node-name: n1\n  members: [a:1]\n  secret-file: s\n"
                + "  membership-port: 1.5\n")).hasMessageContaining("membership-port");
        assertThatThrownBy(() -> load("cluster: [a, b]\n")).hasMessageContaining("'cluster'")
                .hasMessageContaining("expected a mapping");
    }

    @Test
    void hostileNodeNamesAreRefused() {
        for (String name : new String[] {"\"n1/../x\"", "\"a b\"", "\"\"", "\"" + "n".repeat(65) + "\"", "\"n1\\u0000\""}) {
            assertThatThrownBy(() -> load("cluster:\n  node-name: " + name + "\n  members: [a:1]\n  secret-file: s\n"))
                    .as(name).hasMessageContaining("node-name");
        }
    }
}
