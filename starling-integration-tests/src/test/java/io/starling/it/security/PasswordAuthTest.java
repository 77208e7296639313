package io.starling.it.security;

import static io.starling.it.security.Sec.badCredentials;
import static io.starling.it.security.Sec.connack;
import static io.starling.it.security.Sec.connackCode;
import static io.starling.it.security.Sec.notAuthorized;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import io.starling.broker.auth.PasswordFileAuthenticator;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.config.ListenerConfig.Type;
import io.starling.broker.config.SecurityConfig;
import io.starling.it.spec.Wire;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Authentication with the password file: the CONNACK codes of MQTT 3.1.1 (0x04 bad user name or password, 0x05 not
 * authorized; then close [MQTT-3.2.2-5]) and 5.0 (0x86, 0x87; then close [MQTT-3.2.2-7]), with raw bytes and with Paho v3/v5
 * and HiveMQ; allow-anonymous; packets pipelined behind a CONNECT whose password is being checked; reload of the file
 * (changed and broken); the limit of failed logins per address; verification off the event loop and cached.
 */
class PasswordAuthTest {

    @TempDir
    Path tmp;

    private StarlingServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private int startWithPasswordFile(String... userPasswordPairs) {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), userPasswordPairs);
        server = Sec.start(tmp, b -> b.passwordFile(passwd));
        return server.port();
    }

    private PasswordFileAuthenticator authenticator() {
        return server.passwordFiles().values().iterator().next();
    }

    private static String id() {
        return "c-" + UUID.randomUUID().toString().substring(0, 8);
    }

    // User Name and Password are checked against the password file: the right pair connects; a wrong password, an
    // unknown user or a missing password get "bad user name or password"; no user name while anonymous clients are not
    // allowed gets "not authorized". 3.1.1: return codes 4 and 5 (table 3.1) with Session Present 0 [MQTT-3.2.2-4],
    // then the connection is closed [MQTT-3.2.2-5]. 5.0: a failed authentication check closes the connection
    // [MQTT-3.1.4-2] after CONNACK 0x86 / 0x87 with Session Present 0 [MQTT-3.2.2-6] [MQTT-3.2.2-7].
    @ParameterizedTest(name = "protocol level {0}")
    @ValueSource(ints = {4, 5})
    void rightPasswordConnectsOthersAreRefusedWithTheirCode_MQTT_3_2_2_5(int level) {
        int port = startWithPasswordFile("alice", "wonderland", "bob", "builder");
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            assertThat(connack(c, level, id(), "alice", "wonderland")).isZero();
            c.send(0xC0, 0x00).expectPacket(0xD0, 0x00);  // connected: PINGREQ → PINGRESP
        }
        assertThat(connackCode(port, level, id(), "bob", "builder")).isZero();
        for (String[] bad : new String[][] {{"alice", "builder"}, {"alice", "Wonderland"}, {"mallory", "wonderland"},
                {"alice", ""}}) {
            try (RawClient c = RawClient.connect("127.0.0.1", port)) {
                assertThat(connack(c, level, id(), bad[0], bad[1])).as(bad[0] + "/" + bad[1])
                        .isEqualTo(badCredentials(level));
                assertThat(c.awaitClosed(Duration.ofSeconds(5))).as("closed after the refusal").isTrue();
            }
        }
        if (level == 4) {
            // 3.1.1: a User Name without a Password [MQTT-3.1.2-19 .. 21]
            assertThat(connackCode(port, level, id(), "alice", null)).isEqualTo(badCredentials(level));
        }
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            assertThat(connack(c, level, id(), null, null)).as("no user name").isEqualTo(notAuthorized(level));
            assertThat(c.awaitClosed(Duration.ofSeconds(5))).isTrue();
        }
    }

    @Test
    void pahoV3GetsReturnCodes4And5AndConnectsWithTheRightPassword() throws Exception {
        int port = startWithPasswordFile("alice", "wonderland");
        String uri = "tcp://127.0.0.1:" + port;
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setUserName("alice");
        o.setPassword("wonderland".toCharArray());
        try (MqttClient c = new MqttClient(uri, id(), new MemoryPersistence())) {
            c.connect(o);
            c.subscribe("alice/t", 1);
            c.publish("alice/t", "hi".getBytes(StandardCharsets.UTF_8), 1, false);
            c.disconnect();
        }
        o.setPassword("nope".toCharArray());
        try (MqttClient c = new MqttClient(uri, id(), new MemoryPersistence())) {
            assertThatThrownBy(() -> c.connect(o)).isInstanceOfSatisfying(MqttException.class,
                    e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_FAILED_AUTHENTICATION));
        }
        MqttConnectOptions anonymous = new MqttConnectOptions();
        try (MqttClient c = new MqttClient(uri, id(), new MemoryPersistence())) {
            assertThatThrownBy(() -> c.connect(anonymous)).isInstanceOfSatisfying(MqttException.class,
                    e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_NOT_AUTHORIZED));
        }
    }

    @Test
    void pahoV5AndHiveMqGetReasonCodes86And87() throws Exception {
        int port = startWithPasswordFile("alice", "wonderland");
        String uri = "tcp://127.0.0.1:" + port;
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setUserName("alice");
        o.setPassword("wonderland".getBytes(StandardCharsets.UTF_8));
        org.eclipse.paho.mqttv5.client.MqttClient ok = new org.eclipse.paho.mqttv5.client.MqttClient(uri, id(),
                new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        try {
            ok.connect(o);
            ok.disconnect();
        } finally {
            ok.close(true);
        }
        o.setPassword("nope".getBytes(StandardCharsets.UTF_8));
        org.eclipse.paho.mqttv5.client.MqttClient bad = new org.eclipse.paho.mqttv5.client.MqttClient(uri, id(),
                new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        try {
            assertThatThrownBy(() -> bad.connect(o)).isInstanceOfSatisfying(
                    org.eclipse.paho.mqttv5.common.MqttException.class,
                    e -> assertThat(e.getReasonCode()).isEqualTo(0x86));
        } finally {
            bad.close(true);
        }
        var hive = Mqtt5Client.builder().identifier(id()).serverHost("127.0.0.1").serverPort(port).buildBlocking();
        assertThatThrownBy(() -> hive.connectWith().simpleAuth().username("mallory")
                .password("x".getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send())
                .isInstanceOfSatisfying(Mqtt5ConnAckException.class, e -> assertThat(e.getMqttMessage().getReasonCode())
                        .isEqualTo(Mqtt5ConnAckReasonCode.BAD_USER_NAME_OR_PASSWORD));
        assertThatThrownBy(() -> hive.connectWith().send())
                .isInstanceOfSatisfying(Mqtt5ConnAckException.class, e -> assertThat(e.getMqttMessage().getReasonCode())
                        .isEqualTo(Mqtt5ConnAckReasonCode.NOT_AUTHORIZED));
        assertThat(hive.connectWith().simpleAuth().username("alice").password("wonderland".getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth().send().getReasonCode()).isEqualTo(Mqtt5ConnAckReasonCode.SUCCESS);
        hive.disconnect();
    }

    // allow-anonymous: true on a listener with a password file: clients without a user name connect, clients with
    // one are still checked. A listener with its own password file authenticates while another one without does not.
    @Test
    void allowAnonymousAndPerListenerPasswordFiles() {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "wonderland");
        Path other = Sec.passwordFile(tmp.resolve("other"), "bob", "builder");
        server = Sec.start(tmp, b -> b.passwordFile(passwd).listeners(List.of(
                ListenerConfig.builder(Type.TCP).port(0).build(),
                ListenerConfig.builder(Type.TCP).port(0).allowAnonymous(true).build(),
                ListenerConfig.builder(Type.TCP).port(0).passwordFile(other).build())));
        int strict = server.port(0);
        int anonymous = server.port(1);
        int own = server.port(2);
        assertThat(connackCode(strict, 4, id(), null, null)).isEqualTo(0x05);
        assertThat(connackCode(anonymous, 4, id(), null, null)).isZero();
        assertThat(connackCode(anonymous, 5, id(), null, null)).isZero();
        assertThat(connackCode(anonymous, 4, id(), "alice", "wrong")).isEqualTo(0x04);
        assertThat(connackCode(anonymous, 4, id(), "alice", "wonderland")).isZero();
        assertThat(connackCode(own, 4, id(), "bob", "builder")).isZero();
        assertThat(connackCode(own, 4, id(), "alice", "wonderland")).as("its own file, not the broker's").isEqualTo(0x04);
    }

    // Without a password file nothing changes: a loopback listener accepts everyone.
    @Test
    void withoutAPasswordFileEveryoneConnectsOnLoopback() {
        server = Sec.start(tmp, b -> { });
        assertThat(connackCode(server.port(), 4, id(), null, null)).isZero();
        assertThat(connackCode(server.port(), 5, id(), "anyone", "anything")).isZero();
    }

    // A listener on a non-loopback address starts when it authenticates (no allow-anonymous needed).
    @Test
    void aNonLoopbackListenerWithAPasswordFileStarts() {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "wonderland");
        server = Sec.start(tmp, b -> b.passwordFile(passwd).listeners(List.of(
                ListenerConfig.builder(Type.TCP).bind("0.0.0.0").port(0).build())));
        assertThat(connackCode(server.port(), 4, id(), "alice", "wonderland")).isZero();
        assertThat(connackCode(server.port(), 4, id(), null, null)).isEqualTo(0x05);
    }

    @Test
    void aMissingOrBrokenPasswordFileStopsTheStart() throws Exception {
        assertThatThrownBy(() -> Sec.start(tmp, b -> b.passwordFile(tmp.resolve("missing"))))
                .hasMessageContaining("missing").hasMessageContaining("no such file");
        Path broken = Sec.write(tmp.resolve("broken"), "alice:plaintext");
        assertThatThrownBy(() -> Sec.start(tmp, b -> b.passwordFile(broken)))
                .hasMessageContaining("broken").hasMessageContaining("line 1");
    }

    // Packets a client pipelines behind its CONNECT wait while the password is checked, then are handled in order.
    @ParameterizedTest(name = "protocol level {0}")
    @ValueSource(ints = {4, 5})
    void packetsPipelinedBehindTheConnectWaitForTheCheck(int level) {
        int port = startWithPasswordFile("alice", "wonderland");
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            int[] sub = level == 5 ? Wire.subscribe5(1, Wire.props(), "pipe/t", 1) : Wire.subscribe311(1, "pipe/t", 1);
            int[] pub = level == 5 ? Wire.publish5(Wire.QOS1, "pipe/t", 2, Wire.props(), "m")
                    : Wire.publish311(Wire.QOS1, "pipe/t", 2, "m");
            c.send(Wire.cat(Sec.connect(level, id(), "alice", "wonderland"), sub, pub));
            byte[] connack = c.readPacket(Duration.ofSeconds(10));
            assertThat(connack[0] & 0xFF).isEqualTo(0x20);
            assertThat(connack[3] & 0xFF).isZero();
            assertThat(c.readPacket(Duration.ofSeconds(5))[0] & 0xFF).as("SUBACK").isEqualTo(0x90);
            List<Integer> next = List.of(c.readPacket(Duration.ofSeconds(5))[0] & 0xF0,
                    c.readPacket(Duration.ofSeconds(5))[0] & 0xF0);
            assertThat(next).as("PUBACK and the PUBLISH to the subscription").containsExactlyInAnyOrder(0x40, 0x30);
        }
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            // refused: what follows the CONNECT is not processed (5.0 [MQTT-3.1.4-6]; 3.1.1 closes [MQTT-3.2.2-5])
            c.send(Wire.cat(Sec.connect(4, id(), "alice", "wrong"), Wire.publish311(Wire.RETAIN, "pipe/r", 0, "no")));
            assertThat(c.readPacket(Duration.ofSeconds(10))).containsExactly(0x20, 0x02, 0x00, 0x04);
            assertThat(c.awaitClosed(Duration.ofSeconds(5))).isTrue();
        }
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            assertThat(connack(c, 4, id(), "alice", "wonderland")).isZero();
            c.send(Wire.subscribe311(1, "pipe/r", 0));
            assertThat(c.readPacket(Duration.ofSeconds(5))[0] & 0xFF).isEqualTo(0x90);
            // a retained message would be sent right after the SUBACK, before this one [MQTT-3.3.1-6]
            c.send(Wire.publish311(0, "pipe/r", 0, "marker"));
            assertThat(c.readPacket(Duration.ofSeconds(5))).as("no retained message from the refused client")
                    .isEqualTo(Wire.toBytes(Wire.publish311(0, "pipe/r", 0, "marker")));
        }
    }

    // The file is checked every 2 s: a new user can connect, a deleted one (even with a cached login) cannot.
    @Test
    void changesOfThePasswordFileAreTakenUp() {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "wonderland");
        server = Sec.start(tmp, b -> b.passwordFile(passwd));
        int port = server.port();
        assertThat(connackCode(port, 4, id(), "alice", "wonderland")).isZero(); // cached from now on
        assertThat(connackCode(port, 4, id(), "bob", "builder")).isEqualTo(0x04);
        Sec.passwordFile(passwd, "bob", "builder");
        // (polling with logins would count failures against this address: wait for the reload itself)
        await().atMost(Duration.ofSeconds(15)).until(() -> authenticator().file().version() == 2);
        assertThat(connackCode(port, 4, id(), "bob", "builder")).isZero();
        assertThat(connackCode(port, 4, id(), "alice", "wonderland")).as("deleted").isEqualTo(0x04);
        assertThat(connackCode(port, 5, id(), "alice", "wonderland")).isEqualTo(0x86);
    }

    // A broken file (here: half a line) is logged and ignored: the users of the last good version still connect.
    @Test
    void aBrokenPasswordFileKeepsTheOldUsers() {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "wonderland");
        server = Sec.start(tmp, b -> b.passwordFile(passwd));
        int port = server.port();
        Sec.write(passwd, "alice:$pbkdf2-sha512$1000$AAAA", "bob:$pbkdf2-sha512$");
        await().atMost(Duration.ofSeconds(15)).until(() -> authenticator().file().failures() == 1);
        assertThat(authenticator().file().lastError()).contains("line 1");
        assertThat(connackCode(port, 4, id(), "alice", "wonderland")).isZero();
        assertThat(connackCode(port, 4, id(), "bob", "x")).isEqualTo(0x04);
        Sec.passwordFile(passwd, "bob", "builder");
        await().atMost(Duration.ofSeconds(15)).until(() -> authenticator().file().version() == 2);
        assertThat(connackCode(port, 4, id(), "bob", "builder")).isZero();
    }

    // After auth-failure-limit bad logins from one address within the window, its CONNECTs are refused for
    // auth-block-seconds, even with the right password (0x8A Banned on 5.0, 0x05 on 3.1.1); other addresses are not.
    @Test
    void repeatedFailuresFromOneAddressBlockIt() throws Exception {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "wonderland");
        server = Sec.start(tmp, b -> b.security(SecurityConfig.defaults().withPasswordFile(passwd)
                .withAuthFailureLimit(3, Duration.ofSeconds(60), Duration.ofSeconds(60))));
        int port = server.port();
        for (int i = 0; i < 3; i++) {
            assertThat(connackCode(port, 4, id(), "alice", "guess" + i)).isEqualTo(0x04);
        }
        assertThat(connackCode(port, 4, id(), "alice", "wonderland")).as("blocked").isEqualTo(0x05);
        assertThat(connackCode(port, 5, id(), "alice", "wonderland")).as("blocked").isEqualTo(0x8A);
        long verifications = authenticator().verifications();
        assertThat(connackCode(port, 5, id(), "alice", "guess")).isEqualTo(0x8A);
        assertThat(authenticator().verifications()).as("a blocked address costs no verification").isEqualTo(verifications);
        assertThat(connackFrom("127.0.0.2", port, "alice", "wonderland")).as("another address").isZero();
    }

    /** A 3.1.1 CONNECT from a given local address (on Linux any 127.x.y.z is local); the CONNACK's return code. */
    private static int connackFrom(String localAddress, int port, String user, String password) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(Wire.toBytes(Sec.connect(4, id(), user, password)));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] connack = in.readNBytes(4);
            assertThat(connack[0] & 0xFF).isEqualTo(0x20);
            return connack[3] & 0xFF;
        }
    }

    // PBKDF2 at 210,000 iterations takes a good fraction of a second per check on this machine: the checks run on the
    // verifier thread, so the event loop keeps serving connected clients meanwhile; a client that logged in before is
    // recognised from the cache without a new check.
    @Test
    void slowChecksDoNotBlockTheEventLoopAndSuccessesAreCached() throws Exception {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), 210_000, "alice", "wonderland");
        server = Sec.start(tmp, b -> b.passwordFile(passwd).ioThreads(1));
        int port = server.port();
        try (RawClient alice = RawClient.connect("127.0.0.1", port);
                RawClient w1 = RawClient.connect("127.0.0.1", port);
                RawClient w2 = RawClient.connect("127.0.0.1", port);
                RawClient w3 = RawClient.connect("127.0.0.1", port)) {
            assertThat(connack(alice, 4, id(), "alice", "wonderland")).isZero();
            assertThat(authenticator().verifications()).isEqualTo(1);
            for (RawClient w : List.of(w1, w2, w3)) {
                w.send(Sec.connect(4, id(), "alice", "wrong"));
            }
            // the one event loop answers a connected client while three slow checks are queued behind each other
            alice.send(0xC0, 0x00).expectPacket(0xD0, 0x00);
            assertThat(w3.readPacket(Duration.ofMillis(1))).as("the last check is still running or queued").isNull();
            assertThat(w3.readPacket(Duration.ofSeconds(30))).containsExactly(0x20, 0x02, 0x00, 0x04);
        }
        long before = authenticator().verifications();
        long start = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            assertThat(connackCode(port, 4, id(), "alice", "wonderland")).isZero();
        }
        assertThat(authenticator().verifications()).as("reconnects are answered from the cache").isEqualTo(before);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(10_000);
        assertThat(Files.readString(passwd)).contains("$pbkdf2-sha512$210000$");
    }
}
