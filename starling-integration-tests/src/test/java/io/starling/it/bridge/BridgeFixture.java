package io.starling.it.bridge;

import static org.awaitility.Awaitility.await;

import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import io.starling.server.config.ConfigLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.paho.client.mqttv3.MqttException;

/**
 * What the bridge tests share: Starling brokers started from YAML config files (so that the {@code bridges} section is
 * read as an operator writes it), Mosquitto brokers, clients, and closing all of them after each test.
 */
final class BridgeFixture implements AutoCloseable {

    private final Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();
    private int configs;

    BridgeFixture(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    /**
     * Starts Starling on 127.0.0.1, an ephemeral port, with the YAML (which sets everything else, bridges included);
     * the data directory defaults to a new one.
     */
    StarlingServer starling(String yaml) {
        return starling(yaml, dir.resolve("data-" + configs), false);
    }

    /** As {@link #starling(String)}, with the admin listener on an ephemeral loopback port when {@code admin}. */
    StarlingServer starling(String yaml, Path dataDir, boolean admin) {
        try {
            Path file = dir.resolve("starling-" + (configs++) + ".yaml");
            Files.writeString(file, yaml);
            BrokerConfig.Builder b = ConfigLoader.load(file).bindAddress("127.0.0.1").port(0).dataDir(dataDir);
            if (admin) {
                b.admin(AdminConfig.loopback(0));
            }
            StarlingServer s = StarlingServer.start(b.build());
            open.add(s);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    MosquittoBroker mosquitto(List<String> extra) {
        MosquittoBroker m = MosquittoBroker.start(dir.resolve("mosquitto-" + (configs++)), extra);
        open.add(m);
        return m;
    }

    <T extends AutoCloseable> T track(T c) {
        open.add(c);
        return c;
    }

    Peer peer(String uri, String clientId) throws MqttException {
        return track(Peer.connect(uri, clientId));
    }

    Peer peer(StarlingServer s, String clientId) throws MqttException {
        return peer(uri(s), clientId);
    }

    static String uri(StarlingServer s) {
        return "tcp://127.0.0.1:" + s.port();
    }

    static void awaitConnected(StarlingServer s, String bridge, boolean connected) {
        await().atMost(Duration.ofSeconds(30)).until(() -> s.bridges().connected(bridge) == connected);
    }

    /** {@code GET /metrics} of the admin listener. */
    static String metrics(StarlingServer s) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.adminPort()
                + "/metrics")).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError("GET /metrics: " + r.statusCode());
        }
        return r.body();
    }

    @Override
    public void close() {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                // best effort
            }
        }
        open.clear();
    }
}
