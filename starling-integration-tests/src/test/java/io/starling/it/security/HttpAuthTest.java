package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.starling.broker.config.AuthenticationConfig;
import io.starling.broker.config.AuthenticationConfig.HttpBackend;
import io.starling.broker.config.AuthenticationConfig.OnFailure;
import io.starling.broker.config.ListenerConfig;
import io.starling.it.security.SecClient.Kind;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@code http} authentication backend against an HTTP service in the test ({@code com.sun.net.httpserver}): the
 * service answers by User Name (allow with a user and attributes, deny, ignore, stall, garbage, 500, 403), and
 * counts its requests. Covers the JSON it is sent, allow/deny/ignore, a stalled service (timeout: deny, while other
 * clients are answered), a service that is down (0x88 / 0x03), the cache, and the order of a chain with the password
 * file.
 */
class HttpAuthTest {

    @TempDir
    static Path dir;
    private static HttpServer service;
    private static final Map<String, AtomicInteger> REQUESTS = new ConcurrentHashMap<>();
    private static final Map<String, JsonNode> LAST = new ConcurrentHashMap<>();
    private static final CountDownLatch RELEASE = new CountDownLatch(1);
    private static StarlingServer broker;
    private static final AtomicInteger IDS = new AtomicInteger();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final int HTTP = 0;
    private static final int CHAIN = 1;
    private static final int DOWN = 2;
    private static final int IGNORING = 3;
    private static final int TINY = 4;
    private static final int HANGUP = 5;
    private static ServerSocket hangup;
    private static Thread hangupThread;

    @BeforeAll
    static void start() throws Exception {
        service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        service.setExecutor(Executors.newCachedThreadPool());
        service.createContext("/auth", HttpAuthTest::answer);
        service.start();
        URI url = URI.create("http://127.0.0.1:" + service.getAddress().getPort() + "/auth");
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        // a "service" that takes the connection and closes it at once, without a byte of HTTP
        hangup = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        hangupThread = new Thread(() -> {
            while (!hangup.isClosed()) {
                try {
                    hangup.accept().close();
                } catch (IOException e) {
                    return;
                }
            }
        }, "hangup");
        hangupThread.setDaemon(true);
        hangupThread.start();
        Path passwd = Sec.passwordFile(dir.resolve("passwd"), "pwuser", "pw", "carol", "carols-password");
        Path acl = Sec.write(dir.resolve("acl"),
                "allow all readwrite sites/%{site}/%u/#",
                "allow all readwrite public/#");
        AuthenticationConfig auth = new AuthenticationConfig(List.of(
                http("http", url, OnFailure.DENY, Duration.ofSeconds(2)),
                new AuthenticationConfig.PasswordFileBackend("passwords", passwd),
                http("down", URI.create("http://127.0.0.1:" + closedPort + "/auth"), OnFailure.ERROR,
                        Duration.ofSeconds(2)),
                http("lenient", url, OnFailure.IGNORE, Duration.ofMillis(500)),
                new HttpBackend("tiny", url, Map.of("Authorization", "Bearer service-token"), Duration.ofSeconds(3),
                        OnFailure.DENY, Duration.ZERO, 0, 1),
                http("hangup", URI.create("http://127.0.0.1:" + hangup.getLocalPort() + "/auth"), OnFailure.DENY,
                        Duration.ofSeconds(2))));
        broker = Sec.start(dir, b -> b.authentication(auth).aclFile(acl)
                .security(b.security().withAuthFailureLimit(0, Duration.ofSeconds(60), Duration.ofSeconds(60)))
                .listeners(List.of(listener("http"), listener("passwords", "http"), listener("down"),
                        listener("lenient", "passwords"), listener("tiny"), listener("hangup"))));
    }

    private static HttpBackend http(String name, URI url, OnFailure onFailure, Duration timeout) {
        return new HttpBackend(name, url, Map.of("Authorization", "Bearer service-token"), timeout, onFailure,
                Duration.ofMinutes(1), 1000, 16);
    }

    private static ListenerConfig listener(String... backends) {
        return ListenerConfig.builder(ListenerConfig.Type.TCP).bind("127.0.0.1").port(0)
                .authentication(List.of(backends)).build();
    }

