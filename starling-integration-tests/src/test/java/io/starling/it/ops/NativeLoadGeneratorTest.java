package io.starling.it.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native load generator of the benchmarks ({@code bench/gen}): compiled with gcc by {@code bench/gen/run} and run
 * briefly against an embedded Starling, so that it keeps compiling and its RESULT line keeps its fields. Skipped
 * only where gcc is missing and {@code CI} is unset.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NativeLoadGeneratorTest {

    private static final Pattern FIELD = Pattern.compile("(\\w+)=(\\S+)");

    @TempDir
    Path tmp;

    private StarlingServer server;
    private Path root;

    @BeforeEach
    void start() {
        root = repositoryRoot();
        assumeTrue(gccAvailable() || System.getenv("CI") != null, "gcc is not installed (bin/test installs it)");
        server = StarlingServer.start(BrokerConfig.builder().bindAddress("127.0.0.1").port(0)
                .dataDir(tmp.resolve("data")).storage(BrokerConfig.Storage.MEMORY).build());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void qos1PairsDeliverAndTimeEveryMessage() throws Exception {
        Map<String, String> r = result(run("s2", server.port(), Map.of("BENCH_DURATION", "2", "BENCH_WARMUP", "1")));
        assertThat(r).containsEntry("gen", "own").containsEntry("scenario", "s2").containsEntry("qos", "1")
                .containsEntry("procs", "2").doesNotContainKey("client_errors").doesNotContainKey("error");
        double delivered = number(r, "delivered_per_s");
        double acked = number(r, "acked_per_s");
        assertThat(delivered).isPositive();
        // one message in flight per publisher: within the window the counts differ by at most 50 messages
        assertThat(Math.abs(delivered - acked)).isLessThanOrEqualTo(60);
        assertThat(number(r, "latency_p50_ms")).isPositive();
        assertThat(number(r, "latency_p99_ms")).isGreaterThanOrEqualTo(number(r, "latency_p50_ms"));
        assertThat(r.get("broker_cpu")).matches("\\d+");
        assertThat(r).containsKeys("gen_cpu", "other_cpu");
    }

    @Test
    void qos2PairsCompleteTheFourPartHandshake() throws Exception {
        Map<String, String> r = result(run("s4", server.port(), Map.of("BENCH_DURATION", "2", "BENCH_WARMUP", "1")));
        assertThat(r).containsEntry("scenario", "s4").containsEntry("qos", "2").doesNotContainKey("client_errors");
        assertThat(number(r, "delivered_per_s")).isPositive();
        assertThat(number(r, "acked_per_s")).isPositive();
        assertThat(number(r, "latency_p99_ms")).isGreaterThanOrEqualTo(number(r, "latency_p50_ms"));
    }

    @Test
    void idleConnectionsAllGetTheirConnack() throws Exception {
        Map<String, String> r = result(run("s5", server.port(), Map.of("BENCH_CONNS", "200", "BENCH_SETTLE", "0",
                "BENCH_PRESETTLE", "2")));
        assertThat(r).containsEntry("scenario", "s5").containsEntry("conns", "200/200")
                .containsEntry("connect_fail", "0");
        assertThat(number(r, "time_to_all_s")).isPositive();
        assertThat(r).containsKeys("broker_bytes_per_conn", "broker_rss_before_kb", "broker_rss_after_kb");
        assertThat(number(r, "broker_rss_before_kb")).isPositive();
        // the wait for a settled baseline is bounded by BENCH_PRESETTLE (whole seconds, plus the last reading's)
        assertThat(number(r, "presettle_s")).isBetween(0.0, 3.0);
    }

    @Test
    void probeTellsAListeningBrokerFromAClosedPort() throws Exception {
        assertThat(run("probe", server.port(), Map.of()).exitCode).isZero();
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        assertThat(run("probe", closed, Map.of()).exitCode).isNotZero();
    }

    private record Run(int exitCode, String output) {
    }

    private Run run(String scenario, int port, Map<String, String> env) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(root.resolve("bench/gen/run").toString(), scenario, "127.0.0.1",
                Integer.toString(port)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("BENCH_BUILD", root.resolve("starling-integration-tests/target/bench-gen").toString());
        pb.environment().put("BROKER_PID", Long.toString(ProcessHandle.current().pid()));
        Path log = tmp.resolve(scenario + ".out");
        Process p = pb.redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not finish:\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    private static Map<String, String> result(Run run) {
        String line = run.output.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no RESULT line:\n" + run.output));
        assertThat(run.exitCode).as("exit status; output:\n%s", run.output).isZero();
        Map<String, String> fields = new HashMap<>();
        Matcher m = FIELD.matcher(line);
        while (m.find()) {
            fields.put(m.group(1), m.group(2));
        }
        return fields;
    }

    private static double number(Map<String, String> r, String key) {
        assertThat(r).containsKey(key);
        return Double.parseDouble(r.get(key));
    }

    private static boolean gccAvailable() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "gcc"))) {
                return true;
            }
        }
        return false;
    }

    private static Path repositoryRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isRegularFile(p.resolve("bench/gen/starling-load.c"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new AssertionError("bench/gen/starling-load.c not found above " + Path.of("").toAbsolutePath());
        }
        return p;
    }
}
