package io.starling.it.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.auth.PasswordFile;
import io.starling.broker.auth.PasswordHash;
import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.server.StarlingServer;
import java.io.IOException;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The meters of {@code GET /metrics} moving with real clients (Paho 3.1.1 over TCP and WebSocket and 5.0,
 * mosquitto_pub and mosquitto_sub 3.1, 3.1.1 and 5.0) on a broker with a password file, an ACL and the RocksDB store:
 * connections by listener and protocol, refusals by reason, failed logins, ACL denials, messages by QoS, bytes, drops,
 * subscriptions by kind, sessions online and offline, the store's commits and queues, and the sampled
 * publish-to-delivery latency.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetricsTest {

    private static final Duration WAIT = Duration.ofSeconds(15);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> open = new ArrayList<>();

    @TempDir
    Path tmp;

    private StarlingServer server;

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

    private StarlingServer start() throws IOException {
        return start(tmp.resolve("data"));
    }

    private StarlingServer start(Path dataDir) throws IOException {
        Path passwd = tmp.resolve("passwd");
        PasswordFile.empty()
                .with("alice", PasswordHash.create("wonderland".toCharArray(), PasswordHash.MIN_ITERATIONS))
                .write(passwd);
        Path acl = tmp.resolve("acl");
        Files.write(acl, List.of("allow all readwrite m/#", "allow all readwrite free/#"));
        server = StarlingServer.start(BrokerConfig.builder()
                .listeners(List.of(ListenerConfig.tcp("127.0.0.1", 0),
                        ListenerConfig.builder(ListenerConfig.Type.WS).bind("127.0.0.1").port(0).build()))
                .dataDir(dataDir).storage(BrokerConfig.Storage.ROCKSDB)
                .passwordFile(passwd).aclFile(acl).admin(AdminConfig.loopback(0)).build());
        open.add(server);
        return server;
    }

    // ---------------------------------------------------------------- scraping

    private String scrape() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.adminPort() + "/metrics"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /**
     * The sum of the samples of {@code name} whose labels include every {@code label="value"} of {@code labels}
     * (given as {@code label, value, ...}); fails if there is none.
     */
    static double value(String scrape, String name, String... labels) {
        double sum = 0;
        boolean found = false;
        for (String line : scrape.split("\n")) {
            if (!line.startsWith(name + " ") && !line.startsWith(name + "{")) {
                continue;
            }
            String series = line.substring(0, line.lastIndexOf(' '));
            boolean matches = true;
            for (int i = 0; i < labels.length; i += 2) {
                matches &= series.contains(labels[i] + "=\"" + labels[i + 1] + "\"");
            }
            if (matches) {
                found = true;
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
            }
        }
        assertThat(found).as("a sample of %s %s in the scrape", name, List.of(labels)).isTrue();
        return sum;
    }

    private double scraped(String name, String... labels) throws IOException, InterruptedException {
        return value(scrape(), name, labels);
    }

    // ---------------------------------------------------------------- clients

    private MqttClient pahoV3(String id, boolean clean, BlockingQueue<String> received) throws Exception {
        return pahoV3("tcp://127.0.0.1:" + server.port(), id, clean, received);
    }

    private MqttClient pahoV3(String uri, String id, boolean clean, BlockingQueue<String> received) throws Exception {
        MqttClient c = new MqttClient(uri, id, new MemoryPersistence());
        c.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                received.add(topic + " " + message.getQos());
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setCleanSession(clean);
        o.setUserName("alice");
        o.setPassword("wonderland".toCharArray());
        c.connect(o);
        open.add(() -> {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        });
        return c;
    }

    private org.eclipse.paho.mqttv5.client.MqttClient pahoV5(String id, BlockingQueue<String> received)
            throws Exception {
        org.eclipse.paho.mqttv5.client.MqttClient c = new org.eclipse.paho.mqttv5.client.MqttClient(
                "tcp://127.0.0.1:" + server.port(), id, new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        c.setCallback(new org.eclipse.paho.mqttv5.client.MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
            }

            @Override
            public void messageArrived(String topic, org.eclipse.paho.mqttv5.common.MqttMessage message) {
                received.add(topic + " " + message.getQos());
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
            }
        });
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setUserName("alice");
        o.setPassword("wonderland".getBytes(StandardCharsets.UTF_8));
        c.connect(o);
        open.add(() -> {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        });
        return c;
    }

    private static org.eclipse.paho.mqttv5.common.MqttMessage message(String payload, int qos) {
        org.eclipse.paho.mqttv5.common.MqttMessage m =
                new org.eclipse.paho.mqttv5.common.MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
        m.setQos(qos);
        return m;
    }

    /** {@code mosquitto_pub} or {@code mosquitto_sub} at {@code version} with the broker's host and port. */
    private ProcessBuilder mosquitto(String command, String version, String... extra) {
        List<String> args = new ArrayList<>(List.of("/usr/bin/" + command, "-V", version, "-h", "127.0.0.1", "-p",
                Integer.toString(server.port())));
        args.addAll(List.of(extra));
        return new ProcessBuilder(args).redirectErrorStream(true);
    }

    /** Runs {@code mosquitto_pub}; returns its exit code. */
    private int mosquittoPub(String version, String... extra) throws Exception {
        Process p = mosquitto("mosquitto_pub", version, extra).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("mosquitto_pub exits").isTrue();
        p.getInputStream().readAllBytes();
        return p.exitValue();
    }

    // ---------------------------------------------------------------- the test

    @Test
    void theMetersMoveWithRealClients() throws Exception {
        start();
        String before = scrape();
        assertThat(value(before, "starling_connections_connected_total")).isZero();
        assertThat(value(before, "starling_messages_received_total")).isZero();
        assertThat(value(before, "starling_subscriptions")).isZero();
        assertThat(value(before, "starling_auth_blocked_addresses")).isZero();
        assertThat(before).contains("# TYPE starling_delivery_latency_seconds histogram",
                "# TYPE starling_store_commit_seconds histogram", "starling_store_commit_seconds_bucket{le=");

        // a persistent 3.1.1 subscriber with a wildcard filter, a 5.0 member of a shared group
        BlockingQueue<String> v3Got = new LinkedBlockingQueue<>();
        BlockingQueue<String> v5Got = new LinkedBlockingQueue<>();
        MqttClient v3 = pahoV3("metrics-v3", false, v3Got);
        v3.subscribe("m/#", 2);
        org.eclipse.paho.mqttv5.client.MqttClient v5 = pahoV5("metrics-v5", v5Got);
        v5.subscribe(new MqttSubscription[] {new MqttSubscription("$share/g/m/x", 2)}).waitForCompletion(10_000);
        String connected = scrape();
        assertThat(value(connected, "starling_connections_connected_total", "listener", "tcp", "protocol", "3.1.1"))
                .isEqualTo(1);
        assertThat(value(connected, "starling_connections_connected_total", "listener", "tcp", "protocol", "5.0"))
                .isEqualTo(1);
        assertThat(value(connected, "starling_connections_active", "listener", "tcp")).isEqualTo(2);
        assertThat(value(connected, "starling_connections_active", "listener", "ws")).isZero();
        assertThat(value(connected, "starling_sessions_online")).isEqualTo(2);
        assertThat(value(connected, "starling_subscriptions")).isEqualTo(2);
        assertThat(value(connected, "starling_subscriptions_shared")).isEqualTo(1);
        assertThat(value(connected, "starling_subscriptions_wildcard")).isEqualTo(1);
        assertThat(value(connected, "starling_network_received_bytes_total")).isPositive();
        assertThat(value(connected, "starling_network_sent_bytes_total")).isPositive();
        assertThat(value(connected, "starling_store_commits_total")).as("the persistent session was stored")
                .isPositive();
        assertThat(value(connected, "starling_store_written_bytes_total")).isPositive();
        assertThat(value(connected, "starling_store_disk_used_bytes")).isPositive();
        assertThat(value(connected, "starling_store_commit_seconds_count")).isPositive();
        assertThat(value(connected, "starling_store_commit_operations_count")).isPositive();

        // a 3.1.1 client over WebSocket is counted on its own listener type
        MqttClient ws = pahoV3("ws://127.0.0.1:" + server.port(1) + "/mqtt", "metrics-ws", true,
                new LinkedBlockingQueue<>());
        String withWs = scrape();
        assertThat(value(withWs, "starling_connections_connected_total", "listener", "ws", "protocol", "3.1.1"))
                .isEqualTo(1);
        assertThat(value(withWs, "starling_connections_active", "listener", "ws")).isEqualTo(1);
        assertThat(value(withWs, "starling_connections_active", "listener", "tcp")).isEqualTo(2);
        ws.disconnect();
        await().atMost(WAIT).untilAsserted(
                () -> assertThat(scraped("starling_connections_active", "listener", "ws")).isZero());

        // one message of each QoS: both subscribers get each
        for (int qos = 0; qos <= 2; qos++) {
            v5.publish("m/x", message("q" + qos, qos));
        }
        for (int i = 0; i < 3; i++) {
            assertThat(v3Got.poll(10, TimeUnit.SECONDS)).as("3.1.1 delivery %d", i).isNotNull();
            assertThat(v5Got.poll(10, TimeUnit.SECONDS)).as("5.0 delivery %d", i).isNotNull();
        }
        await().atMost(WAIT).untilAsserted(() -> {
            String s = scrape();
            for (int qos = 0; qos <= 2; qos++) {
                String q = Integer.toString(qos);
                assertThat(value(s, "starling_messages_received_total", "qos", q)).as("received at QoS %d", qos)
                        .isEqualTo(1);
                assertThat(value(s, "starling_messages_delivered_total", "qos", q)).as("sent at QoS %d", qos)
                        .isEqualTo(2);
            }
            // the connection's first PUBLISH is timed, to each of its two deliveries
            assertThat(value(s, "starling_delivery_latency_seconds_count")).isEqualTo(2);
            assertThat(value(s, "starling_delivery_latency_seconds_bucket", "le", "+Inf")).isEqualTo(2);
        });

        // a wrong password (mosquitto_pub 3.1.1), a PUBLISH and a SUBSCRIBE the ACL refuses, a PUBLISH nobody takes
        assertThat(mosquittoPub("mqttv311", "-i", "metrics-bad", "-u", "alice", "-P", "nope", "-t", "m/x", "-m", "x"))
                .as("refused").isNotZero();
        v5.publish("forbidden/x", message("no", 0));
        try {
            IMqttToken t = v5.subscribe(new MqttSubscription[] {new MqttSubscription("forbidden/#", 1)});
            t.waitForCompletion(10_000);
            assertThat(t.getReasonCodes()).containsExactly(0x87);
        } catch (MqttException e) {
            assertThat(e.getReasonCode()).isEqualTo(0x87);
        }
        v5.publish("free/nobody", message("lost", 1));
        await().atMost(WAIT).untilAsserted(() -> {
            String s = scrape();
            assertThat(value(s, "starling_connections_refused_total", "reason", "bad_user_name_or_password"))
                    .isEqualTo(1);
            assertThat(value(s, "starling_connections_refused_total", "reason", "not_authorized")).isZero();
            assertThat(value(s, "starling_auth_failures_total")).isEqualTo(1);
            assertThat(value(s, "starling_acl_denied_total", "action", "publish")).isEqualTo(1);
            assertThat(value(s, "starling_acl_denied_total", "action", "subscribe")).isEqualTo(1);
            assertThat(value(s, "starling_messages_dropped_total", "reason", "not_authorized")).isEqualTo(1);
            assertThat(value(s, "starling_messages_dropped_total", "reason", "no_subscribers")).isEqualTo(1);
            assertThat(value(s, "starling_messages_dropped_total", "reason", "queue_full")).isZero();
        });

        // mosquitto_sub on MQTT 3.1 takes one message that mosquitto_pub publishes at QoS 1
        Process sub = mosquitto("mosquitto_sub", "mqttv31", "-i", "metrics-sub", "-u", "alice", "-P", "wonderland",
                "-q", "1", "-t", "m/cli", "-C", "1").start();
        open.add(sub::destroyForcibly);
        await().atMost(WAIT).untilAsserted(() -> assertThat(scraped("starling_subscriptions")).isEqualTo(3));
        assertThat(scraped("starling_connections_active", "protocol", "3.1")).isEqualTo(1);
        assertThat(mosquittoPub("mqttv311", "-i", "metrics-pub", "-u", "alice", "-P", "wonderland", "-q", "1",
                "-t", "m/cli", "-m", "hello")).isZero();
        assertThat(sub.waitFor(20, TimeUnit.SECONDS)).as("mosquitto_sub got its message and left").isTrue();
        assertThat(new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("hello");
        await().atMost(WAIT).untilAsserted(() -> {
            String s = scrape();
            assertThat(value(s, "starling_connections_connected_total", "protocol", "3.1")).isEqualTo(1);
            assertThat(value(s, "starling_connections_connected_total", "listener", "tcp", "protocol", "3.1.1"))
                    .as("Paho and mosquitto_pub").isEqualTo(2);
            assertThat(value(s, "starling_connections_active", "protocol", "3.1")).isZero();
            assertThat(value(s, "starling_messages_received_total", "qos", "1")).as("from 5.0 and mosquitto_pub")
                    .isEqualTo(3);
            assertThat(value(s, "starling_subscriptions")).as("mosquitto_sub's clean session ended").isEqualTo(2);
        });

        // the 5.0 client leaves (its shared subscription with it), the persistent 3.1.1 session stays offline
        v5.disconnect();
        v3.disconnect();
        await().atMost(WAIT).untilAsserted(() -> {
            String s = scrape();
            assertThat(value(s, "starling_connections_active")).isZero();
            assertThat(value(s, "starling_sessions_online")).isZero();
            assertThat(value(s, "starling_sessions_offline")).isEqualTo(1);
            assertThat(value(s, "starling_subscriptions")).isEqualTo(1);
            assertThat(value(s, "starling_subscriptions_shared")).isZero();
            assertThat(value(s, "starling_subscriptions_wildcard")).isEqualTo(1);
            assertThat(value(s, "starling_messages_inflight")).isZero();
            assertThat(value(s, "starling_store_queued_bytes")).isZero();
        });

        // a QoS 1 message for the offline persistent session waits in its stored queue
        assertThat(mosquittoPub("mqttv5", "-i", "metrics-pub5", "-u", "alice", "-P", "wonderland", "-q", "1",
                "-t", "m/offline", "-m", "kept")).isZero();
        await().atMost(WAIT).untilAsserted(() -> {
            String s = scrape();
            assertThat(value(s, "starling_store_queued_bytes")).isPositive();
            assertThat(value(s, "starling_connections_connected_total", "protocol", "5.0")).isEqualTo(2);
        });
    }

    /** The subscription gauges after a takeover, an unsubscribe, a session's end and a restart that recovers them. */
    @Test
    void subscriptionCountsSurviveTakeoverAndRestart() throws Exception {
        start();
        MqttClient first = pahoV3("metrics-keep", false, new LinkedBlockingQueue<>());
        first.subscribe(new String[] {"m/+/x", "$share/g/m/y", "m/plain", "m/gone/#"}, new int[] {1, 1, 1, 1});
        first.unsubscribe("m/gone/#");
        MqttClient clean = pahoV3("metrics-clean", true, new LinkedBlockingQueue<>());
        clean.subscribe("m/#", 1);
        String s1 = scrape();
        assertThat(value(s1, "starling_subscriptions")).isEqualTo(4);
        assertThat(value(s1, "starling_subscriptions_shared")).isEqualTo(1);
        assertThat(value(s1, "starling_subscriptions_wildcard")).isEqualTo(2);

        // the same client id again: the session is taken over, with its subscriptions, counted once
        MqttClient second = pahoV3("metrics-keep", false, new LinkedBlockingQueue<>());
        assertThat(second.isConnected()).isTrue();
        clean.disconnect(); // its session ends with it
        await().atMost(WAIT).untilAsserted(() -> {
            String s = scrape();
            assertThat(value(s, "starling_subscriptions")).isEqualTo(3);
            assertThat(value(s, "starling_subscriptions_shared")).isEqualTo(1);
            assertThat(value(s, "starling_subscriptions_wildcard")).isEqualTo(1);
            assertThat(value(s, "starling_sessions_online")).isEqualTo(1);
            assertThat(value(s, "starling_connections_active")).isEqualTo(1);
        });
        second.disconnect();
        server.close();

        start(tmp.resolve("data")); // the same store: the persistent session and its subscriptions are recovered
        String s2 = scrape();
        assertThat(value(s2, "starling_subscriptions")).isEqualTo(3);
        assertThat(value(s2, "starling_subscriptions_shared")).isEqualTo(1);
        assertThat(value(s2, "starling_subscriptions_wildcard")).isEqualTo(1);
        assertThat(value(s2, "starling_sessions_offline")).isEqualTo(1);
        assertThat(value(s2, "starling_sessions_online")).isZero();
    }
}
