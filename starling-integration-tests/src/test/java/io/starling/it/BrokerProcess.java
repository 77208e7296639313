package io.starling.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A broker in a process of its own ({@code starling.jar broker}), for the tests that kill it with SIGKILL and start it
 * again on the same data directory: its output goes to {@code broker.log} in the test's directory (kept when a test
 * fails), its admin listener is off.
 */
public final class BrokerProcess {

    /** The broker jar that starling-cli builds. */
    public static final Path JAR = Path.of("..", "starling-cli", "target", "starling.jar").toAbsolutePath().normalize();

    private BrokerProcess() {
    }

    /**
     * Starts the broker on {@code config} and returns once it accepts connections on {@code port} (at most
     * {@code within}); fails at once if the process exits first.
     *
     * @param jvmOptions options of the broker's JVM (heap, GC)
     */
    public static Process start(Path dir, Path config, int port, Duration within, String... jvmOptions)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-jar", JAR.toString(), "broker", "--config", config.toString(), "--admin-port", "0"));
        Path log = dir.resolve("broker.log");
        Process broker = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        await().atMost(within).pollInterval(Duration.ofMillis(50)).until(() -> accepting(broker, port, log));
        return broker;
    }

    private static boolean accepting(Process broker, int port, Path log) {
        if (!broker.isAlive()) {
            throw new IllegalStateException("the broker exited with " + broker.exitValue() + "; see " + log);
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
