package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Persistent and clean sessions: Session Present, subscriptions and messages kept across connections. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionTest {

    private static final long EXPIRY = 300;

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V31", "PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5"})
    void messagesPublishedWhileOfflineAreDeliveredOnReconnect(ClientKind kind) throws Exception {
        // [MQTT-3.1.2-4] [MQTT-3.1.2-5] [MQTT-3.2.2-2] [MQTT-3.2.2-3]
        String id = Names.clientId("pers");
        String topic = Names.topic("pers");
        TestClient first = clients.connect(kind, id, false, EXPIRY);
        assertThat(first.sessionPresent()).as("no session stored yet").isFalse();
        first.subscribe(topic, 2);
        first.disconnect();
        first.close();

        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish(topic, "offline-1", 1);
        pub.publish(topic, "offline-2", 2);
        pub.publish(topic, "offline-3", 1);

        TestClient again = clients.connect(kind, id, false, EXPIRY);
        if (kind.protocolLevel() >= 4) {                // MQTT 3.1 has no Session Present flag
            assertThat(again.sessionPresent()).isTrue();
        }
        List<Msg> got = again.nextMessages(3);
        assertThat(got).extracting(m -> m.text() + "@" + m.qos())
                .containsExactlyInAnyOrder("offline-1@1", "offline-2@2", "offline-3@1");
        assertThat(again.pollQuietly()).isNull();
        // the subscription itself was kept too
        pub.publish(topic, "online", 1);
        assertThat(again.nextMessage().text()).isEqualTo("online");
    }

    @ParameterizedTest
    @EnumSource(value = ClientKind.class, names = {"PAHO_V31", "PAHO_V311", "PAHO_V5", "HIVEMQ_V3", "HIVEMQ_V5"})
    void cleanSessionDiscardsTheStoredSession(ClientKind kind) throws Exception {
        // [MQTT-3.1.2-6] [MQTT-3.2.2-1]
        String id = Names.clientId("clean");
        String topic = Names.topic("clean");
        TestClient first = clients.connect(kind, id, false, EXPIRY);
        first.subscribe(topic, 1);
        first.disconnect();
        first.close();

        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        pub.publish(topic, "for the old session", 1);

        TestClient clean = clients.connect(kind, id, true, 0);
        assertThat(clean.sessionPresent()).isFalse();
        pub.publish(topic, "no subscription any more", 1);
        assertThat(clean.pollQuietly()).as("neither queued nor new messages").isNull();
        clean.disconnect();
        clean.close();

        TestClient after = clients.connect(kind, id, false, EXPIRY);
        assertThat(after.sessionPresent()).as("the clean session ended with its connection").isFalse();
    }

    /** MQTT 5: Clean Start 0 with Session Expiry Interval 0 keeps nothing after the connection closes. */
    @Test
    void v5SessionWithExpiryZeroEndsWithTheConnection() throws Exception { // [MQTT-3.1.2-23] (v5)
        String id = Names.clientId("exp0");
        TestClient first = clients.connect(ClientKind.PAHO_V5, id, false, 0);
        first.subscribe(Names.topic("exp0"), 1);
        first.disconnect();
        first.close();
        TestClient again = clients.connect(ClientKind.PAHO_V5, id, false, 0);
        assertThat(again.sessionPresent()).isFalse();
    }

    /** mosquitto_sub -c: subscribe, get killed, messages queued meanwhile arrive when it comes back. */
    @ParameterizedTest
    @ValueSource(ints = {3, 4, 5})
    void mosquittoSubPersistentSessionGetsQueuedMessages(int level) throws Exception { // [MQTT-3.1.2-5]
        String id = Names.clientId("msub");
        String topic = Names.topic("msub");
        ClientKind kind = level == 3 ? ClientKind.MOSQUITTO_CLI_V31
                : level == 4 ? ClientKind.MOSQUITTO_CLI_V311 : ClientKind.MOSQUITTO_CLI_V5;
        TestClient first = clients.connect(kind, id, false, EXPIRY);
        first.subscribe(topic, 1);
        first.close();

        for (int i = 1; i <= 3; i++) {
            Mosquitto.pub(level, broker, "-t", topic, "-q", "1", "-m", "queued-" + i);
        }
        BlockingQueue<Msg> received = new LinkedBlockingQueue<>();
        List<String> args = new ArrayList<>(List.of("-c", "-i", id, "-q", "1", "-t", topic, "-C", "3", "-W", "20"));
        if (level == 5) {
            args.addAll(List.of("-x", Long.toString(EXPIRY)));
        }
        try (Mosquitto.Sub sub = clients.track(Mosquitto.Sub.start(level, broker, received, args))) {
            assertThat(sub.awaitExit(30)).as("exit code (after -C 3 messages)").isZero();
        }
        List<String> texts = new ArrayList<>();
        received.forEach(m -> texts.add(m.text()));
        assertThat(texts).containsExactly("queued-1", "queued-2", "queued-3");
    }
}
