package io.starling.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code starling pub}, {@code sub} and {@code bench} against an in-process broker. */
class CliTest {

    private static StarlingServer server;
    private static String port;

    @TempDir
    static java.nio.file.Path dataDir;

    @BeforeAll
    static void start() {
        server = StarlingServer.start(BrokerConfig.builder().port(0).dataDir(dataDir).build());
        port = Integer.toString(server.port());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** The outcome of one command line. */
    record Result(int code, String out, String err) {
    }

    /** Runs {@code starling ARGS} in this thread; {@code out} and {@code err} are readable while it runs. */
    static Result run(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = Main.commandLine(args);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static Result run(String... args) {
        return run(new StringWriter(), new StringWriter(), args);
    }

    @Test
    void versionSubcommandAndOptionPrintTheBuildsVersion() {
        Result sub = run("version");
        assertThat(sub.code()).as(sub.err()).isZero();
        assertThat(sub.out().strip()).matches("Starling \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?")
                .isEqualTo(Version.line());
        Result opt = run("--version");
        assertThat(opt.code()).as(opt.err()).isZero();
        assertThat(opt.out()).isEqualTo(sub.out());
    }

    @Test
    void helpListsEverySubcommandAndASubcommandsHelpNamesItsPath() {
        Result all = run("--help");
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.out()).contains("broker", "pub", "sub", "passwd", "bench", "version");
        Result pub = run("pub", "--help");
        assertThat(pub.code()).as(pub.err()).isZero();
        assertThat(pub.out()).startsWith("Usage: starling pub ");
    }

    @Test
    void pubRetainedThenSubGetsIt() {
        Result pub = run("pub", "-p", port, "-t", "cli/retained", "-m", "on", "-r", "-q", "1");
        assertThat(pub.code()).as(pub.err()).isZero();
        Result sub = run("sub", "-p", port, "-t", "cli/retained", "-C", "1", "-v");
        assertThat(sub.code()).as(sub.err()).isZero();
        assertThat(sub.out().lines()).containsExactly("cli/retained on");
    }

    @Test
    void subPrintsMessagesOfEveryQosOnMqtt5() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CompletableFuture<Result> sub = CompletableFuture.supplyAsync(() -> run(out, err,
                "sub", "-p", port, "-V", "5", "-t", "cli/v5/#", "-q", "2", "-C", "3", "-v", "-d", "-W", "60"));
        await().atMost(Duration.ofSeconds(30)).until(() -> err.toString().contains("subscribed to cli/v5/#") || sub.isDone());
        for (int qos = 0; qos <= 2; qos++) {
            Result pub = run("pub", "-p", port, "-V", "5", "-t", "cli/v5/q" + qos, "-m", "m" + qos, "-q", Integer.toString(qos));
            assertThat(pub.code()).as(pub.err()).isZero();
        }
        Result r = sub.get(30, TimeUnit.SECONDS);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines()).containsExactly("cli/v5/q0 m0", "cli/v5/q1 m1", "cli/v5/q2 m2");
    }

    @Test
    void persistentSessionKeepsQos1MessagesWhileAway() {
        Result first = run("sub", "-p", port, "-t", "cli/persist", "-q", "1", "-c", "-i", "cli-persist", "-V", "5", "-x", "300",
                "-W", "1");
        assertThat(first.code()).isEqualTo(SubCommand.TIMED_OUT);
        assertThat(run("pub", "-p", port, "-t", "cli/persist", "-m", "kept", "-q", "1").code()).isZero();
        Result back = run("sub", "-p", port, "-t", "cli/persist", "-q", "1", "-c", "-i", "cli-persist", "-V", "5", "-x", "300",
                "-C", "1");
        assertThat(back.code()).as(back.err()).isZero();
        assertThat(back.out().lines()).containsExactly("kept");
    }

    @Test
    void connectionRefusedIsExitCode1WithAMessage() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Result pub = run("pub", "-p", Integer.toString(closedPort), "-t", "x", "-m", "y");
        assertThat(pub.code()).isEqualTo(1);
        assertThat(pub.err()).contains("cannot connect to 127.0.0.1:" + closedPort);
        Result bench = run("bench", "conn", "-p", Integer.toString(closedPort), "-c", "2", "--duration", "1");
        assertThat(bench.code()).isEqualTo(1);
    }

    @Test
    void connackErrorIsExitCode3WithTheReason() {
        // MQTT 3.1 with an empty client identifier: CONNACK 2, identifier rejected
        Result pub = run("pub", "-p", port, "-V", "31", "-i", "", "-t", "x", "-m", "y");
        assertThat(pub.code()).isEqualTo(3);
        assertThat(pub.err()).contains("connection refused").contains("CLIENT_IDENTIFIER_NOT_VALID");
    }

    @Test
    void usageErrors() {
        assertThat(run("pub", "-p", port, "-t", "x", "-m", "y", "-c").code()).isEqualTo(2);
        assertThat(run("sub", "-p", port, "-t", "x", "-x", "10").code()).isEqualTo(2);
        assertThat(run("bench", "pairs", "-p", port, "-s", "4").code()).isEqualTo(2);
        assertThat(run("bench").code()).isEqualTo(2);
    }

    // ---------------------------------------------------------------- bench

    private static Map<String, String> bench(String... args) {
        String[] all = new String[args.length + 6];
        all[0] = "bench";
        System.arraycopy(args, 0, all, 1, args.length);
        System.arraycopy(new String[] {"-p", port, "--json", "--quiet", "--warmup", "0"}, 0, all, args.length + 1, 5);
        all = java.util.Arrays.copyOf(all, all.length - 1);
        Result r = run(all);
        assertThat(r.code()).as(r.err()).isZero();
        String json = r.out().strip();
        assertThat(json).startsWith("{").endsWith("}");
        Map<String, String> fields = new HashMap<>();
        Matcher m = Pattern.compile("\"([a-z0-9_]+)\":(\"(?:[^\"\\\\]|\\\\.)*\"|[^,}]+)").matcher(json);
        while (m.find()) {
            fields.put(m.group(1), m.group(2));
        }
        return fields;
    }

    private static long num(Map<String, String> f, String name) {
        assertThat(f).containsKey(name);
        return (long) Double.parseDouble(f.get(name));
    }

    @Test
    void benchRetainedFillsThenTimesSubscribersUntilTheyHaveEveryRetainedMessage() {
        Map<String, String> f = bench("retained", "--messages", "300", "-c", "2", "-q", "1", "--inflight", "16", "-s", "100",
                "-t", "cli-ret/%i/%n", "--filter", "cli-ret/#");
        assertThat(f.get("scenario")).isEqualTo("\"retained\"");
        assertThat(num(f, "published")).isEqualTo(300);
        assertThat(num(f, "acked")).isEqualTo(300);
        assertThat(num(f, "refused")).isZero();
        assertThat(num(f, "received")).isEqualTo(300);
        assertThat(num(f, "not_retained")).isZero();
        assertThat(f.get("error")).isEqualTo("null");
        // read again, by two subscribers, without filling
        f = bench("retained", "--messages", "300", "-c", "0", "--subscribers", "2", "--filter", "cli-ret/#");
        assertThat(num(f, "received")).isEqualTo(600);
        assertThat(f.get("fill_seconds")).isEqualTo("null");
        assertThat(run("bench", "retained", "-p", port, "-t", "no/message/number").code()).isEqualTo(2);
    }

    @Test
    void benchPairsQos1DeliversEveryPublishedMessage() {
        Map<String, String> f = bench("pairs", "-c", "4", "-q", "1", "--inflight", "4", "--duration", "1");
        assertThat(f.get("scenario")).isEqualTo("\"pairs\"");
        assertThat(num(f, "connected")).isEqualTo(8);
        assertThat(num(f, "connect_failures")).isZero();
        assertThat(num(f, "published")).isPositive();
        assertThat(num(f, "delivered")).isEqualTo(num(f, "published"));
        assertThat(num(f, "expected_delivered")).isEqualTo(num(f, "published"));
        assertThat(num(f, "acked_total")).isEqualTo(num(f, "published_total"));
        assertThat(num(f, "latency_count")).isEqualTo(num(f, "delivered"));
        assertThat(num(f, "latency_max_ms")).isGreaterThanOrEqualTo(num(f, "latency_p50_ms"));
        assertThat(num(f, "received")).isPositive();
        assertThat(f).containsKeys("published_per_s", "delivered_per_s", "received_per_s", "acked_per_s", "latency_p99_ms",
                "gen_cpu_percent",
                "connack_p99_ms");
    }

    @Test
    void benchFanOutQos0AtAFixedRateDeliversToEverySubscriber() {
        Map<String, String> f = bench("fan-out", "-c", "3", "--rate", "200", "--duration", "1", "-s", "100");
        assertThat(num(f, "subscribers")).isEqualTo(3);
        assertThat(num(f, "published")).isPositive();
        assertThat(num(f, "delivered")).isEqualTo(3 * num(f, "published"));
    }

    @Test
    void benchSharedFanInQos2OnMqtt5DeliversEachMessageOnce() {
        Map<String, String> f = bench("shared-fan-in", "-c", "3", "--subscribers", "2", "-q", "2", "-V", "5", "--rate", "100",
                "--duration", "1");
        assertThat(num(f, "published")).isPositive();
        assertThat(num(f, "delivered")).isEqualTo(num(f, "published"));
        assertThat(num(f, "acked_total")).isEqualTo(num(f, "published_total"));
    }

    @Test
    void benchFanInFromTwoSourceAddresses() {
        // paced: flat out, four publishers can outrun the one subscriber on a busy machine, and the broker then drops
        // from its full queue as configured (max-queued-messages), which is not what this test is about
        Map<String, String> f = bench("fan-in", "-c", "4", "-q", "1", "--ifaddr", "127.0.0.1,127.0.0.2", "--rate", "500",
                "--duration", "1");
        assertThat(num(f, "connected")).isEqualTo(5);
        assertThat(num(f, "delivered")).isEqualTo(num(f, "published"));
    }

    @Test
    void benchConnOpensAndHoldsConnections() {
        Map<String, String> f = bench("conn-ramp", "-c", "20", "--connect-rate", "200", "--duration", "0.5");
        assertThat(num(f, "connections")).isEqualTo(20);
        assertThat(num(f, "connected")).isEqualTo(20);
        assertThat(num(f, "connect_failures")).isZero();
        assertThat(num(f, "lost")).isZero();
        assertThat(f).containsKeys("connack_p50_ms", "connect_time_s");
    }
}