    private static void answer(HttpExchange ex) throws IOException {
        JsonNode req = JSON.readTree(ex.getRequestBody());
        String user = req.path("username").asText();
        REQUESTS.computeIfAbsent(user, u -> new AtomicInteger()).incrementAndGet();
        LAST.put(user, req);
        if (!"Bearer service-token".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            reply(ex, 401, "");
            return;
        }
        switch (user) {
            case "alice" -> reply(ex, 200, "{\"result\":\"allow\",\"user\":\"alice-http\",\"attributes\":"
                    + "{\"site\":\"berlin\"}}");
            case "hostile" -> reply(ex, 200, "{\"result\":\"allow\",\"attributes\":{\"site\":\"#\"}}");
            case "plain" -> reply(ex, 204, null);
            case "bob" -> reply(ex, 200, "{\"result\":\"deny\"}");
            case "forbidden" -> reply(ex, 403, "");
            case "carol" -> reply(ex, 200, "{\"result\":\"ignore\"}");
            case "garbage" -> reply(ex, 200, "<html>not json</html>");
            case "broken" -> reply(ex, 500, "oops");
            case "huge" -> reply(ex, 200, "{\"result\":\"allow\",\"pad\":\"" + "x".repeat(100_000) + "\"}");
            case "slow" -> {
                try {
                    RELEASE.await(); // stalls until the test ends
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                reply(ex, 200, "{\"result\":\"allow\"}");
            }
            default -> reply(ex, 200, "{\"result\":\"ignore\"}");
        }
    }

    private static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, status == 204 ? -1 : b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            ex.getResponseBody().write(b);
        }
        ex.close();
    }

    @AfterAll
    static void stop() throws IOException {
        RELEASE.countDown();
        if (hangup != null) {
            hangup.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (service != null) {
            service.stop(0);
        }
    }

    private static String id() {
        return "http-" + IDS.incrementAndGet();
    }

    private static int code(int listener, int level, String user, String password) {
        return Sec.connackCode(broker.port(listener), level, id(), user, password);
    }

    @Test
    void theServiceGetsTheCredentialsAsJsonAndItsAnswerDecides() throws Exception {
        for (int level : new int[] {4, 5}) {
            assertThat(code(HTTP, level, "alice", "secret-" + level)).isZero();
            assertThat(code(HTTP, level, "plain", "x")).as("204").isZero();
            assertThat(code(HTTP, level, "bob", "x")).as("deny").isEqualTo(Sec.badCredentials(level));
            assertThat(code(HTTP, level, "forbidden", "x")).as("403").isEqualTo(Sec.badCredentials(level));
            assertThat(code(HTTP, level, "carol", "x")).as("ignore, alone").isEqualTo(Sec.badCredentials(level));
            assertThat(code(HTTP, level, "garbage", "x")).as("garbage: on-failure deny")
                    .isEqualTo(Sec.notAuthorized(level));
            assertThat(code(HTTP, level, "broken", "x")).as("500: on-failure deny")
                    .isEqualTo(Sec.notAuthorized(level));
            assertThat(code(HTTP, level, "huge", "x")).as("an answer over 64 KiB: on-failure deny")
                    .isEqualTo(Sec.notAuthorized(level));
        }
        JsonNode sent = LAST.get("alice");
        assertThat(sent.path("username").asText()).isEqualTo("alice");
        assertThat(sent.path("password").asText()).isEqualTo("secret-5");
        assertThat(sent.path("clientId").asText()).startsWith("http-");
        assertThat(sent.path("address").asText()).isEqualTo("127.0.0.1");
        assertThat(sent.path("listener").asText()).isEqualTo("tcp:0");
        assertThat(sent.has("certificate")).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theUserAndAttributesOfTheAnswerAreWhatTheAclSees(Kind kind) throws Exception {
        try (SecClient alice = SecClient.connect(kind, broker.port(HTTP), id(), "alice", "pw-" + kind)) {
            assertThat(alice.subscribe("sites/berlin/alice-http/#")).isLessThan(0x80);
            assertThat(alice.subscribe("sites/berlin/alice/#")).isGreaterThanOrEqualTo(0x80);
        }
        // an attribute "#" does not make sites/%{site}/%u/# a wildcard
        try (SecClient hostile = SecClient.connect(kind, broker.port(HTTP), id(), "hostile", "pw-" + kind)) {
            assertThat(hostile.subscribe("sites/+/hostile/#")).isGreaterThanOrEqualTo(0x80);
            assertThat(hostile.subscribe("sites/berlin/hostile/#")).isGreaterThanOrEqualTo(0x80);
        }
    }

    @Test
    void mosquittoPubIsAllowedAndDeniedByTheService() throws Exception {
        for (String version : new String[] {"mqttv311", "mqttv5"}) {
            assertThat(mosquittoPub("alice", version)).as(version).isZero();
            assertThat(mosquittoPub("bob", version)).as(version).isNotZero();
        }
    }

    private static int mosquittoPub(String user, String version) throws Exception {
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port(HTTP)),
                "-i", id(), "-u", user, "-P", "pw", "-t", "public/m", "-m", "x", "-q", "1", "-V", version)
                .redirectErrorStream(true).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertThat(p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    @Test
    void answersAreCachedForTheSameCredentials() {
        // the key is listener, client id, user, password, certificate and address: a reconnecting client hits it
        int port = broker.port(HTTP);
        assertThat(Sec.connackCode(port, 5, "cache-client", "alice", "same")).isZero();
        int alice = REQUESTS.get("alice").get();
        for (int i = 0; i < 5; i++) {
            assertThat(Sec.connackCode(port, 5, "cache-client", "alice", "same")).isZero();
        }
        assertThat(REQUESTS.get("alice").get()).isEqualTo(alice);
        assertThat(Sec.connackCode(port, 5, "cache-client", "alice", "other")).isZero();
        assertThat(REQUESTS.get("alice").get()).as("another password is asked").isEqualTo(alice + 1);
        // denials are answers too: cached
        assertThat(Sec.connackCode(port, 5, "cache-client", "bob", "x")).isEqualTo(0x86);
        int bob = REQUESTS.get("bob").get();
        assertThat(Sec.connackCode(port, 5, "cache-client", "bob", "x")).isEqualTo(0x86);
        assertThat(REQUESTS.get("bob").get()).isEqualTo(bob);
    }

    @Test
    void aStalledServiceTimesOutWhileOtherClientsAreAnswered() throws Exception {
        try (RawClient slow = RawClient.connect("127.0.0.1", broker.port(HTTP))) {
            slow.send(Sec.connect(5, id(), "slow", "pw"));
            // other clients are not held up by the stalled request: answered while it waits
            for (int i = 0; i < 5; i++) {
                assertThat(code(HTTP, 5, "plain", "p" + i)).isZero();
            }
            assertThat(slow.readPacket(Duration.ZERO)).as("still waiting for the service").isNull();
            byte[] connack = slow.readPacket(Duration.ofSeconds(10));
            assertThat(connack).isNotNull();
            assertThat(connack[3] & 0xFF).as("timeout, on-failure deny").isEqualTo(0x87);
        }
        // with on-failure ignore the chain goes on to the password file
        assertThat(code(IGNORING, 4, "slow", "pw")).isEqualTo(Sec.badCredentials(4));
    }

    @Test
    void aServiceThatIsDownMakesTheBrokerUnavailableForThoseClients() {
        assertThat(code(DOWN, 5, "alice", "pw")).isEqualTo(0x88);
        assertThat(code(DOWN, 4, "alice", "pw")).isEqualTo(0x03);
    }

    @Test
    void aServiceThatHangsUpWithoutAnAnswerIsAFailure() {
        assertThat(code(HANGUP, 5, "alice", "pw")).as("on-failure deny").isEqualTo(0x87);
        assertThat(code(HANGUP, 4, "alice", "pw")).isEqualTo(0x05);
    }

    @Test
    void requestsInFlightAreBoundedAndClientsBeyondGetServerBusy() throws Exception {
        int before = REQUESTS.computeIfAbsent("slow", u -> new AtomicInteger()).get();
        try (RawClient slow = RawClient.connect("127.0.0.1", broker.port(TINY))) {
            slow.send(Sec.connect(5, id(), "slow", "pw")); // holds the one request allowed
            // until the service has the slow request, "plain" may still get through: wait for it to be in flight
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> REQUESTS.get("slow").get() > before);
            assertThat(code(TINY, 5, "plain", "x")).as("5.0: Server busy").isEqualTo(0x89);
            assertThat(code(TINY, 4, "plain", "x")).as("3.1.1: server unavailable").isEqualTo(0x03);
            byte[] connack = slow.readPacket(Duration.ofSeconds(10));
            assertThat(connack).isNotNull();
            assertThat(connack[3] & 0xFF).isEqualTo(0x87);
        }
        assertThat(code(TINY, 5, "plain", "x")).as("free again").isZero();
    }

    @Test
    void theChainAsksInOrderAndTheFirstAnswerDecides() {
        // listener CHAIN: password file, then HTTP
        int alice = REQUESTS.computeIfAbsent("pwuser", u -> new AtomicInteger()).get();
        assertThat(code(CHAIN, 5, "pwuser", "pw")).as("the password file knows pwuser").isZero();
        assertThat(code(CHAIN, 5, "pwuser", "wrong")).as("and decides: no HTTP").isEqualTo(0x86);
        assertThat(REQUESTS.get("pwuser").get()).isEqualTo(alice);
        assertThat(code(CHAIN, 5, "alice", "any")).as("unknown to the file: the service decides").isZero();
        assertThat(code(CHAIN, 5, "carol", "x")).as("carol is in the file: her wrong password decides")
                .isEqualTo(0x86);
        assertThat(code(CHAIN, 5, "nobody", "x")).as("all ignore: refused").isEqualTo(0x86);
        // listener IGNORING: the service first (it ignores carol), then the password file
        assertThat(code(IGNORING, 5, "carol", "carols-password")).isZero();
    }
}
