package io.starling.it.cluster;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * N Starling broker processes ({@code starling.jar broker}) on 127.0.0.1 forming one cluster, each with its own
 * ports (MQTT, membership, node link) and data directory, all under one directory that keeps their configs and logs.
 * Nodes are started, killed with SIGKILL ({@link Node#kill()}), stopped with SIGTERM ({@link Node#stop()}) and
 * restarted on the same data directory. What a node sees of the cluster is read from its log (the lines
 * {@code Cluster: ... members (k): ...} that each change of the member list writes).
 */
final class ClusterHarness implements AutoCloseable {

    static final Path JAR = Path.of("..", "starling-cli", "target", "starling.jar").toAbsolutePath().normalize();
    /** The shared secret of the test cluster. */
    static final String SECRET = "s3cret-of-the-starling-test-cluster";
    private static final Pattern MEMBERS = Pattern.compile("members \\((\\d+)\\): ([^\\r\\n]*)");
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private final Path dir;
    private final List<Node> nodes = new ArrayList<>();
    private final Path secret;

    /** Nodes n1..n{count} on 127.0.0.1 with min-size {@code minSize} (0 = the default, a majority). */
    ClusterHarness(Path dir, int count, int minSize) throws IOException {
        this(dir, java.util.Collections.nCopies(count, "127.0.0.1"), java.util.Collections.nCopies(count, "127.0.0.1"),
                minSize);
    }

    /**
     * Nodes n1..n{k} where node i binds its MQTT listener to {@code mqttHosts[i]} and its membership and link ports to
     * {@code clusterHosts[i]}.
     */
    ClusterHarness(Path dir, List<String> mqttHosts, List<String> clusterHosts, int minSize) throws IOException {
        this.dir = dir;
        int count = mqttHosts.size();
        this.secret = writeSecret(dir.resolve("cluster.secret"), SECRET);
        List<int[]> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ports.add(new int[] {freePort(), freePort(), freePort()});
        }
        List<String> members = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            members.add(clusterHosts.get(i) + ":" + ports.get(i)[1]);
        }
        for (int i = 0; i < count; i++) {
            int[] p = ports.get(i);
            nodes.add(new Node("n" + (i + 1), dir.resolve("n" + (i + 1)), mqttHosts.get(i), p[0], clusterHosts.get(i),
                    p[1], p[2], members, minSize, secret));
        }
    }

    static Path writeSecret(Path file, String secret) throws IOException {
        Files.writeString(file, secret + "\n", StandardCharsets.UTF_8);
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not POSIX: fine for a test
        }
        return file;
    }

    List<Node> nodes() {
        return nodes;
    }

    Node node(int i) {
        return nodes.get(i);
    }

    Path dir() {
        return dir;
    }

    /** Starts every node and waits until each sees all of them. */
    ClusterHarness startAll() throws IOException {
        for (Node n : nodes) {
            n.start();
        }
        awaitMembers(nodes.size(), nodes.toArray(new Node[0]));
        return this;
    }

    /** Waits until each of {@code which} sees {@code count} members. */
    static void awaitMembers(int count, Node... which) {
        for (Node n : which) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> n.checkAlive().memberCount() == count);
        }
    }

    @Override
    public void close() {
        for (Node n : nodes) {
            n.kill();
        }
    }

    /** Ports handed out in this JVM: the system may offer a port again once its probe socket is closed. */
    private static final java.util.Set<Integer> GIVEN = new java.util.HashSet<>();

    /**
     * A port free now and not handed out before by this JVM (a node's ports are picked one after the other, each
     * probe closed before the next: without the check, two of them can be the same port).
     */
    static synchronized int freePort() throws IOException {
        while (true) {
            try (ServerSocket s = new ServerSocket(0)) {
                if (GIVEN.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            }
        }
    }

    /** One broker process of the cluster. */
    static final class Node {
        final String name;
        final Path home;
        final String mqttHost;
        final int mqttPort;
        final String clusterHost;
        final int membershipPort;
        final int linkPort;
        private final List<String> members;
        private final int minSize;
        private Path secretFile;
        private Process process;
        private final Path log;
        /** Where in the log the current run starts. */
        private long logStart;
        private List<String> jvmOptions = List.of();
        private List<String> prefix = List.of();
        private List<String> extraConfig = List.of();
        /** The port of the admin listener on 127.0.0.1; 0: none. */
        private int adminPort;

        Node(String name, Path home, int mqttPort, int membershipPort, int linkPort, List<String> members, int minSize,
                Path secretFile) throws IOException {
            this(name, home, "127.0.0.1", mqttPort, "127.0.0.1", membershipPort, linkPort, members, minSize, secretFile);
        }

        Node(String name, Path home, String mqttHost, int mqttPort, String clusterHost, int membershipPort, int linkPort,
                List<String> members, int minSize, Path secretFile) throws IOException {
            this.name = name;
            this.home = Files.createDirectories(home);
            this.mqttHost = mqttHost;
            this.mqttPort = mqttPort;
            this.clusterHost = clusterHost;
            this.membershipPort = membershipPort;
            this.linkPort = linkPort;
            this.members = List.copyOf(members);
            this.minSize = minSize;
            this.secretFile = secretFile;
            this.log = home.resolve("broker.log");
        }

        /** Uses another secret file from the next start on. */
        Node secretFile(Path file) {
            secretFile = file;
            return this;
        }

        /** JVM options of the next start (e.g. class loading logs). */
        Node jvmOptions(String... options) {
            jvmOptions = List.of(options);
            return this;
        }

        /** Top-level lines added to the node's config file from the next start on (e.g. a {@code bridges:} section). */
        Node extraConfig(String... lines) {
            extraConfig = List.of(lines);
            return this;
        }

        /** An admin listener on 127.0.0.1 (a free port) from the next start on. */
        Node withAdmin() throws IOException {
            adminPort = freePort();
            return this;
        }

        /** A command the next start runs the JVM under (e.g. {@code ip netns exec ns}). */
        Node prefix(String... command) {
            prefix = List.of(command);
            return this;
        }

        Path config() {
            return home.resolve("starling.yaml");
        }

        void writeConfig() throws IOException {
            List<String> lines = new ArrayList<>(Arrays.asList(
                    "listeners:",
                    "  - {type: tcp, bind: " + mqttHost + ", port: " + mqttPort + ", allow-anonymous: true}",
                    "data-dir: " + home.resolve("data"),
                    "storage: rocksdb",
                    "fsync: os",
                    "cluster:",
                    "  node-name: " + name,
                    "  bind: " + clusterHost,
                    "  membership-port: " + membershipPort,
                    "  link-port: " + linkPort,
                    "  members: [" + String.join(", ", members) + "]",
                    "  heartbeat-timeout-seconds: 3",
                    "  secret-file: " + secretFile));
            if (minSize > 0) {
                lines.add("  min-size: " + minSize);
            }
            lines.addAll(extraConfig);
            lines.add("");
            Files.writeString(config(), String.join("\n", lines), StandardCharsets.UTF_8);
        }

        /** Starts the process (its config written anew) and waits until its MQTT port accepts connections. */
        Node start() throws IOException {
            writeConfig();
            return startWith(config());
        }

        /** Starts the process with the given config file. */
        Node startWith(Path config) throws IOException {
            if (process != null && process.isAlive()) {
                throw new IllegalStateException(name + " is running");
            }
            logStart = Files.exists(log) ? Files.size(log) : 0;
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(prefix);
            cmd.add(java);
            cmd.add("-Xmx256m");
            cmd.add("-XX:TieredStopAtLevel=1");
            cmd.addAll(jvmOptions);
            cmd.addAll(List.of("-jar", JAR.toString(), "broker", "--config", config.toString(), "--admin-port",
                    String.valueOf(adminPort)));
            process = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(this::accepting);
            return this;
        }

        boolean alive() {
            return process != null && process.isAlive();
        }

        long pid() {
            return process.pid();
        }

        Node checkAlive() {
            if (!alive()) {
                throw new IllegalStateException(name + " is not running (exit " + (process == null ? "-" : process.exitValue())
                        + "); see " + log);
            }
            return this;
        }

        private boolean accepting() {
            checkAlive();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(mqttHost, mqttPort), 500);
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        /** SIGKILL, and waits for the process to end. */
        void kill() {
            if (process != null && process.isAlive()) {
                process.destroyForcibly();
                try {
                    process.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** SIGTERM; returns whether the process ended within 60 s. */
        boolean stop() throws InterruptedException {
            process.destroy();
            return process.waitFor(60, TimeUnit.SECONDS);
        }

        /** The exit code of the ended process. */
        int exitValue() {
            return process.exitValue();
        }

        /** The log of the current (or last) run. */
        String log() {
            try {
                byte[] all = Files.readAllBytes(log);
                int from = (int) Math.min(all.length, logStart);
                return new String(all, from, all.length - from, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        Path logFile() {
            return log;
        }

        /** How many members this node saw at the last change of its member list (0 before it joined). */
        int memberCount() {
            Matcher m = MEMBERS.matcher(log());
            int count = 0;
            while (m.find()) {
                count = Integer.parseInt(m.group(1));
            }
            return count;
        }

        /** The members this node saw at the last change of its member list, as logged. */
        String memberList() {
            Matcher m = MEMBERS.matcher(log());
            String last = "";
            while (m.find()) {
                last = m.group(2);
            }
            return last;
        }

        String uri() {
            return "tcp://" + mqttHost + ":" + mqttPort;
        }

        /** {@code GET /api/v1/overview} of this node's admin listener ({@link #withAdmin}), parsed. */
        com.fasterxml.jackson.databind.JsonNode overview() throws IOException, InterruptedException {
            java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                    .build();
            java.net.http.HttpResponse<String> res = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + adminPort + "/api/v1/overview"))
                    .timeout(Duration.ofSeconds(20)).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() != 200) {
                throw new IllegalStateException(name + ": overview answered " + res.statusCode() + ": " + res.body());
            }
            return JSON.readTree(res.body());
        }

        @Override
        public String toString() {
            return name + "(mqtt " + mqttPort + ", membership " + membershipPort + ")";
        }
    }
}
