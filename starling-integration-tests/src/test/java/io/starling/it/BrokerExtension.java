package io.starling.it;

import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one broker per test class and stops it after the class. Register as
 * {@code @RegisterExtension static BrokerExtension broker = new BrokerExtension();}, or with a customiser of
 * the {@link BrokerConfig.Builder}: {@code new BrokerExtension(b -> b.connectTimeout(Duration.ofSeconds(1)))}.
 *
 * <p>The broker is chosen by the system property {@code starling.it.broker}: {@code starling} (default) runs an
 * in-process {@link StarlingServer} on an ephemeral port with a temporary data directory; {@code mosquitto}
 * runs {@code /usr/sbin/mosquitto} on a free port with a generated configuration, as a reference to validate
 * the tests themselves. A test that {@link #stop() stopped} the broker gets it started again before the next
 * test.
 */
public final class BrokerExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback {

    /** Which broker the tests run against. */
    public enum Mode {
        STARLING, MOSQUITTO
    }

    private static final Logger LOG = LoggerFactory.getLogger(BrokerExtension.class);
    private static final String MOSQUITTO = "/usr/sbin/mosquitto";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);

    private final Consumer<BrokerConfig.Builder> customiser;
    private Path tempDir;
    private BrokerConfig config;
    private int port;
    private StarlingServer server;
    private Process mosquitto;

    public BrokerExtension() {
        this(b -> { });
    }

    public BrokerExtension(Consumer<BrokerConfig.Builder> customiser) {
        this.customiser = customiser;
    }

    /** The mode selected by {@code -Dstarling.it.broker=starling|mosquitto}. */
    public static Mode mode() {
        String value = System.getProperty("starling.it.broker", "starling").trim();
        if (value.isEmpty() || value.startsWith("${")) {
            return Mode.STARLING;
        }
        return Mode.valueOf(value.toUpperCase(Locale.ROOT));
    }

    public static boolean isMosquitto() {
        return mode() == Mode.MOSQUITTO;
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** The configuration the broker was started with (in mosquitto mode only some values are mapped). */
    public BrokerConfig config() {
        return config;
    }

    /**
     * The in-process broker, for tests that drive it directly (e.g. {@code server().broker().disconnectClient(id)})
     * or stop it; {@code null} in mosquitto mode and while the broker is stopped.
     */
    public StarlingServer server() {
        return server;
    }

    public boolean isRunning() {
        return server != null || (mosquitto != null && mosquitto.isAlive());
    }

    /** Stops the broker and starts it again on the same port. In-memory state is lost. */
    public void restart() {
        stop();
        start(port);
    }

    /** Stops the broker; the next test starts it again. */
    public void stop() {
        if (server != null) {
            try {
                server.close();
            } finally {
                server = null;
            }
        }
        if (mosquitto != null) {
            Process p = mosquitto;
            mosquitto = null;
            p.destroy();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        tempDir = Files.createTempDirectory("starling-it-");
        Files.createDirectories(tempDir.resolve("data"));
        start(0);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (!isRunning()) {
            start(port);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        stop();
        if (tempDir != null) {
            try (Stream<Path> files = Files.walk(tempDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private void start(int requestedPort) {
        BrokerConfig.Builder builder = BrokerConfig.builder();
        customiser.accept(builder);
        builder.bindAddress(host()).port(requestedPort).dataDir(tempDir.resolve("data"));
        config = builder.build();
        if (mode() == Mode.MOSQUITTO) {
            port = requestedPort == 0 ? freePort() : requestedPort;
            startMosquitto();
        } else {
            // a restart on the same port may have to wait for the old listener to let go of it
            await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(100))
                    .ignoreExceptionsMatching(BrokerExtension::isBindFailure)
                    .until(() -> {
                        server = StarlingServer.start(config);
                        return true;
                    });
            port = server.port();
        }
    }

    private void startMosquitto() {
        List<String> lines = new ArrayList<>();
        lines.add("listener " + port + " " + host());
        lines.add("allow_anonymous true");
        lines.add("persistence false");
        lines.add("log_dest stderr");
        lines.add("log_type error");
        lines.add("log_type warning");
        lines.add("max_queued_messages " + config.maxQueuedMessages());
        lines.add("max_inflight_messages " + config.maxInflightMessages());
        lines.add("queue_qos0_messages " + config.queueQos0Messages());
        if (config.maxKeepAliveSeconds() > 0) {
            lines.add("max_keepalive " + config.maxKeepAliveSeconds());
        }
        if (config.maxPacketSize() < BrokerConfig.MQTT_MAX_PACKET_SIZE) {
            lines.add("max_packet_size " + config.maxPacketSize());
        }
        try {
            Path conf = tempDir.resolve("mosquitto-" + port + ".conf");
            Files.write(conf, lines, StandardCharsets.UTF_8);
            Path log = tempDir.resolve("mosquitto-" + port + ".log");
            mosquitto = new ProcessBuilder(MOSQUITTO, "-c", conf.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            Process p = mosquitto;
            await().atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(20)).until(() -> {
                if (!p.isAlive()) {
                    throw new IllegalStateException("mosquitto exited with " + p.exitValue() + ": "
                            + Files.readString(log));
                }
                return accepts(port);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start mosquitto", e);
        }
        LOG.debug("mosquitto listening on {}", port);
    }

    private static boolean isBindFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.net.BindException
                    || (c.getMessage() != null && c.getMessage().contains("Address already in use"))) {
                return true;
            }
        }
        return false;
    }

    private boolean accepts(int p) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host(), p), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
