package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Messages of one publisher on one topic at one QoS arrive in the order they were published. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OrderingTest {

    private static final int COUNT = 1000;

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @Test
    void thousandQos1MessagesFromPahoArriveInOrder() throws Exception { // [MQTT-4.6.0-5]
        String topic = Names.topic("order");
        TestClient sub = clients.connect(ClientKind.HIVEMQ_V3);
        sub.subscribe(topic, 1);
        TestClient pub = clients.connect(ClientKind.PAHO_V311);
        for (int i = 0; i < COUNT; i++) {
            pub.publish(topic, Integer.toString(i), 1);
        }
        assertInOrder(sub, 1);
    }

    /** The HiveMQ async API keeps many QoS 1 PUBLISHes in flight at once. */
    @Test
    void thousandPipelinedQos1MessagesFromHiveMqArriveInOrder() throws Exception { // [MQTT-4.6.0-5]
        assertPipelinedInOrder(MqttQos.AT_LEAST_ONCE, ClientKind.PAHO_V5, 1);
    }

    @Test
    void pipelinedQos2MessagesArriveInOrder() throws Exception { // [MQTT-4.6.0-5]
        assertPipelinedInOrder(MqttQos.EXACTLY_ONCE, ClientKind.PAHO_V311, 2);
    }

    private void assertPipelinedInOrder(MqttQos qos, ClientKind subscriberKind, int subQos) throws Exception {
        String topic = Names.topic("pipe");
        TestClient sub = clients.connect(subscriberKind);
        sub.subscribe(topic, subQos);
        HiveMqV5Client pub = (HiveMqV5Client) clients.connect(ClientKind.HIVEMQ_V5);
        List<CompletableFuture<?>> sent = new ArrayList<>();
        for (int i = 0; i < COUNT; i++) {
            sent.add(pub.hivemq().publish(Mqtt5Publish.builder().topic(topic).qos(qos)
                    .payload(Integer.toString(i).getBytes(StandardCharsets.UTF_8)).build()));
        }
        CompletableFuture.allOf(sent.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
        assertInOrder(sub, subQos);
    }

    private static void assertInOrder(TestClient sub, int qos) throws InterruptedException {
        List<Msg> got = sub.nextMessages(COUNT);
        assertThat(got).extracting(Msg::text)
                .containsExactlyElementsOf(IntStream.range(0, COUNT).mapToObj(Integer::toString).toList());
        assertThat(got).allMatch(m -> m.qos() == qos);
        assertThat(sub.pollQuietly()).isNull();
    }
}
