package io.starling.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.starling.broker.auth.AuthFailureLimiter;
import io.starling.broker.auth.PasswordFile;
import io.starling.broker.auth.PasswordHash;
import io.starling.broker.config.AdminConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Basic against the password file (hashes computed on the verifier, good ones remembered), bearer tokens. */
class AdminAuthTest {

    @TempDir
    Path tmp;

    /** Runs at once, counting the hashes computed. */
    private final AtomicInteger hashes = new AtomicInteger();
    private final Executor verifier = r -> {
        hashes.incrementAndGet();
        r.run();
    };

    private static HttpHeaders auth(String value) {
        HttpHeaders h = new DefaultHttpHeaders();
        if (value != null) {
            h.set("Authorization", value);
        }
        return h;
    }

    private static String basic(String user, String pw) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + pw).getBytes(StandardCharsets.UTF_8));
    }

    private AdminAuth.Result check(AdminAuth a, String header) {
        return a.check(auth(header), null).toCompletableFuture().join();
    }

    @Test
    void withoutCredentialsConfiguredEverythingIsAllowed() {
        AdminAuth a = AdminAuth.of(AdminConfig.loopback(0), null, verifier);
        assertThat(a.required()).isFalse();
        assertThat(check(a, null).allowed()).isTrue();
    }

    @Test
    void basicOfAListedUserIsCheckedOnceThenRemembered() throws Exception {
        Path pw = tmp.resolve("passwd");
        PasswordFile.empty().with("ops", PasswordHash.create("s3cret".toCharArray(), PasswordHash.MIN_ITERATIONS))
                .with("other", PasswordHash.create("x".toCharArray(), PasswordHash.MIN_ITERATIONS)).write(pw);
        AdminAuth a = AdminAuth.of(AdminConfig.loopback(0).withUsers(List.of("ops")), pw, verifier);
        assertThat(a.required()).isTrue();
        assertThat(check(a, null).allowed()).isFalse();
        assertThat(check(a, basic("ops", "wrong")).allowed()).isFalse();
        assertThat(hashes.get()).isEqualTo(1);
        assertThat(check(a, basic("ops", "wrong")).allowed()).as("a failure is not remembered").isFalse();
        assertThat(hashes.get()).isEqualTo(2);
        AdminAuth.Result ok = check(a, basic("ops", "s3cret"));
        assertThat(ok.allowed()).isTrue();
        assertThat(ok.user()).isEqualTo("ops");
        assertThat(hashes.get()).isEqualTo(3);
        for (int i = 0; i < 5; i++) {
            assertThat(check(a, basic("ops", "s3cret")).allowed()).isTrue();
        }
        assertThat(hashes.get()).as("remembered for a minute").isEqualTo(3);
        assertThat(check(a, basic("other", "x")).allowed()).as("not listed in admin: users").isFalse();
        assertThat(check(a, "Basic !!!").allowed()).isFalse();
        assertThat(check(a, "Digest x").allowed()).isFalse();
    }

    @Test
    void bearerTokensOfTheTokenFile() throws Exception {
        Path tokens = tmp.resolve("tokens");
        Files.writeString(tokens, "# comment\n\n  first-token  \nsecond-token\n");
        AdminAuth a = AdminAuth.of(AdminConfig.loopback(0).withTokenFile(tokens), null, verifier);
        assertThat(check(a, "Bearer first-token").allowed()).isTrue();
        assertThat(check(a, "bearer second-token").user()).isEqualTo("token");
        assertThat(check(a, "Bearer second-token").allowed()).isTrue();
        assertThat(check(a, "Bearer # comment").allowed()).isFalse();
        assertThat(check(a, "Bearer first").allowed()).isFalse();
        assertThat(check(a, "Bearer ").allowed()).isFalse();
        assertThat(check(a, basic("first-token", "")).allowed()).isFalse();
        assertThat(hashes.get()).as("no hash for tokens").isZero();
    }

    @Test
    void badCredentialsBlockTheirAddressForAWhileWithoutLookingAtLaterOnes() throws Exception {
        Path tokens = tmp.resolve("tokens");
        Files.writeString(tokens, "good-token\n");
        AtomicLong now = new AtomicLong();
        AuthFailureLimiter limiter = new AuthFailureLimiter(3, Duration.ofSeconds(60), Duration.ofSeconds(30), now::get);
        AdminAuth a = AdminAuth.of(AdminConfig.loopback(0).withTokenFile(tokens), null, verifier, limiter);
        InetSocketAddress attacker = new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 40000);
        InetSocketAddress other = new InetSocketAddress(InetAddress.getByName("192.0.2.8"), 40000);
        assertThat(check(a, null, attacker).allowed()).as("no credentials at all: not a failure").isFalse();
        for (int i = 0; i < 3; i++) {
            AdminAuth.Result r = check(a, "Bearer guess-" + i, attacker);
            assertThat(r.allowed()).isFalse();
            assertThat(r.blocked()).isFalse();
        }
        AdminAuth.Result blocked = check(a, "Bearer good-token", attacker);
        assertThat(blocked.allowed()).as("blocked: even the right token is refused").isFalse();
        assertThat(blocked.blocked()).isTrue();
        assertThat(a.tooManyFailures().status().code()).isEqualTo(429);
        assertThat(a.tooManyFailures().headers().get("Retry-After")).isEqualTo("30");
        assertThat(check(a, "Bearer good-token", other).allowed()).as("other addresses are not affected").isTrue();
        now.addAndGet(Duration.ofSeconds(31).toNanos());
        assertThat(check(a, "Bearer good-token", attacker).allowed()).as("after the block").isTrue();
    }

    private AdminAuth.Result check(AdminAuth a, String header, InetSocketAddress remote) {
        return a.check(auth(header), remote).toCompletableFuture().join();
    }
}
