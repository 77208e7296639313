package io.starling.it.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.server.config.ConfigLoader;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release tarball that starling-dist builds, as someone who installs it uses it: unpacked into an empty
 * directory, started through its own {@code bin/starling} from a working directory outside the source tree, with a
 * PATH that holds Java and a few shell tools and nothing else (no Maven), then used by a real MQTT client and by its
 * own {@code pub} and {@code version} commands, and stopped with SIGTERM.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class DistributionTest {

    /** What the launcher may run besides java: enough for a shell script, nothing that builds. */
    private static final List<String> TOOLS = List.of("bash", "env", "dirname", "readlink", "sed", "awk", "cut", "stat",
            "mkdir", "cat", "mv", "rm");

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run leaves broker.log behind
    Path tmp;

    private Path home;
    private Path work;
    private Path binPath;
    private Process broker;

    @BeforeEach
    void unpack() throws Exception {
        Path tarball = tarball();
        Path installed = Files.createDirectories(tmp.resolve("opt"));
        Process tar = new ProcessBuilder("tar", "xzf", tarball.toString(), "-C", installed.toString())
                .redirectErrorStream(true).start();
        String out = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(tar.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(tar.exitValue()).as("tar: %s", out).isZero();
        try (Stream<Path> top = Files.list(installed)) {
            List<Path> dirs = top.toList();
            assertThat(dirs).as("the tarball unpacks to one directory").hasSize(1);
            home = dirs.get(0);
        }
        work = Files.createDirectories(tmp.resolve("work"));
        binPath = Files.createDirectories(tmp.resolve("path"));
        for (String tool : TOOLS) {
            Path found = Stream.of("/usr/bin", "/bin").map(d -> Path.of(d, tool)).filter(Files::isExecutable).findFirst()
                    .orElseThrow(() -> new IllegalStateException(tool + " not found in /usr/bin or /bin"));
            Files.createSymbolicLink(binPath.resolve(tool), found);
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (broker != null && broker.isAlive()) {
            broker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theLayoutIsCompleteAndStandsOnItsOwn() throws IOException {
        assertThat(home.getFileName().toString()).startsWith("starling-");
        expectedVersion().ifPresent(v -> assertThat(home.getFileName().toString()).isEqualTo("starling-" + v));
        for (String f : List.of("bin/starling", "lib/starling.jar", "config/starling.yaml", "systemd/starling.service",
                "LICENSE", "NOTICE")) {
            assertThat(home.resolve(f)).as(f).isRegularFile();
        }
        assertThat(home.resolve("bin/starling")).isExecutable();
        String launcher = Files.readString(home.resolve("bin/starling"));
        assertThat(launcher).as("the launcher of the release knows nothing of the sources or the build")
                .doesNotContain(repositoryRoot().toString(), "mvn ", "starling-cli/target", "pom.xml");
        assertThat(Files.readString(home.resolve("LICENSE"))).contains("Apache License", "Version 2.0");
        assertThat(Files.readString(home.resolve("NOTICE")))
                .contains("Netty", "rocksdbjni", "SnakeYAML", "picocli", "SLF4J", "Logback", "Micrometer", "Jackson");
        String unit = Files.readString(home.resolve("systemd/starling.service"));
        assertThat(unit).contains("User=starling", "LimitNOFILE=", "Restart=on-failure",
                "ExecStart=/opt/starling/bin/starling broker --config ");
    }

    /** Every key of the shipped config file, uncommented, is a key the broker knows, with a value it accepts. */
    @Test
    void theShippedConfigNamesEveryKeyWithAValidDefault() throws IOException {
        Path shipped = home.resolve("config/starling.yaml");
        ConfigLoader.load(shipped).build(); // as shipped: nothing set
        Pattern keyLine = Pattern.compile("^# ([a-z0-9-]+): (\\S.*?)\\s+# .*$");
        List<String> uncommented = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (String line : Files.readAllLines(shipped)) {
            Matcher m = keyLine.matcher(line);
            if (m.matches()) {
                keys.add(m.group(1));
                uncommented.add(m.group(1) + ": " + m.group(2));
            }
        }
        Path all = tmp.resolve("all-keys.yaml");
        Files.write(all, uncommented);
        ConfigLoader.load(all).build();
        List<String> documented = documentedKeys();
        assertThat(documented).isNotEmpty();
        List<String> blockKeys = List.of("listeners", "scram-users"); // written out as commented YAML blocks
        assertThat(keys).containsAll(documented.stream().filter(k -> !blockKeys.contains(k)).toList());
        String text = Files.readString(shipped);
        for (String k : blockKeys) {
            assertThat(text).contains("# " + k + ":");
        }
    }

    @Test
    void theUnpackedBrokerServesAClientVersionPrintsAndSigtermStopsIt() throws Exception {
        String version = run("version").strip();
        assertThat(version).matches("Starling \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
        expectedVersion().ifPresent(v -> assertThat(version).isEqualTo("Starling " + v));
        assertThat(run("version").strip()).as("again, with the class-data archive of the first run").isEqualTo(version);

        int port = freePort();
        int adminPort = freePort();
        Path log = tmp.resolve("broker.log");
        broker = launcher("broker", "--port", Integer.toString(port), "--data-dir", tmp.resolve("data").toString(),
                "--admin-port", Integer.toString(adminPort))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> accepting(port, log));
        // the admin listener of the command: ready once the MQTT listener is bound
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + adminPort + "/health/ready")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).isEqualTo(200);
        List<String> args = broker.info().arguments().map(List::of).orElse(List.of());
        if (!args.isEmpty()) { // the launcher execs java on the jar of the release
            assertThat(args).contains(home.resolve("lib/starling.jar").toString());
        }

        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        MqttClient sub = new MqttClient("tcp://127.0.0.1:" + port, "dist-sub", new MemoryPersistence());
        MqttClient pub = new MqttClient("tcp://127.0.0.1:" + port, "dist-pub", new MemoryPersistence());
        try {
            sub.connect();
            sub.subscribe("dist/#", 1, (topic, m) -> received.add(topic + " " + new String(m.getPayload(),
                    StandardCharsets.UTF_8)));
            pub.connect();
            pub.publish("dist/paho", "from paho".getBytes(StandardCharsets.UTF_8), 1, false);
            assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("dist/paho from paho");

            run("pub", "-p", Integer.toString(port), "-t", "dist/cli", "-m", "from starling pub", "-q", "1");
            assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("dist/cli from starling pub");
            pub.disconnect();
            sub.disconnect();
        } finally {
            pub.close();
            sub.close();
        }

        broker.destroy(); // SIGTERM
        assertThat(broker.waitFor(60, TimeUnit.SECONDS)).as("the broker exits after SIGTERM").isTrue();
        String output = Files.readString(log);
        // the JVM reports a SIGTERM that its shutdown hooks handled as 128 + 15
        assertThat(broker.exitValue()).as(output).isIn(0, 143);
        assertThat(output).contains("Starling started", "Starling stopped").doesNotContain(" ERROR ", "Exception");
    }

    /** Runs {@code bin/starling ARGS} of the release to completion and returns what it printed on stdout. */
    private String run(String... args) throws Exception {
        Path err = Files.createTempFile(tmp, "stderr", ".txt");
        Process p = launcher(args).redirectError(err.toFile()).start();
        byte[] out;
        try (InputStream in = p.getInputStream()) {
            out = in.readAllBytes();
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("bin/starling %s: %s", String.join(" ", args), Files.readString(err)).isZero();
        return new String(out, StandardCharsets.UTF_8);
    }

    private ProcessBuilder launcher(String... args) {
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/starling").toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("MAVEN") || k.startsWith("STARLING") || k.equals("CLASSPATH"));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("PATH", binPath.toString());
        env.put("HOME", work.toString());
        return pb;
    }

    private boolean accepting(int port, Path log) throws IOException {
        if (!broker.isAlive()) {
            throw new IllegalStateException("the broker exited with " + broker.exitValue() + ": " + Files.readString(log));
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The version the build passes in, when run by Maven. */
    private static Optional<String> expectedVersion() {
        return Optional.ofNullable(System.getProperty("starling.version")).filter(v -> !v.isBlank() && !v.startsWith("${"));
    }

    /** The checkout: the nearest directory up from here that holds starling-dist. */
    private static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("starling-dist"))) {
                return p;
            }
        }
        throw new IllegalStateException("no starling-dist directory above " + Path.of("").toAbsolutePath());
    }

    /** starling-VERSION.tar.gz in starling-dist/target: the one of the build's version, else the newest. */
    private static Path tarball() throws IOException {
        Path target = repositoryRoot().resolve("starling-dist/target");
        Optional<String> v = expectedVersion();
        if (v.isPresent()) {
            Path exact = target.resolve("starling-" + v.get() + ".tar.gz");
            assertThat(exact).as("the release tarball (built by starling-dist: mvn package)").isRegularFile();
            return exact;
        }
        assertThat(target).as("starling-dist/target (mvn package builds the tarball there)").isDirectory();
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(f -> f.getFileName().toString().matches("starling-.+\\.tar\\.gz"))
                    .max(Comparator.comparing(f -> f.toFile().lastModified()))
                    .orElseThrow(() -> new IllegalStateException("no starling-*.tar.gz in " + target));
        }
    }

    /** The top-level keys of the table in docs/configuration.md. */
    private static List<String> documentedKeys() throws IOException {
        Pattern row = Pattern.compile("^\\| `([a-z0-9-]+)` \\| `?[^|]*\\| .*");
        List<String> keys = new ArrayList<>();
        for (String line : Files.readAllLines(repositoryRoot().resolve("docs/configuration.md"))) {
            if (line.startsWith("## Listeners")) {
                break; // the listener keys follow
            }
            Matcher m = row.matcher(line);
            if (m.matches()) {
                keys.add(m.group(1));
            }
        }
        return keys.stream().distinct().collect(Collectors.toList());
    }
}
