package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.auth.PasswordFileAuthenticator;
import io.starling.broker.config.SecurityConfig;
import io.starling.it.spec.Wire;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bursts of concurrent logins from one address against the password file at its real cost (210,000 iterations): the
 * failed-login limit counts checks in progress, so a burst runs at most the limit's number of checks and the rest
 * are refused before any work; password checks are queued per address and taken in turn, so a burst from
 * 127.0.0.2 does not hold up a login from 127.0.0.1; and a client that disconnects while its password is checked
 * still has the failure counted. (Loopback answers on all of 127/8, so the burst comes from 127.0.0.2.)
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LoginBurstTest {

    private static final String BURST_ADDRESS = "127.0.0.2";

    @TempDir
    Path tmp;

    private StarlingServer server;
    private final List<RawClient> open = new ArrayList<>();

    @AfterEach
    void stop() {
        open.forEach(RawClient::close);
        if (server != null) {
            server.close();
        }
    }

    private PasswordFileAuthenticator authenticator() {
        return server.passwordFiles().values().iterator().next();
    }

    private static String id() {
        return "c-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Opens {@code n} connections from {@code from}, then sends each a CONNECT with a wrong password. */
    private List<RawClient> burst(int n, String from, boolean alternateVersions) {
        List<RawClient> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RawClient c = RawClient.connectFrom(from, "127.0.0.1", server.port());
            open.add(c);
            clients.add(c);
        }
        for (int i = 0; i < n; i++) {
            clients.get(i).send(Wire.toBytes(Sec.connect(level(i, alternateVersions), id(), "alice", "guess-" + i)));
        }
        return clients;
    }

    private static int level(int i, boolean alternateVersions) {
        return alternateVersions && i % 2 == 1 ? 4 : 5;
    }

    /** The CONNACK code if one has arrived, else {@code null}; does not wait for one to begin. */
    private static Integer poll(RawClient c) {
        if (c.available() == 0) {
            return null;
        }
        byte[] p = c.readPacket(Duration.ofSeconds(10));
        assertThat(p).isNotNull();
        assertThat(p[0] & 0xFF).as("CONNACK").isEqualTo(0x20);
        return p[3] & 0xFF;
    }

    /** Polls every client of {@code clients} not answered yet; records answers in {@code answers}. */
    private static void pollAll(List<RawClient> clients, Map<Integer, Integer> answers) {
        for (int i = 0; i < clients.size(); i++) {
            if (!answers.containsKey(i)) {
                Integer code = poll(clients.get(i));
                if (code != null) {
                    answers.put(i, code);
                }
            }
        }
    }

    // 100 concurrent bad logins from one address with a limit of 10: at most 10 password checks run, as many clients
    // get "bad user name or password" as checks ran, and every other one is refused without a check: 0x9F Connection
    // rate exceeded (3.1.1: 0x03 Server unavailable) while checks are in progress, 0x8A Banned (3.1.1: 0x05) once
    // the address is blocked. Afterwards the address is blocked even for the right password; others are not.
    @Test
    void aBurstOfBadLoginsRunsAtMostTheLimitOfPasswordChecks() {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), 210_000, "alice", "wonderland");
        server = Sec.start(tmp, b -> b.passwordFile(passwd));
        List<RawClient> burst = burst(100, BURST_ADDRESS, true);
        Map<Integer, Integer> answers = new HashMap<>();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(10)).until(() -> {
            pollAll(burst, answers);
            return answers.size() == burst.size();
        });
        long checks = authenticator().verifications();
        assertThat(checks).as("password checks run").isBetween(1L, 10L);
        int badCredentials = 0;
        for (Map.Entry<Integer, Integer> e : answers.entrySet()) {
            boolean v5 = level(e.getKey(), true) == 5;
            int code = e.getValue();
            assertThat(code).as("answer to CONNECT " + e.getKey())
                    .isIn(v5 ? Set.of(0x86, 0x9F, 0x8A) : Set.of(0x04, 0x03, 0x05));
            if (code == 0x86 || code == 0x04) {
                badCredentials++;
            }
        }
        assertThat(badCredentials).as("one answer per check").isEqualTo((int) checks);
        assertThat(Sec.connackCode(server.port(), 5, id(), "alice", "guess")).as("127.0.0.1 is not blocked")
                .isEqualTo(0x86);
        RawClient again = RawClient.connectFrom(BURST_ADDRESS, "127.0.0.1", server.port());
        open.add(again);
        assertThat(Sec.connack(again, 5, id(), "alice", "wonderland")).as("127.0.0.2 is blocked").isEqualTo(0x8A);
    }

    // While 100 bad logins from 127.0.0.2 wait for their checks, a good login from 127.0.0.1 gets CONNACK 0 before
    // the burst is through: the checks are taken per address in turn. With the failed-login limit (10) and without
    // it (0, where only the per-address share of the queue holds the burst back).
    @ParameterizedTest(name = "auth-failure-limit {0}")
    @ValueSource(ints = {10, 0})
    void aBurstFromOneAddressDoesNotStarveTheLoginOfAnother(int limit) {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), 210_000, "alice", "wonderland");
        server = Sec.start(tmp, b -> b.security(SecurityConfig.defaults().withPasswordFile(passwd)
                .withAuthFailureLimit(limit, Duration.ofSeconds(60), Duration.ofSeconds(60))));
        List<RawClient> burst = burst(100, BURST_ADDRESS, false);
        Map<Integer, Integer> answers = new HashMap<>();
        // the CONNECTs refused at once have been answered: the burst is in the broker, its checks queued or running
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(10)).until(() -> {
            pollAll(burst, answers);
            return answers.size() >= 80;
        });

        RawClient good = RawClient.connectFrom("127.0.0.1", "127.0.0.1", server.port());
        open.add(good);
        assertThat(Sec.connack(good, 5, id(), "alice", "wonderland")).as("the good login").isZero();
        pollAll(burst, answers);
        assertThat(burst.size() - answers.size()).as("burst logins still waiting for their check when the good one "
                + "was through (answers " + answers.values() + ", checks " + authenticator().verifications() + ")")
                .isPositive();
        good.send(0xC0, 0x00).expectPacket(0xD0, 0x00);
        assertThat(answers.values()).doesNotContain(0x00);
    }

    // A client that sends a bad CONNECT and disconnects at once: a check that has started is counted as a failure
    // when it ends, one that has not is dropped unrun. 40 such clients from one address: at most the limit of checks.
    @Test
    void loginsAbandonedWhileTheirPasswordIsCheckedStillCount() throws Exception {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "wonderland");
        server = Sec.start(tmp, b -> b.passwordFile(passwd));
        InetAddress from = InetAddress.getByName("127.0.0.3");
        for (int i = 0; i < 40; i++) {
            try (RawClient c = RawClient.connectFrom("127.0.0.3", "127.0.0.1", server.port())) {
                c.send(Wire.toBytes(Sec.connect(5, id(), "alice", "guess-" + i)));
            }
        }
        RawClient last = RawClient.connectFrom("127.0.0.3", "127.0.0.1", server.port());
        open.add(last);
        int code = Sec.connack(last, 5, id(), "alice", "guess");
        await().atMost(Duration.ofSeconds(30)).until(() -> server.authFailureLimiter().inFlight(from) == 0);
        assertThat(authenticator().verifications()).as("checks run for 41 attempts").isLessThanOrEqualTo(10);
        assertThat(code).isIn(0x86, 0x9F, 0x8A);
    }
}
