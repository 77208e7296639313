package io.starling.it.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.it.Packets;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * max-connections (broker-wide and per listener) and max-connect-rate-per-address: connections beyond them are
 * closed at accept, before a byte is read, so they get no CONNACK; floods of sockets from one address are refused
 * while well-behaved clients connected before (and, for the rate, clients from another address) keep working.
 * Each test fails without its limit: the flood sockets would all get a CONNACK.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectionLimitsTest {

    private static final int FLOOD = 30;

    @TempDir
    Path dataDir;

    private StarlingServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception e) {
                // best effort
            }
        }
        if (server != null) {
            server.close();
        }
    }

    private StarlingServer start(UnaryOperator<BrokerConfig.Builder> config) {
        server = StarlingServer.start(config.apply(BrokerConfig.builder().port(0).dataDir(dataDir)).build());
        return server;
    }

    /** A Paho 3.1.1 client on {@code port} that subscribes to {@code topic} and collects what arrives. */
    private MqttClient paho(int port, String id, BlockingQueue<String> received, String topic) throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, id, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(10);
        c.connect(o);
        open.add(() -> {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        });
        if (received != null) {
            c.subscribe(topic, 1, (t, m) -> received.add(new String(m.getPayload(), StandardCharsets.UTF_8)));
        }
        return c;
    }

    private RawClient track(RawClient c) {
        open.add(c);
        return c;
    }

    /**
     * Sends a 3.1.1 CONNECT on a fresh socket: true when a CONNACK comes back, false when the broker closed the
     * socket without sending anything.
     */
    private static boolean admitted(RawClient c, String clientId) {
        try {
            c.send(Packets.connect(4, clientId, Packets.CLEAN, 0));
            byte[] p = c.readPacket(Duration.ofSeconds(10));
            assertThat(p).as("a CONNACK or a closed socket, nothing else").isNotNull();
            assertThat(p[0] & 0xFF).isEqualTo(0x20);
            return true;
        } catch (UncheckedIOException e) {
            return false; // closed (or reset) without a byte: refused at accept
        }
    }

    /** Opens {@code n} sockets as fast as possible, then tries CONNECT on each; returns how many were admitted. */
    private int flood(int n, String from, int port) {
        List<RawClient> sockets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            sockets.add(track(from == null ? RawClient.connect("127.0.0.1", port)
                    : RawClient.connectFrom(from, "127.0.0.1", port)));
        }
        int ok = 0;
        for (int i = 0; i < n; i++) {
            // distinct client ids: a repeated one would take over (and close) an earlier flood connection
            if (admitted(sockets.get(i), "flood-" + port + "-" + (from == null ? "" : from) + "-" + i)) {
                ok++;
            }
        }
        return ok;
    }

    private static void roundTrip(MqttClient publisher, BlockingQueue<String> received, String topic, String text)
            throws Exception {
        publisher.publish(topic, text.getBytes(StandardCharsets.UTF_8), 1, false);
        assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo(text);
    }

    @Test
    void maxConnectionsRefusesTheExcessAtAcceptWhileConnectedClientsCarryOn() throws Exception {
        start(b -> b.maxConnections(4));
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        MqttClient sub = paho(server.port(), "mc-sub", got, "mc/#");
        MqttClient pub = paho(server.port(), "mc-pub", null, null);

        int admitted = flood(FLOOD, null, server.port());

        // 2 well-behaved + 2 of the flood = max-connections 4; the other 28 were closed without a CONNACK
        assertThat(admitted).isEqualTo(2);
        assertThat(server.connectionGate().refusedConnections()).isEqualTo(FLOOD - 2);
        roundTrip(pub, got, "mc/1", "during the flood");
        // a real 3.1.1 client at the limit gets no CONNACK: Paho reports the connection lost
        assertThatThrownBy(() -> paho(server.port(), "mc-late", null, null)).isInstanceOf(MqttException.class);
        // and a 5.0 client the same
        org.eclipse.paho.mqttv5.client.MqttClient v5 = new org.eclipse.paho.mqttv5.client.MqttClient(
                "tcp://127.0.0.1:" + server.port(), "mc-late5", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        open.add(v5::close);
        assertThatThrownBy(v5::connect).isInstanceOf(org.eclipse.paho.mqttv5.common.MqttException.class);

        // closing connections frees their places
        for (AutoCloseable c : new ArrayList<>(open)) {
            if (c instanceof RawClient r) {
                r.close();
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionGate().openConnections() == 2);
        MqttClient late = paho(server.port(), "mc-after", null, null);
        assertThat(late.isConnected()).isTrue();
        roundTrip(late, got, "mc/2", "after the flood");
    }

    @Test
    void listenerMaxConnectionsLimitsOnlyItsListener() throws Exception {
        start(b -> b.listeners(List.of(
                ListenerConfig.builder(ListenerConfig.Type.TCP).port(0).maxConnections(3).build(),
                ListenerConfig.builder(ListenerConfig.Type.TCP).port(0).build())));
        int limited = server.port(0);
        int other = server.port(1);
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        MqttClient sub = paho(limited, "lm-sub", got, "lm/#");
        assertThat(sub.isConnected()).isTrue();

        assertThat(flood(FLOOD, null, limited)).isEqualTo(2);

        // the other listener has no limit of its own
        assertThat(flood(10, null, other)).isEqualTo(10);
        MqttClient pub = paho(other, "lm-pub", null, null);
        roundTrip(pub, got, "lm/1", "across listeners");
        assertThatThrownBy(() -> paho(limited, "lm-late", null, null)).isInstanceOf(MqttException.class);
    }

    @Test
    void connectRatePerAddressRefusesAFloodFromOneAddressOnly() throws Exception {
        // a bucket of 3 that refills one connection every 1000 s: within this test, exactly 3 per address
        start(b -> b.maxConnectRatePerAddress(0.001).connectBurstPerAddress(3));
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        MqttClient sub = paho(server.port(), "cr-sub", got, "cr/#");   // 127.0.0.1: 1 of 3
        MqttClient pub = paho(server.port(), "cr-pub", null, null);    // 127.0.0.1: 2 of 3

        // 30 sockets from 127.0.0.2 in a burst: its own bucket admits 3
        assertThat(flood(FLOOD, "127.0.0.2", server.port())).isEqualTo(3);
        assertThat(server.connectionGate().refusedConnections()).isEqualTo(FLOOD - 3);

        // the clients of 127.0.0.1 were never affected, and it still has one connection left
        roundTrip(pub, got, "cr/1", "during the flood");
        MqttClient third = paho(server.port(), "cr-third", null, null); // 127.0.0.1: 3 of 3
        roundTrip(third, got, "cr/2", "a new client from another address");
        assertThat(admitted(track(RawClient.connect("127.0.0.1", server.port())), "cr-fourth")).isFalse();
        // unlike max-connections, closing connections gives no new tokens: the rate is about connecting
        sub.disconnect();
        assertThat(admitted(track(RawClient.connectFrom("127.0.0.2", "127.0.0.1", server.port())), "cr-again"))
                .isFalse();
    }
}
