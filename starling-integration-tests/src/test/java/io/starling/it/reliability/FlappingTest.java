package io.starling.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.it.BrokerExtension;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flapping detection: a client id that connects more often than {@code flapping-max-connects} within the window is
 * refused for {@code flapping-ban-seconds} (5.0 CONNACK 0x9F Connection rate exceeded, 3.1.1 0x03 Server
 * unavailable); other client ids are not affected; the default never refuses ordinary reconnects.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FlappingTest {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.flapping(
            new BrokerConfig.Flapping(5, Duration.ofMinutes(1), Duration.ofSeconds(2))));

    @TempDir
    Path temp;

    private int connect5(String clientId) {
        try (RawClient c = RawClient.connect(broker.host(), broker.port())) {
            return Raw.connect5(c, clientId, 0);
        }
    }

    @Test
    void aClientIdThatConnectsTooOftenIsRefusedForAWhile() {
        for (int i = 0; i < 5; i++) {
            assertThat(connect5("flappy")).as("connect %d", i + 1).isZero();
        }
        assertThat(connect5("flappy")).as("5.0: Connection rate exceeded").isEqualTo(0x9F);
        try (RawClient c = RawClient.connect(broker.host(), broker.port())) {
            assertThat(Raw.connect311(c, "flappy", true)).as("3.1.1: Server unavailable").isEqualTo(0x03);
        }
        assertThat(connect5("calm")).as("another client id").isZero();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> connect5("flappy") == 0);
    }

    @Test
    void theDefaultNeverRefusesOrdinaryReconnects() {
        BrokerConfig config = BrokerConfig.builder().bindAddress("127.0.0.1").port(0).dataDir(temp)
                .storage(BrokerConfig.Storage.MEMORY).build();
        assertThat(config.flapping()).isEqualTo(BrokerConfig.Flapping.DEFAULTS);
        try (StarlingServer server = StarlingServer.start(config)) {
            for (int i = 0; i < 120; i++) {
                try (RawClient c = RawClient.connect("127.0.0.1", server.port())) {
                    assertThat(Raw.connect5(c, "reconnecting", 0)).as("reconnect %d", i + 1).isZero();
                }
            }
        }
    }
}
