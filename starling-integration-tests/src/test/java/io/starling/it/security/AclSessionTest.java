package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.config.BrokerConfig;
import io.starling.it.Msg;
import io.starling.server.StarlingServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Messages queued for an offline persistent session are checked against the rights of the client that connects to
 * it, in memory and with sessions stored in RocksDB: a session subscribed to '#' by one user and resumed by another
 * delivers only what the connected client may read, and what it may not read leaves the (stored) queue.
 */
class AclSessionTest {

    @TempDir
    Path tmp;

    private StarlingServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static MqttClient connect(int port, String clientId, String user, String password, boolean clean,
            BlockingQueue<Msg> into) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, clientId, new MemoryPersistence());
        c.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                into.add(new Msg(topic, m.getPayload(), m.getQos(), m.isRetained()));
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setCleanSession(clean);
        o.setUserName(user);
        o.setPassword(password.toCharArray());
        c.connect(o);
        return c;
    }

    private static List<String> until(BlockingQueue<Msg> q, String topic) throws InterruptedException {
        List<String> seen = new java.util.ArrayList<>();
        for (Msg m = q.poll(10, TimeUnit.SECONDS); m != null; m = q.poll(10, TimeUnit.SECONDS)) {
            if (m.topic().equals(topic)) {
                return seen;
            }
            seen.add(m.topic());
        }
        throw new AssertionError("no message on " + topic + "; got " + seen);
    }

    @ParameterizedTest(name = "storage {0}")
    @EnumSource(BrokerConfig.Storage.class)
    void queuedMessagesFollowTheRightsOfTheClientThatResumesTheSession(BrokerConfig.Storage storage) throws Exception {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "a", "bob", "b", "observer", "o");
        Path acl = Sec.write(tmp.resolve("acl"),
                "allow user:alice read q/#",
                "allow user:bob read q/public/#",
                "allow user:observer readwrite #",
                "allow all read marker/#");
        Path data = java.nio.file.Files.createDirectories(tmp.resolve("data"));
        server = Sec.start(tmp, b -> b.passwordFile(passwd).aclFile(acl).storage(storage).dataDir(data));
        int port = server.port();
        BlockingQueue<Msg> got = new LinkedBlockingQueue<>();
        MqttClient alice = connect(port, "shared-device", "alice", "a", false, got);
        alice.subscribe("q/#", 1);
        alice.subscribe("marker/#", 1);
        alice.disconnect();
        alice.close();
        MqttClient observer = connect(port, "observer", "observer", "o", true, new LinkedBlockingQueue<>());
        for (String t : List.of("q/public/1", "q/private/1", "q/public/2", "q/private/2")) {
            observer.publish(t, t.getBytes(StandardCharsets.UTF_8), 1, false);
        }
        // bob resumes the session alice left: its subscription to q/# and its queue of four messages
        MqttClient bob = connect(port, "shared-device", "bob", "b", false, got);
        observer.publish("marker/1", "end".getBytes(StandardCharsets.UTF_8), 1, false);
        assertThat(until(got, "marker/1")).containsExactly("q/public/1", "q/public/2");
        bob.disconnect();
        bob.close();
        // what bob could not read is gone from the queue, not kept for the next client of the session
        MqttClient again = connect(port, "shared-device", "alice", "a", false, got);
        observer.publish("marker/2", "end".getBytes(StandardCharsets.UTF_8), 1, false);
        assertThat(until(got, "marker/2")).isEmpty();
        again.disconnect();
        again.close();
        observer.disconnect();
        observer.close();
        if (storage == BrokerConfig.Storage.ROCKSDB) {
            // nor is it in the stored queue: after a restart alice, who may read q/#, does not get it either
            server.close();
            server = Sec.start(tmp, b -> b.passwordFile(passwd).aclFile(acl).storage(storage).dataDir(data));
            port = server.port();
            MqttClient afterRestart = connect(port, "shared-device", "alice", "a", false, got);
            MqttClient o2 = connect(port, "observer", "observer", "o", true, new LinkedBlockingQueue<>());
            o2.publish("marker/3", "end".getBytes(StandardCharsets.UTF_8), 1, false);
            assertThat(until(got, "marker/3")).isEmpty();
            afterRestart.disconnect();
            afterRestart.close();
            o2.disconnect();
            o2.close();
        }
    }
}
