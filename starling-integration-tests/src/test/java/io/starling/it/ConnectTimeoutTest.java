package io.starling.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.testkit.RawClient;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A connection that sends no CONNECT is closed after the configured connect timeout (1 s here). Mosquitto has no such
 * setting: it closes a silent new connection only after its default keep alive (1.5 x 60 s), so this test fails against
 * it within its 10 s bound.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConnectTimeoutTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.connectTimeout(Duration.ofSeconds(1)));

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @Test
    void noConnectWithinTheConnectTimeoutCloses() {
        RawClient raw = clients.raw();               // sends nothing at all
        assertThat(raw.awaitClosed(Duration.ofSeconds(10))).isTrue();
    }

    @Test
    void partialConnectWithinTheConnectTimeoutCloses() {
        RawClient raw = clients.raw();
        raw.send(
                0x10, 0x0D,                          // CONNECT, remaining length 13
                0x00, 0x04, 'M', 'Q');               // ... and then nothing more
        assertThat(raw.awaitClosed(Duration.ofSeconds(10))).isTrue();
    }

    @Test
    void connectInTimeIsAccepted() {
        RawClient raw = clients.raw();
        raw.send(Packets.connect(4, "in-time", Packets.CLEAN, 60)); // CONNECT 3.1.1 right away
        raw.expectPacket(0x20, 0x02, 0x00, 0x00);    // CONNACK accepted
        assertThat(raw.awaitClosed(Duration.ofMillis(1500))).as("stays open past the connect timeout").isFalse();
    }
}
