package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.testkit.RawClient;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The fixture itself: restart on the same port, stop, and the next test gets a running broker again. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BrokerLifecycleTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @Test
    @Order(1)
    void restartKeepsThePortAndDropsConnections() throws Exception {
        int port = broker.port();
        PahoV3Client before = (PahoV3Client) clients.connect(ClientKind.PAHO_V311);
        broker.restart();
        assertThat(broker.port()).isEqualTo(port);
        assertThat(before.connectionLost().poll(10, TimeUnit.SECONDS)).as("connection lost").isNotNull();
        String topic = Names.topic("restart");
        TestClient after = clients.connect(ClientKind.HIVEMQ_V5);
        after.subscribe(topic, 1);
        after.publish(topic, "back", 1);
        assertThat(after.nextMessage().text()).isEqualTo("back");
    }

    @Test
    @Order(2)
    void stopRefusesConnections() {
        broker.stop();
        assertThatThrownBy(() -> RawClient.connect(broker.host(), broker.port()).close()).isInstanceOf(RuntimeException.class);
    }

    @Test
    @Order(3)
    void theNextTestGetsARunningBroker() throws Exception {
        assertThat(broker.isRunning()).isTrue();
        TestClient c = clients.connect(ClientKind.PAHO_V5);
        String topic = Names.topic("next");
        c.subscribe(topic, 0);
        c.publish(topic, "ok", 0);
        assertThat(c.nextMessage().text()).isEqualTo("ok");
    }
}
