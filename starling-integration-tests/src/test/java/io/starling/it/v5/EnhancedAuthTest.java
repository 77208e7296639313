package io.starling.it.v5;

import static io.starling.it.spec.Wire.QOS1;
import static io.starling.it.spec.Wire.b;
import static io.starling.it.spec.Wire.cat;
import static io.starling.it.spec.Wire.lenPrefixed;
import static io.starling.it.spec.Wire.props;
import static io.starling.it.spec.Wire.str;
import static io.starling.it.spec.Wire.toInts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.datatypes.MqttUtf8String;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig;
import com.hivemq.client.mqtt.mqtt5.auth.Mqtt5EnhancedAuthMechanism;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5Auth;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5AuthBuilder;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5EnhancedAuth;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5EnhancedAuthBuilder;
import com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5Connect;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.disconnect.Mqtt5Disconnect;
import io.starling.broker.auth.AuthStep;
import io.starling.broker.auth.EnhancedAuthenticator;
import io.starling.codec.ReasonCode;
import io.starling.it.BrokerExtension;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import io.starling.testkit.RawClient;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MQTT 5.0 enhanced authentication (4.12, 3.15 AUTH) end to end with SCRAM-SHA-256 (RFC 5802/7677): a SCRAM
 * client written here from the RFCs ({@link ScramClient}) driven over raw bytes, and the HiveMQ client with its
 * enhanced-authentication API; re-authentication on a live connection; redirection through
 * the authentication SPI (CONNACK 0x9C/0x9D with a Server Reference). Statement ids are 5.0 ids.
 *
 * <p>Paho mqttv5 1.2.5 cannot be used: {@code MqttAsyncClient.authenticate} called from {@code authPacketArrived}
 * before the CONNACK fails with "Client is not connected (32104)" (its {@code ClientComms.sendNoWait} sends only
 * CONNECT while connecting), so a CONNECT → AUTH → CONNACK exchange never completes with it.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EnhancedAuthTest {

    private static final String METHOD = "SCRAM-SHA-256";
    private static final int AUTH_METHOD = 0x15;
    private static final int AUTH_DATA = 0x16;
    private static final int SERVER_REFERENCE = 0x1C;

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.scramUsers(Map.of("alice", "secret", "bob", "hunter2")));

    @RegisterExtension
    final Conns conns = new Conns(broker);

    @BeforeAll
    static void starlingOnly() {
        assumeFalse(BrokerExtension.isMosquitto(), "SCRAM-SHA-256 enhanced authentication is Starling's");
    }

    // ------------------------------------------------------------------ raw bytes: CONNECT → AUTH → CONNACK

    // [MQTT-4.12.0-2] the server's AUTH asking for more carries 0x18; [MQTT-4.12.0-5] every AUTH and the
    // successful CONNACK repeat the CONNECT's Authentication Method; the CONNACK carries the server-final-message,
    // whose signature proves the server knows the user's key.
    @Test
    void scramExchangeOverRawBytes_MQTT_4_12_0_2_and_4_12_0_5() {
        ScramClient scram = new ScramClient("alice", "secret");
        Conn c = conns.open();
        c.send(connectWithAuth("ea-raw", scram.clientFirst()));

        V5Packet auth = V5Packet.parse(c.read());
        assertEquals(0xF0, auth.firstByte(), "AUTH, flags 0000 [MQTT-3.15.1-1]: " + auth);
        assertEquals(0x18, auth.reason(), "Continue authentication [MQTT-4.12.0-2]");
        assertEquals(METHOD, auth.props().get(AUTH_METHOD), "AUTH repeats the method [MQTT-4.12.0-5]");
        byte[] clientFinal = scram.clientFinal((byte[]) auth.props().get(AUTH_DATA));
        c.send(authPacket(0x18, clientFinal));

        V5Packet connack = V5Packet.parse(c.read());
        assertEquals(0x20, connack.firstByte(), "CONNACK: " + connack);
        assertEquals(0x00, connack.reason(), "CONNACK 0x00: " + connack);
        assertEquals(METHOD, connack.props().get(AUTH_METHOD), "CONNACK repeats the method [MQTT-4.12.0-5]");
        scram.verifyServerFinal((byte[]) connack.props().get(AUTH_DATA));
        c.expectAlive();
    }

    // [MQTT-4.12.0-4] the server may refuse at any step: a wrong proof gets CONNACK 0x87 and the connection closes
    @Test
    void wrongPasswordIsRefusedWith87_MQTT_4_12_0_4() {
        ScramClient scram = new ScramClient("alice", "not-the-secret");
        Conn c = conns.open();
        c.send(connectWithAuth("ea-wrong", scram.clientFirst()));
        V5Packet auth = V5Packet.parse(c.read());
        assertEquals(0x18, auth.reason(), "the exchange goes on up to the proof: " + auth);
        c.send(authPacket(0x18, scram.clientFinal((byte[]) auth.props().get(AUTH_DATA))));
        byte[] connack = c.expectConnackRefusal(0x87);
        assertNull(V5Packet.parse(connack).props().get(AUTH_DATA), "no server signature for a refused client");
    }

    // An unknown user gets a full-looking exchange (server-first with salt and iterations) and 0x87 at the proof.
    @Test
    void unknownUserIsRefusedAtTheProof_MQTT_4_12_0_4() {
        ScramClient scram = new ScramClient("mallory", "secret");
        Conn c = conns.open();
        c.send(connectWithAuth("ea-unknown", scram.clientFirst()));
        V5Packet auth = V5Packet.parse(c.read());
        assertEquals(0x18, auth.reason(), "unknown users are not told apart before the proof: " + auth);
        c.send(authPacket(0x18, scram.clientFinal((byte[]) auth.props().get(AUTH_DATA))));
        c.expectConnackRefusal(0x87);
    }

    // [MQTT-4.12.0-1] an Authentication Method the server does not support: CONNACK 0x8C, then close; no AUTH.
    @Test
    void unknownMethodIsRefusedWith8C_MQTT_4_12_0_1() {
        Conn c = conns.open();
        c.send(Wire.connect5("ea-method", Wire.CLEAN, 60, props(
                cat(b(AUTH_METHOD), str("GS2-KRB5")),              // Authentication Method
                cat(b(AUTH_DATA), lenPrefixed(toInts(new byte[] {1, 2, 3}))))));  // Authentication Data
        c.expectConnackRefusal(0x8C);
    }

    // [MQTT-4.12.0-5] an AUTH with another method than the CONNECT's during the exchange is a Protocol Error:
    // CONNACK 0x82 (no CONNACK was sent yet), then close.
    @Test
    void authWithAnotherMethodDuringConnectIs82_MQTT_4_12_0_5() {
        ScramClient scram = new ScramClient("alice", "secret");
        Conn c = conns.open();
        c.send(connectWithAuth("ea-other", scram.clientFirst()));
        V5Packet auth = V5Packet.parse(c.read());
        assertEquals(0x18, auth.reason());
        byte[] clientFinal = scram.clientFinal((byte[]) auth.props().get(AUTH_DATA));
        c.send(Wire.packet(0xF0,                                      // AUTH
                b(0x18),                                              // Continue authentication
                props(cat(b(AUTH_METHOD), str("SCRAM-SHA-1")),        // another Authentication Method
                        cat(b(AUTH_DATA), lenPrefixed(toInts(clientFinal))))));
        c.expectConnackRefusal(0x82);
    }

    // ------------------------------------------------------------------ raw bytes: re-authentication (4.12.1)

    // AUTH 0x19 → AUTH 0x18 → AUTH 0x00 on a live connection; the connection keeps working in between (a QoS 1
    // PUBLISH in the middle of the exchange is acknowledged and delivered) and after.
    @Test
    void reAuthenticationOnALiveConnection() {
        Conn sub = conns.subscriber5("ea-reauth-sub", "ea/reauth", 0);
        Conn c = scramConnect("ea-reauth", "alice", "secret");
        c.send(Wire.publish5(QOS1, "ea/reauth", 1, props(), "before"));
        c.expectAck5(0x40, 1);
        sub.expectPublish5(0, "ea/reauth", props(), "before");

        ScramClient scram = new ScramClient("alice", "secret");
        c.send(authPacket(0x19, scram.clientFirst()));                // Re-authenticate
        V5Packet auth = V5Packet.parse(c.read());
        assertEquals(0xF0, auth.firstByte(), "AUTH: " + auth);
        assertEquals(0x18, auth.reason(), "Continue authentication [MQTT-4.12.0-2]: " + auth);
        assertEquals(METHOD, auth.props().get(AUTH_METHOD), "[MQTT-4.12.0-5]");

        c.send(Wire.publish5(QOS1, "ea/reauth", 2, props(), "during"));
        c.expectAck5(0x40, 2);
        sub.expectPublish5(0, "ea/reauth", props(), "during");

        c.send(authPacket(0x18, scram.clientFinal((byte[]) auth.props().get(AUTH_DATA))));
        V5Packet done = V5Packet.parse(c.read());
        assertEquals(0xF0, done.firstByte(), "AUTH: " + done);
        assertEquals(0x00, done.reason(), "AUTH 0x00 Success: " + done);
        assertEquals(METHOD, done.props().get(AUTH_METHOD), "[MQTT-4.12.0-5]");
        scram.verifyServerFinal((byte[]) done.props().get(AUTH_DATA));

        c.send(Wire.publish5(QOS1, "ea/reauth", 3, props(), "after"));
        c.expectAck5(0x40, 3);
        sub.expectPublish5(0, "ea/reauth", props(), "after");
    }

    // [MQTT-4.12.1-2] a failed re-authentication: DISCONNECT with the reason code (0x87), and the connection closes
    @Test
    void reAuthenticationWithWrongPasswordDisconnects87_MQTT_4_12_1_2() {
        Conn c = scramConnect("ea-reauth-bad", "alice", "secret");
        ScramClient scram = new ScramClient("alice", "wrong");
        c.send(authPacket(0x19, scram.clientFirst()));
        V5Packet auth = V5Packet.parse(c.read());
        assertEquals(0x18, auth.reason(), "AUTH 0x18: " + auth);
        c.send(authPacket(0x18, scram.clientFinal((byte[]) auth.props().get(AUTH_DATA))));
        c.expectDisconnect(0x87);
    }

    // Re-authentication renews credentials; it may not change who the client is (docs/architecture.md): 0x87.
    @Test
    void reAuthenticationAsAnotherUserDisconnects87_MQTT_4_12_1_2() {
        Conn c = scramConnect("ea-reauth-bob", "alice", "secret");
        ScramClient scram = new ScramClient("bob", "hunter2");
        c.send(authPacket(0x19, scram.clientFirst()));
        V5Packet auth = V5Packet.parse(c.read());
        assertEquals(0x18, auth.reason(), "AUTH 0x18: " + auth);
        c.send(authPacket(0x18, scram.clientFinal((byte[]) auth.props().get(AUTH_DATA))));
        c.expectDisconnect(0x87);
    }

    // [MQTT-4.12.0-7] / [MQTT-4.12.0-6]: a client that did not use enhanced authentication at CONNECT must not
    // send AUTH; the server treats it as a Protocol Error (DISCONNECT 0x82) [MQTT-4.13.1-1].
    @Test
    void authWithoutEnhancedAuthAtConnectIs82_MQTT_4_13_1_1() {
        Conn c = conns.connect5("ea-plain");
        c.send(authPacket(0x19, new ScramClient("alice", "secret").clientFirst()));
        c.expectDisconnect(0x82);
    }

    // [MQTT-4.12.1-1] re-authentication keeps the CONNECT's method; another one is a Protocol Error (0x82).
    @Test
    void reAuthenticationWithAnotherMethodIs82_MQTT_4_12_1_1() {
        Conn c = scramConnect("ea-reauth-method", "alice", "secret");
        c.send(Wire.packet(0xF0,                                      // AUTH
                b(0x19),                                              // Re-authenticate
                props(cat(b(AUTH_METHOD), str("PLAIN")),              // not the CONNECT's method
                        cat(b(AUTH_DATA), lenPrefixed(toInts("alice".getBytes(StandardCharsets.UTF_8)))))));
        c.expectDisconnect(0x82);
    }

    // A Continue authentication AUTH on a live connection with no exchange in progress is a Protocol Error.
    @Test
    void continueWithoutExchangeInProgressIs82_MQTT_4_13_1_1() {
        Conn c = scramConnect("ea-continue", "alice", "secret");
        c.send(authPacket(0x18, "c=biws,r=x,p=AAAA".getBytes(StandardCharsets.UTF_8)));
        c.expectDisconnect(0x82);
    }

    // [MQTT-3.15.1-1] AUTH fixed-header flags must be 0000; otherwise malformed (DISCONNECT 0x81).
    @Test
    void authWithReservedFlagsIsMalformed_MQTT_3_15_1_1() {
        Conn c = scramConnect("ea-flags", "alice", "secret");
        int[] auth = authPacket(0x19, new ScramClient("alice", "secret").clientFirst());
        auth[0] = 0xF1;                                               // AUTH with flags 0001
        c.send(auth);
        c.expectDisconnect(0x81);
    }

    // ------------------------------------------------------------------ real clients

    // HiveMQ MQTT client 1.3.7 with its Mqtt5EnhancedAuthMechanism: connect, publish, client re-authentication.
    @Test
    void hiveMqClientConnectsAndReAuthenticates() throws Exception {
        HiveScram mechanism = new HiveScram("alice", "secret");
        Mqtt5AsyncClient client = Mqtt5Client.builder()
                .identifier("ea-hivemq")
                .serverHost(broker.host())
                .serverPort(broker.port())
                .enhancedAuth(mechanism)
                .buildAsync();
        try {
            Mqtt5ConnAck connAck = client.connectWith().cleanStart(true).keepAlive(60).send().get(10, TimeUnit.SECONDS);
            assertEquals(Mqtt5ConnAckReasonCode.SUCCESS, connAck.getReasonCode());
            assertEquals(METHOD, connAck.getEnhancedAuth().map(a -> a.getMethod().toString()).orElse(null));
            assertEquals(1, mechanism.verified.poll(10, TimeUnit.SECONDS), "server-final verified after CONNECT");
            assertTrue(mechanism.errors.isEmpty(), mechanism.errors.toString());

            client.reauth().get(10, TimeUnit.SECONDS);
            assertEquals(2, mechanism.verified.poll(10, TimeUnit.SECONDS), "server-final verified after re-auth");
            client.publishWith().topic("ea/hivemq").qos(MqttQos.AT_LEAST_ONCE).payload(new byte[] {1}).send()
                    .get(10, TimeUnit.SECONDS);
            assertTrue(mechanism.errors.isEmpty(), mechanism.errors.toString());
        } finally {
            client.disconnect().exceptionally(t -> null).get(10, TimeUnit.SECONDS);
        }
    }

    // HiveMQ client with a wrong password: the CONNACK 0x87 reaches the mechanism's onAuthRejected.
    @Test
    void hiveMqClientWithWrongPasswordIsRejected() throws Exception {
        HiveScram mechanism = new HiveScram("alice", "nope");
        Mqtt5AsyncClient client = Mqtt5Client.builder()
                .identifier("ea-hivemq-bad")
                .serverHost(broker.host())
                .serverPort(broker.port())
                .enhancedAuth(mechanism)
                .buildAsync();
        CompletableFuture<Mqtt5ConnAck> connect = client.connectWith().cleanStart(true).send();
        try {
            connect.get(10, TimeUnit.SECONDS);
            throw new AssertionError("connected with a wrong password");
        } catch (java.util.concurrent.ExecutionException expected) {
            assertEquals("onAuthRejected NOT_AUTHORIZED", mechanism.errors.poll(5, TimeUnit.SECONDS));
        }
    }

    // ------------------------------------------------------------------ redirection through the SPI

    // 5.0 4.11 / 4.12: an authenticator may send the client elsewhere: CONNACK 0x9C Use another server with a
    // Server Reference, and 0x9D Server moved; the connection closes.
    @Test
    void redirectUseAnotherServer9CAndServerMoved9D() {
        broker.server().broker().enhancedAuth().register(redirecting("TEST-9C", ReasonCode.USE_ANOTHER_SERVER));
        broker.server().broker().enhancedAuth().register(redirecting("TEST-9D", ReasonCode.SERVER_MOVED));
        assertRedirect(broker.port(), "TEST-9C", 0x9C);
        assertRedirect(broker.port(), "TEST-9D", 0x9D);
    }

    private void assertRedirect(int port, String method, int reasonCode) {
        try (RawClient raw = RawClient.connect(broker.host(), port)) {
            raw.send(Wire.connect5("ea-redirect", Wire.CLEAN, 60, props(
                    cat(b(AUTH_METHOD), str(method)),
                    cat(b(AUTH_DATA), lenPrefixed(toInts(new byte[] {0x2A}))))));
            byte[] p = raw.readPacket(RawClient.DEFAULT_TIMEOUT);
            assertNotNull(p, "no CONNACK");
            V5Packet connack = V5Packet.parse(p);
            assertEquals(0x20, connack.firstByte(), "CONNACK: " + connack);
            assertEquals(reasonCode, connack.reason(), "CONNACK reason: " + connack);
            assertEquals("other:1883", connack.props().get(SERVER_REFERENCE), "Server Reference: " + connack);
            assertTrue(raw.awaitClosed(Conn.CLOSE), "the connection closes after the redirect");
        }
    }

    private static EnhancedAuthenticator redirecting(String method, ReasonCode code) {
        return new EnhancedAuthenticator() {
            @Override
            public String method() {
                return method;
            }

            @Override
            public io.starling.broker.auth.AuthExchange start(String clientId, String username) {
                return data -> AuthStep.redirect(code, "other:1883");
            }
        };
    }

    // ------------------------------------------------------------------ helpers

    private static int[] connectWithAuth(String clientId, byte[] data) {
        return Wire.connect5(clientId, Wire.CLEAN, 60, props(
                cat(b(AUTH_METHOD), str(METHOD)),                      // Authentication Method
                cat(b(AUTH_DATA), lenPrefixed(toInts(data)))));        // Authentication Data
    }

    private static int[] authPacket(int reasonCode, byte[] data) {
        return Wire.packet(0xF0,                                      // AUTH, flags 0000
                b(reasonCode),                                        // Authenticate Reason Code
                props(cat(b(AUTH_METHOD), str(METHOD)),               // Authentication Method
                        cat(b(AUTH_DATA), lenPrefixed(toInts(data))))); // Authentication Data
    }

    /** A raw connection authenticated as {@code user} with SCRAM-SHA-256 (CONNACK 0x00 checked). */
    private Conn scramConnect(String clientId, String user, String password) {
        ScramClient scram = new ScramClient(user, password);
        Conn c = conns.open();
        c.send(connectWithAuth(clientId, scram.clientFirst()));
        V5Packet auth = V5Packet.parse(c.read());
        assertEquals(0x18, auth.reason(), "AUTH 0x18: " + auth);
        c.send(authPacket(0x18, scram.clientFinal((byte[]) auth.props().get(AUTH_DATA))));
        V5Packet connack = V5Packet.parse(c.read());
        assertEquals(0x20, connack.firstByte(), "CONNACK: " + connack);
        assertEquals(0x00, connack.reason(), "CONNACK: " + connack);
        scram.verifyServerFinal((byte[]) connack.props().get(AUTH_DATA));
        return c;
    }

    /** The SCRAM client behind HiveMQ's enhanced-auth callbacks; counts verified server signatures. */
    private static final class HiveScram implements Mqtt5EnhancedAuthMechanism {
        final BlockingQueue<Integer> verified = new LinkedBlockingQueue<>();
        final BlockingQueue<String> errors = new LinkedBlockingQueue<>();
        private final String user;
        private final String password;
        private ScramClient scram;
        private int successes;

        HiveScram(String user, String password) {
            this.user = user;
            this.password = password;
        }

        @Override
        public MqttUtf8String getMethod() {
            return MqttUtf8String.of(METHOD);
        }

        @Override
        public int getTimeout() {
            return 10;
        }

        @Override
        public CompletableFuture<Void> onAuth(Mqtt5ClientConfig config, Mqtt5Connect connect, Mqtt5EnhancedAuthBuilder b) {
            scram = new ScramClient(user, password);
            b.data(scram.clientFirst());
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> onReAuth(Mqtt5ClientConfig config, Mqtt5AuthBuilder b) {
            scram = new ScramClient(user, password);
            b.data(scram.clientFirst());
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Boolean> onContinue(Mqtt5ClientConfig config, Mqtt5Auth auth, Mqtt5AuthBuilder b) {
            try {
                b.data(scram.clientFinal(data(auth)));
                return CompletableFuture.completedFuture(true);
            } catch (AssertionError e) {
                errors.add("onContinue " + e.getMessage());
                return CompletableFuture.completedFuture(false);
            }
        }

        @Override
        public CompletableFuture<Boolean> onAuthSuccess(Mqtt5ClientConfig config, Mqtt5ConnAck connAck) {
            return verify(connAck.getEnhancedAuth().map(HiveScram::data).orElse(null));
        }

        @Override
        public CompletableFuture<Boolean> onReAuthSuccess(Mqtt5ClientConfig config, Mqtt5Auth auth) {
            return verify(data(auth));
        }

        private CompletableFuture<Boolean> verify(byte[] serverFinal) {
            try {
                scram.verifyServerFinal(serverFinal);
                verified.add(++successes);
                return CompletableFuture.completedFuture(true);
            } catch (AssertionError e) {
                errors.add("server-final " + e.getMessage());
                return CompletableFuture.completedFuture(false);
            }
        }

        @Override
        public void onAuthRejected(Mqtt5ClientConfig config, Mqtt5ConnAck connAck) {
            errors.add("onAuthRejected " + connAck.getReasonCode());
        }

        @Override
        public void onReAuthRejected(Mqtt5ClientConfig config, Mqtt5Disconnect disconnect) {
            errors.add("onReAuthRejected " + disconnect.getReasonCode());
        }

        @Override
        public void onAuthError(Mqtt5ClientConfig config, Throwable cause) {
            errors.add("onAuthError " + cause);
        }

        @Override
        public void onReAuthError(Mqtt5ClientConfig config, Throwable cause) {
            errors.add("onReAuthError " + cause);
        }

        private static byte[] data(Mqtt5EnhancedAuth auth) {
            ByteBuffer buf = auth.getData().orElse(null);
            if (buf == null) {
                return null;
            }
            byte[] bytes = new byte[buf.remaining()];
            buf.duplicate().get(bytes);
            return bytes;
        }
    }

    /**
     * A 5.0 CONNACK, AUTH or DISCONNECT: first byte, reason code (0 when the packet has none) and properties by id
     * (Integer for byte/two-byte/four-byte/variable integers, String, byte[] for binary data, String[2] for a user
     * property; the last one of a repeated property).
     */
    record V5Packet(int firstByte, int reason, Map<Integer, Object> props) {

        static V5Packet parse(byte[] p) {
            int first = p[0] & 0xFF;
            int i = 1;
            int remaining = 0;
            int mul = 1;
            int digit;
            do {
                digit = p[i++] & 0xFF;
                remaining += (digit & 0x7F) * mul;
                mul *= 128;
            } while ((digit & 0x80) != 0);
            assertEquals(p.length, i + remaining, "Remaining Length of " + RawClient.hex(p));
            if ((first & 0xF0) == 0x20) {
                i++;                                                  // CONNACK acknowledge flags
            }
            Map<Integer, Object> props = new LinkedHashMap<>();
            if (i >= p.length) {
                return new V5Packet(first, 0, props);
            }
            int reason = p[i++] & 0xFF;
            if (i >= p.length) {
                return new V5Packet(first, reason, props);
            }
            int len = 0;
            mul = 1;
            do {
                digit = p[i++] & 0xFF;
                len += (digit & 0x7F) * mul;
                mul *= 128;
            } while ((digit & 0x80) != 0);
            int end = i + len;
            assertEquals(p.length, end, "Property Length of " + RawClient.hex(p));
            while (i < end) {
                int id = p[i++] & 0xFF;
                switch (id) {
                    case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A -> props.put(id, p[i++] & 0xFF);
                    case 0x13, 0x21, 0x22, 0x23 -> {
                        props.put(id, (p[i] & 0xFF) << 8 | (p[i + 1] & 0xFF));
                        i += 2;
                    }
                    case 0x02, 0x11, 0x18, 0x27 -> {
                        props.put(id, (int) ((p[i] & 0xFFL) << 24 | (p[i + 1] & 0xFF) << 16 | (p[i + 2] & 0xFF) << 8
                                | (p[i + 3] & 0xFF)));
                        i += 4;
                    }
                    case 0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F -> {
                        int n = (p[i] & 0xFF) << 8 | (p[i + 1] & 0xFF);
                        props.put(id, new String(p, i + 2, n, StandardCharsets.UTF_8));
                        i += 2 + n;
                    }
                    case 0x09, 0x16 -> {
                        int n = (p[i] & 0xFF) << 8 | (p[i + 1] & 0xFF);
                        props.put(id, Arrays.copyOfRange(p, i + 2, i + 2 + n));
                        i += 2 + n;
                    }
                    case 0x26 -> {
                        int k = (p[i] & 0xFF) << 8 | (p[i + 1] & 0xFF);
                        String key = new String(p, i + 2, k, StandardCharsets.UTF_8);
                        i += 2 + k;
                        int v = (p[i] & 0xFF) << 8 | (p[i + 1] & 0xFF);
                        props.put(id, new String[] {key, new String(p, i + 2, v, StandardCharsets.UTF_8)});
                        i += 2 + v;
                    }
                    default -> throw new AssertionError("unknown property 0x" + Integer.toHexString(id) + " in "
                            + RawClient.hex(p));
                }
            }
            return new V5Packet(first, reason, props);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof V5Packet v && v.firstByte == firstByte && v.reason == reason && v.props.keySet()
                    .equals(props.keySet());
        }

        @Override
        public int hashCode() {
            return firstByte * 31 + reason;
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder("packet 0x").append(Integer.toHexString(firstByte)).append(" reason 0x")
                    .append(Integer.toHexString(reason)).append(" {");
            props.forEach((k, v) -> s.append(" 0x").append(Integer.toHexString(k)).append('=')
                    .append(v instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8)
                            : v instanceof String[] pair ? String.join(":", pair) : String.valueOf(v)));
            return s.append(" }").toString();
        }
    }
}
