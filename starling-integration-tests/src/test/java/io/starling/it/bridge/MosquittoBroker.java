package io.starling.it.bridge;

import static org.awaitility.Awaitility.await;

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
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Mosquitto broker ({@code /usr/sbin/mosquitto}, Debian package {@code mosquitto}) run by a test: a config
 * file written into a directory, one listener on a free port of 127.0.0.1 (TCP, or TLS with the given files), and any
 * extra lines (a bridge of its own, persistence). Can be stopped and started again on the same port.
 */
public final class MosquittoBroker implements AutoCloseable {

    private static final String MOSQUITTO = "/usr/sbin/mosquitto";

    private final Path dir;
    private final int port;
    private final List<String> lines;
    private Process process;

    private MosquittoBroker(Path dir, int port, List<String> lines) {
        this.dir = dir;
        this.port = port;
        this.lines = lines;
    }

    /** A plain TCP listener; {@code extra} lines follow it in the config file. Started. */
    public static MosquittoBroker start(Path dir, List<String> extra) {
        int port = freePort();
        List<String> lines = new ArrayList<>();
        lines.add("per_listener_settings false");
        // run as root (CI), Mosquitto would switch to the user "mosquitto", who cannot write the test's directories
        lines.add("user " + System.getProperty("user.name"));
        lines.add("allow_anonymous true");
        lines.add("log_dest file " + dir.resolve("mosquitto.log"));
        lines.add("log_type all");
        lines.addAll(extra);
        lines.add("listener " + port + " 127.0.0.1");
        MosquittoBroker m = new MosquittoBroker(dir, port, lines);
        m.start();
        return m;
    }

    /** A TLS listener with the server certificate and key, client certificates checked against {@code ca}. */
    static MosquittoBroker startTls(Path dir, Path ca, Path cert, Path key, boolean requireClientCert) {
        int port = freePort();
        List<String> lines = new ArrayList<>();
        lines.add("per_listener_settings false");
        // run as root (CI), Mosquitto would switch to the user "mosquitto", who cannot write the test's directories
        lines.add("user " + System.getProperty("user.name"));
        lines.add("allow_anonymous true");
        lines.add("log_dest file " + dir.resolve("mosquitto.log"));
        lines.add("log_type all");
        lines.add("listener " + port + " 127.0.0.1");
        lines.add("cafile " + ca);
        lines.add("certfile " + cert);
        lines.add("keyfile " + key);
        lines.add("require_certificate " + requireClientCert);
        MosquittoBroker m = new MosquittoBroker(dir, port, lines);
        m.start();
        return m;
    }

    /** Mosquitto with persistence in {@code dir}: its clients' sessions and queues survive a stop. */
    static List<String> persistence(Path dir) {
        return List.of("persistence true", "persistence_location " + dir + "/", "autosave_interval 1");
    }

    public int port() {
        return port;
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    public String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    /** Mosquitto's own log file (written as it goes, unlike its standard output). */
    Path log() {
        return dir.resolve("mosquitto.log");
    }

    private Path output() {
        return dir.resolve("mosquitto-" + port + ".out");
    }

    /** Starts it (again, on the same port) and waits until it accepts connections. */
    void start() {
        try {
            Files.createDirectories(dir);
            Path conf = dir.resolve("mosquitto-" + port + ".conf");
            Files.write(conf, lines, StandardCharsets.UTF_8);
            Process p = new ProcessBuilder(MOSQUITTO, "-c", conf.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(output().toFile()))
                    .start();
            process = p;
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(20)).until(() -> {
                if (!p.isAlive()) {
                    throw new IllegalStateException("mosquitto exited with " + p.exitValue() + ": "
                            + Files.readString(output()));
                }
                return accepts(port);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start mosquitto", e);
        }
    }

    /** Stops it (SIGTERM: with persistence, it saves its state first) and waits for the process to end. */
    void stop() {
        Process p = process;
        process = null;
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What Mosquitto logged so far. */
    String logText() {
        try {
            return Files.readString(log());
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        stop();
    }

    static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
