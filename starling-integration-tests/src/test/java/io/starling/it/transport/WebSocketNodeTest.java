package io.starling.it.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.config.ListenerConfig.Type;
import io.starling.server.StarlingServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A browser-style client: MQTT.js (npm package {@code mqtt}, installed by bin/test into
 * src/test/node/node_modules) driven by Node, over ws:// and wss://, as MQTT 3.1 (subprotocol mqttv3.1), 3.1.1
 * and 5.0. Skipped only when {@code node} is not installed.
 */
class WebSocketNodeTest {

    static final Path NODE_DIR = Path.of("src/test/node").toAbsolutePath();

    @TempDir
    static Path tmp;

    static TestPki pki;
    static StarlingServer server;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(commandExists("node"), "node is not installed: MQTT.js tests skipped (bin/test installs nodejs)");
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules/mqtt"))) {
            // bin/test installs it; a plain `mvn test` does it here
            Cli.Result r = Cli.run(List.of("npm", "ci", "--prefix", NODE_DIR.toString(), "--no-audit", "--no-fund"));
            assertThat(r.ok()).as("MQTT.js is not installed and `npm ci` in " + NODE_DIR + " failed:\n" + r.output()).isTrue();
        }
        assumeTrue(TestPki.opensslAvailable(), "openssl is not installed (bin/test installs it)");
        pki = TestPki.create(tmp.resolve("pki"));
        server = StarlingServer.start(BrokerConfig.builder()
                .dataDir(tmp.resolve("data"))
                .listeners(List.of(
                        ListenerConfig.builder(Type.WS).port(0).build(),
                        ListenerConfig.builder(Type.WSS).port(0).cert(pki.serverCert).key(pki.serverKey).build()))
                .build());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest(name = "MQTT.js ws:// protocol level {0}")
    @ValueSource(ints = {3, 4, 5})
    void mqttJsOverWebSocket(int version) throws Exception {
        Cli.Result r = node("ws://127.0.0.1:" + server.port(0) + "/mqtt", Integer.toString(version));
        assertThat(r.ok()).as(r.output()).isTrue();
        assertThat(r.output()).contains("ok mqttjs/" + version);
    }

    @ParameterizedTest(name = "MQTT.js wss:// protocol level {0}")
    @ValueSource(ints = {4, 5})
    void mqttJsOverSecureWebSocket(int version) throws Exception {
        Cli.Result r = node("wss://localhost:" + server.port(1) + "/mqtt", Integer.toString(version), pki.ca.toString());
        assertThat(r.ok()).as(r.output()).isTrue();
        assertThat(r.output()).contains("ok mqttjs/" + version);
    }

    private static Cli.Result node(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("node", NODE_DIR.resolve("pubsub.js").toString()));
        cmd.addAll(List.of(args));
        return Cli.run(cmd);
    }

    static boolean commandExists(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }
}
