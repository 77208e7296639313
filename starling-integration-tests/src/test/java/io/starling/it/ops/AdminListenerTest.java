package io.starling.it.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import io.starling.server.config.ConfigLoader;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin listener over real sockets: Prometheus metrics that move with real MQTT clients, the health checks, the
 * overview, the 404 and 405 answers, and the refusal of a non-loopback bind.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdminListenerTest {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> open = new ArrayList<>();

    @TempDir
    Path tmp;

    @AfterEach
    void closeAll() {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                // best effort
            }
        }
    }

    private StarlingServer start(BrokerConfig.Builder b) {
        StarlingServer s = StarlingServer.start(b.bindAddress("127.0.0.1").port(0).dataDir(tmp.resolve("data"))
                .storage(BrokerConfig.Storage.MEMORY).admin(AdminConfig.loopback(0)).build());
        open.add(s);
        return s;
    }

    private HttpResponse<String> get(StarlingServer s, String path) throws IOException, InterruptedException {
        return send(s, HttpRequest.newBuilder(uri(s, path)).GET());
    }

    private HttpResponse<String> send(StarlingServer s, HttpRequest.Builder r) throws IOException, InterruptedException {
        return http.send(r.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(StarlingServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.adminPort() + path);
    }

    /** The value of the sample {@code name} in a Prometheus text scrape: the sum over its labels, if it has any. */
    private static double sample(String scrape, String name) {
        return MetricsTest.value(scrape, name);
    }

    private double scrape(StarlingServer s, String name) throws IOException, InterruptedException {
        HttpResponse<String> r = get(s, "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        return sample(r.body(), name);
    }

    private MqttClient paho(StarlingServer s, String id) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + s.port(), id, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        c.connect(o);
        open.add(() -> {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        });
        return c;
    }

    @Test
    void metricsMoveWithRealClients() throws Exception {
        StarlingServer s = start(BrokerConfig.builder());
        assertThat(s.adminPort()).isPositive();
        HttpResponse<String> first = get(s, "/metrics");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("content-type")).hasValueSatisfying(
                v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
        assertThat(first.body()).contains("# HELP starling_messages_received_total", "# TYPE starling_connections_open gauge",
                "jvm_memory_used_bytes{", "jvm_gc_", "jvm_threads_live_threads", "jvm_classes_loaded_classes",
                "system_cpu_count", "process_uptime_seconds", "starling_netty_direct_memory_used_bytes");
        assertThat(sample(first.body(), "starling_connections_open")).isZero();
        assertThat(sample(first.body(), "starling_messages_received_total")).isZero();

        MqttClient a = paho(s, "admin-it-a");
        MqttClient b = paho(s, "admin-it-b");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(scrape(s, "starling_connections_open")).isEqualTo(2);
            assertThat(scrape(s, "starling_sessions")).isEqualTo(2);
        });
        for (int i = 0; i < 3; i++) {
            a.publish("admin/it", ("m" + i).getBytes(StandardCharsets.UTF_8), 1, false);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(scrape(s, "starling_messages_received_total")).isEqualTo(3));
        assertThat(scrape(s, "starling_connections_accepted_total")).isEqualTo(2);

        b.disconnect();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(scrape(s, "starling_connections_open")).isEqualTo(1));
    }

    /** Every {@code starling_} metric of the table in docs/operations.md is in the scrape, with a HELP line. */
    @Test
    void theDocumentedMetricsAreExposed() throws Exception {
        StarlingServer s = start(BrokerConfig.builder());
        String scrape = get(s, "/metrics").body();
        Pattern row = Pattern.compile("^\\| `(starling_[a-z_]+)[`{].*");
        List<String> documented = new ArrayList<>();
        for (String line : Files.readAllLines(repositoryRoot().resolve("docs/operations.md"))) {
            Matcher m = row.matcher(line);
            // a bridge's meters exist only with a bridge configured: BridgeToStarlingTest checks them;
            // a single node has no cluster meters
            if (m.matches() && !m.group(1).startsWith("starling_bridge_") && !line.contains("(cluster only")) {
                documented.add(m.group(1));
            }
        }
        assertThat(documented).hasSizeGreaterThan(15);
        for (String name : documented) {
            // a histogram's samples are its buckets, count and sum
            assertThat(scrape).as(name).containsPattern("(?m)^" + name + "(_bucket|_count|_sum)?[ {]");
            assertThat(scrape).as(name).containsPattern("(?m)^# HELP " + name + " \\S");
        }
        List<String> exposed = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^# TYPE (starling_[a-z_]+) ").matcher(scrape);
        while (m.find()) {
            exposed.add(m.group(1)); // counters are named with _total here too
        }
        assertThat(documented).as("every starling_ metric is documented").containsAll(exposed);
    }

    private static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("docs"))) {
                return p;
            }
        }
        throw new IllegalStateException("no docs directory above " + Path.of("").toAbsolutePath());
    }

    @Test
    void aRefusedConnectionMovesTheRefusedCounter() throws Exception {
        StarlingServer s = start(BrokerConfig.builder().maxConnections(1));
        paho(s, "admin-it-only");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(scrape(s, "starling_connections_open")).isEqualTo(1));
        assertThat(scrape(s, "starling_connections_refused_total")).isZero();
        try (Socket extra = new Socket("127.0.0.1", s.port())) {
            extra.setSoTimeout(10_000);
            InputStream in = extra.getInputStream();
            assertThat(in.read()).as("closed at accept").isEqualTo(-1);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(scrape(s, "starling_connections_refused_total")).isEqualTo(1));
    }

    @Test
    void healthAndOverview() throws Exception {
        StarlingServer s = start(BrokerConfig.builder());
        HttpResponse<String> live = get(s, "/health/live");
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(live.body()).isEqualTo("{\"status\":\"UP\"}");
        HttpResponse<String> ready = get(s, "/health/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("{\"status\":\"UP\"}");
        assertThat(ready.headers().firstValue("content-type")).hasValue("application/json");

        HttpResponse<String> overview = get(s, "/api/v1/overview");
        assertThat(overview.statusCode()).isEqualTo(200);
        assertThat(overview.body()).contains("\"status\":\"UP\"", "\"uptimeSeconds\":",
                "\"listeners\":[{\"type\":\"tcp\",\"bind\":\"127.0.0.1\",\"port\":" + s.port() + "}]",
                "\"connectionsOpen\":0", "\"sessions\":0", "\"retainedMessages\":0");
    }

    @Test
    void unknownPathsAre404AndOtherMethods405() throws Exception {
        StarlingServer s = start(BrokerConfig.builder());
        HttpResponse<String> missing = get(s, "/nothing/here");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).startsWith("{\"error\":\"no such path: /nothing/here");
        HttpResponse<String> post = send(s, HttpRequest.newBuilder(uri(s, "/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")));
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET");
        assertThat(post.body()).contains("\"error\":");
        HttpResponse<String> delete = send(s, HttpRequest.newBuilder(uri(s, "/health/ready")).DELETE());
        assertThat(delete.statusCode()).isEqualTo(405);
    }

    @Test
    void theAdminSectionOfTheConfigFile() throws Exception {
        Path file = tmp.resolve("starling.yaml");
        Files.writeString(file, "port: 0\nstorage: memory\nadmin:\n  bind: 127.0.0.1\n  port: 0\n");
        BrokerConfig.Builder b = ConfigLoader.load(file);
        assertThat(b.adminSet()).isTrue();
        assertThat(b.admin()).isEqualTo(AdminConfig.loopback(0));
        StarlingServer s = StarlingServer.start(b.dataDir(tmp.resolve("data")).build());
        open.add(s);
        assertThat(get(s, "/health/live").statusCode()).isEqualTo(200);

        Files.writeString(file, "admin:\n  enabled: false\n");
        assertThat(ConfigLoader.load(file).admin().enabled()).isFalse();
        Files.writeString(file, "port: 1884\n");
        assertThat(ConfigLoader.load(file).adminSet()).as("no section: the command's default applies").isFalse();
        Files.writeString(file, "admin:\n  colour: red\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).isInstanceOf(ConfigLoader.ConfigException.class)
                .hasMessageContaining("key 'admin'").hasMessageContaining("colour");
        Files.writeString(file, "admin:\n  port: 70000\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).isInstanceOf(ConfigLoader.ConfigException.class)
                .hasMessageContaining("port must be 0..65535");

        Files.writeString(file, "admin:\n  bind: 0.0.0.0\n  tls:\n    cert-file: /etc/s/admin.crt\n"
                + "    key-file: /etc/s/admin.key\n    key-password: pw\n  users: [ops, backup]\n"
                + "  token-file: /etc/s/tokens\n");
        AdminConfig a = ConfigLoader.load(file).admin();
        assertThat(a.bind()).isEqualTo("0.0.0.0");
        assertThat(a.tls()).isEqualTo(new AdminConfig.Tls(Path.of("/etc/s/admin.crt"), Path.of("/etc/s/admin.key"),
                "pw"));
        assertThat(a.tls().toString()).doesNotContain("pw,").contains("keyPassword=***");
        assertThat(a.users()).containsExactly("ops", "backup");
        assertThat(a.tokenFile()).isEqualTo(Path.of("/etc/s/tokens"));
        assertThat(a.requiresCredentials()).isTrue();
        Files.writeString(file, "admin:\n  tls:\n    cert-file: a.crt\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).isInstanceOf(ConfigLoader.ConfigException.class)
                .hasMessageContaining("key 'tls'").hasMessageContaining("cert-file and key-file");
        Files.writeString(file, "admin:\n  tls:\n    cert: a.crt\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).isInstanceOf(ConfigLoader.ConfigException.class)
                .hasMessageContaining("unknown key 'cert'");
        Files.writeString(file, "admin:\n  users: ops\n");
        assertThatThrownBy(() -> ConfigLoader.load(file)).isInstanceOf(ConfigLoader.ConfigException.class)
                .hasMessageContaining("key 'users'");
    }

    /** A request body over 1 MiB is answered 413; one just under it is read. */
    @Test
    void aBodyOverOneMebibyteIs413() throws Exception {
        StarlingServer s = start(BrokerConfig.builder());
        String big = "{\"topic\":\"big\",\"payload\":\"" + "x".repeat(1024 * 1024) + "\"}";
        HttpResponse<String> res = send(s, HttpRequest.newBuilder(uri(s, "/api/v1/publish"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(big)));
        assertThat(res.statusCode()).isEqualTo(413);
        assertThat(res.body()).startsWith("{\"error\":\"request body larger than 1048576 bytes\",\"field\":\"body\"}");
        assertThat(send(s, HttpRequest.newBuilder(uri(s, "/health/live"))).statusCode())
                .as("the listener goes on serving").isEqualTo(200);
        String fits = "{\"topic\":\"big\",\"payload\":\"" + "x".repeat(1000 * 1000) + "\"}";
        res = send(s, HttpRequest.newBuilder(uri(s, "/api/v1/publish"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(fits)));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        assertThat(res.body()).contains("\"payloadBytes\":1000000");
    }

    /** The admin listener starts before the store opens; a store that cannot be opened takes it down again. */
    @Test
    void aStoreThatCannotBeOpenedReleasesTheAdminPort() throws Exception {
        BrokerConfig.Builder rocks = BrokerConfig.builder().bindAddress("127.0.0.1").port(0)
                .dataDir(tmp.resolve("rocks")).storage(BrokerConfig.Storage.ROCKSDB);
        StarlingServer first = StarlingServer.start(rocks.build());
        open.add(first);
        int adminPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            adminPort = probe.getLocalPort();
        }
        BrokerConfig second = rocks.admin(AdminConfig.loopback(adminPort)).build();
        assertThatThrownBy(() -> open.add(StarlingServer.start(second))).hasMessageContaining("rocks");
        try (ServerSocket again = new ServerSocket(adminPort, 1, InetAddress.getLoopbackAddress())) {
            assertThat(again.getLocalPort()).as("the admin port is free again").isEqualTo(adminPort);
        }
    }

    @Test
    void theAdminListenerIsOffUnlessConfigured() {
        StarlingServer s = StarlingServer.start(BrokerConfig.builder().bindAddress("127.0.0.1").port(0)
                .storage(BrokerConfig.Storage.MEMORY).build());
        open.add(s);
        assertThat(s.adminPort()).isEqualTo(-1);
    }

    @Test
    void aNonLoopbackAdminBindRefusesToStart() {
        BrokerConfig c = BrokerConfig.builder().bindAddress("127.0.0.1").port(0).storage(BrokerConfig.Storage.MEMORY)
                .admin(new AdminConfig(true, "0.0.0.0", 0)).build();
        assertThatThrownBy(() -> open.add(StarlingServer.start(c)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("beyond loopback needs TLS", "missing: admin: tls",
                        "admin: users or admin: token-file");
    }
}
