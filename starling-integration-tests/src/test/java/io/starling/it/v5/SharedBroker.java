package io.starling.it.v5;

import static org.awaitility.Awaitility.await;

import io.starling.broker.Broker;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.session.Session;
import io.starling.server.StarlingServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * An in-process Starling broker of a test's own, for configurations the class's {@code BrokerExtension} does not
 * have (the shared-subscription strategies, shared subscriptions off), and for waiting on the broker's view of a
 * session (a member that has gone offline).
 */
final class SharedBroker implements AutoCloseable {

    private final StarlingServer server;

    private SharedBroker(StarlingServer server) {
        this.server = server;
    }

    /** Starts a broker on 127.0.0.1, an ephemeral port, data under {@code dataDir}. */
    static SharedBroker start(Path dataDir, Consumer<BrokerConfig.Builder> customiser) throws IOException {
        Files.createDirectories(dataDir);
        BrokerConfig.Builder b = BrokerConfig.builder();
        customiser.accept(b);
        b.bindAddress(host()).port(0).dataDir(dataDir);
        return new SharedBroker(StarlingServer.start(b.build()));
    }

    static String host() {
        return "127.0.0.1";
    }

    int port() {
        return server.port();
    }

    Broker broker() {
        return server.broker();
    }

    /** Waits until the broker no longer counts {@code clientId}'s session as online (or it is gone). */
    void awaitOffline(String clientId) {
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
            Session s = server.broker().sessions().get(clientId);
            return s == null || !s.isOnline();
        });
    }

    @Override
    public void close() {
        server.close();
    }
}
