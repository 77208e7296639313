package io.starling.it.security;

import static io.starling.it.security.Sec.connackCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.auth.AuthRequest;
import io.starling.broker.auth.AuthResult;
import io.starling.broker.auth.Authenticator;
import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link Authenticator} SPI with an authenticator of the embedding application (as an HTTP or JWT backend
 * would be): what it is given, how each answer becomes a CONNACK, answers that arrive later from another thread, and
 * the cancellation of a pending check when the client goes away.
 */
class AuthenticatorSpiTest {

    @TempDir
    Path tmp;

    private StarlingServer server;
    private final BlockingQueue<AuthRequest> requests = new LinkedBlockingQueue<>();
    private final BlockingQueue<CompletableFuture<AuthResult>> pending = new LinkedBlockingQueue<>();

    /** Decides by user name: ok → allowed as "mapped-ok", bad, denied, boom (fails), later (answered by the test). */
    private final Authenticator backend = new Authenticator() {
        @Override
        public CompletionStage<AuthResult> authenticate(AuthRequest r) {
            requests.add(r);
            return switch (r.username()) {
                case "ok" -> CompletableFuture.completedFuture(AuthResult.allow("mapped-" + r.username()));
                case "bad" -> CompletableFuture.completedFuture(AuthResult.badCredentials());
                case "denied" -> CompletableFuture.completedFuture(AuthResult.notAuthorized());
                case "boom" -> CompletableFuture.failedFuture(new IllegalStateException("backend down"));
                default -> {
                    CompletableFuture<AuthResult> f = new CompletableFuture<>();
                    pending.add(f);
                    yield f;
                }
            };
        }
    };

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private int start() throws Exception {
        server = StarlingServer.start(BrokerConfig.builder().port(0).dataDir(Files.createTempDirectory(tmp, "d")).build(),
                backend);
        return server.port();
    }

    @Test
    void theAnswersBecomeConnackCodes() throws Exception {
        int port = start();
        assertThat(connackCode(port, 4, "c1", "ok", "pw")).isZero();
        AuthRequest r = requests.take();
        assertThat(r.clientId()).isEqualTo("c1");
        assertThat(r.username()).isEqualTo("ok");
        assertThat(new String(r.password(), StandardCharsets.UTF_8)).isEqualTo("pw");
        assertThat(r.listener().describe()).startsWith("tcp listener 127.0.0.1:");
        assertThat(r.remoteAddress().getAddress().isLoopbackAddress()).isTrue();
        assertThat(r.certificate()).isNull();
        assertThat(r.toString()).doesNotContain("pw");
        assertThat(connackCode(port, 4, "c2", "bad", "pw")).isEqualTo(0x04);
        assertThat(connackCode(port, 5, "c2", "bad", "pw")).isEqualTo(0x86);
        assertThat(connackCode(port, 4, "c3", "denied", "pw")).isEqualTo(0x05);
        assertThat(connackCode(port, 5, "c3", "denied", "pw")).isEqualTo(0x87);
        assertThat(connackCode(port, 4, "c4", "boom", "pw")).as("server unavailable").isEqualTo(0x03);
        assertThat(connackCode(port, 5, "c4", "boom", "pw")).as("server unavailable").isEqualTo(0x88);
        // no user name on a listener with an authenticator and without allow-anonymous: not asked, refused
        requests.clear();
        assertThat(connackCode(port, 5, "c5", null, null)).isEqualTo(0x87);
        assertThat(requests).isEmpty();
    }

    @Test
    void anAnswerFromAnotherThreadLaterCompletesTheConnect() throws Exception {
        int port = start();
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            c.send(Sec.connect(5, "later", "later", "pw"));
            CompletableFuture<AuthResult> f = pending.take();
            assertThat(c.readPacket(Duration.ofMillis(200))).as("no CONNACK before the answer").isNull();
            new Thread(() -> f.complete(AuthResult.allow("someone"))).start();
            byte[] connack = c.readPacket(Duration.ofSeconds(10));
            assertThat(connack[0] & 0xFF).isEqualTo(0x20);
            assertThat(connack[3] & 0xFF).isZero();
        }
    }

    @Test
    void aClientThatGoesAwayCancelsItsPendingCheck() throws Exception {
        int port = start();
        CompletableFuture<AuthResult> f;
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            c.send(Sec.connect(4, "gone", "later", "pw"));
            f = pending.take();
        }
        await().atMost(Duration.ofSeconds(10)).until(f::isCancelled);
    }

    // Checks of any authenticator count against the failed-login limit while they are in progress: with ten
    // unanswered ones from an address, the eleventh CONNECT is refused with 0x9F at once. When the connect timeout
    // closes the ten, their checks are cancelled and no longer count: the address logs in again.
    @Test
    void unansweredChecksCountWhileInProgressAndStopCountingWhenCancelled() throws Exception {
        server = StarlingServer.start(BrokerConfig.builder().port(0).dataDir(Files.createTempDirectory(tmp, "d"))
                .connectTimeout(Duration.ofSeconds(1)).build(), backend);
        int port = server.port();
        java.util.List<RawClient> waiting = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 10; i++) {
                RawClient c = RawClient.connect("127.0.0.1", port);
                waiting.add(c);
                c.send(Sec.connect(5, "wait-" + i, "later", "pw"));
                pending.take();
            }
            assertThat(connackCode(port, 5, "eleventh", "ok", "pw")).as("Connection rate exceeded").isEqualTo(0x9F);
            assertThat(connackCode(port, 4, "eleventh", "ok", "pw")).as("3.1.1: server unavailable").isEqualTo(0x03);
            for (RawClient c : waiting) {
                assertThat(c.awaitClosed(Duration.ofSeconds(10))).as("closed at the connect timeout").isTrue();
            }
            java.net.InetAddress loopback = java.net.InetAddress.getByName("127.0.0.1");
            await().atMost(Duration.ofSeconds(10)).until(() -> server.authFailureLimiter().inFlight(loopback) == 0);
            assertThat(connackCode(port, 5, "again", "ok", "pw")).isZero();
        } finally {
            waiting.forEach(RawClient::close);
        }
    }
}
