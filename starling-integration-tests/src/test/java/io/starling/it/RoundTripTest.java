package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Publish/subscribe round trips at QoS 0, 1 and 2 for every client library and protocol version. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RoundTripTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    static Stream<Arguments> kindsAndQos() {
        List<Arguments> list = new ArrayList<>();
        for (ClientKind kind : ClientKind.values()) {
            for (int qos = 0; qos <= 2; qos++) {
                list.add(Arguments.of(kind, qos));
            }
        }
        return list.stream();
    }

    /** The same library and version on both ends; the message arrives once, at the QoS it was sent with. */
    @ParameterizedTest(name = "{0} QoS {1}")
    @MethodSource("kindsAndQos")
    void roundTrip(ClientKind kind, int qos) throws Exception {
        String topic = Names.topic("rt") + "/" + kind.shortName();
        TestClient sub = clients.connect(kind);
        TestClient pub = clients.connect(kind);
        assertThat(sub.subscribe(topic, qos)).isEqualTo(qos);

        pub.publish(topic, "hello " + kind + " " + qos, qos);

        Msg m = sub.nextMessage();
        assertThat(m.topic()).isEqualTo(topic);
        assertThat(m.text()).isEqualTo("hello " + kind + " " + qos);
        assertThat(m.qos()).isEqualTo(qos);
        assertThat(m.retain()).isFalse(); // [MQTT-3.3.1-9]
        assertThat(sub.pollQuietly()).isNull();
    }

    /** One publisher of each kind; a subscriber of every kind receives its message (QoS 1 both ways). */
    @ParameterizedTest(name = "from {0}")
    @EnumSource(ClientKind.class)
    void everyClientReceivesFromEveryClient(ClientKind publisherKind) throws Exception {
        String topic = Names.topic("x") + "/" + publisherKind.shortName();
        List<TestClient> subscribers = new ArrayList<>();
        for (ClientKind kind : ClientKind.values()) {
            TestClient s = clients.connect(kind);
            s.subscribe(topic, 1);
            subscribers.add(s);
        }
        TestClient pub = clients.connect(publisherKind);
        byte[] payload = ("from " + publisherKind).getBytes(StandardCharsets.UTF_8);
        pub.publish(topic, payload, 1, false);
        for (TestClient s : subscribers) {
            Msg m = s.nextMessage();
            assertThat(m.payload()).as(s.kind().toString()).isEqualTo(payload);
            assertThat(m.qos()).as(s.kind().toString()).isEqualTo(1);
        }
    }
}
