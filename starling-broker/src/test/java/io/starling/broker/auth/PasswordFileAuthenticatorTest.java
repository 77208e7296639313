package io.starling.broker.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasswordFileAuthenticatorTest {

    @TempDir
    Path tmp;

    /** One thread, four places in the queue, all of them usable by requests without an address. */
    private final ExecutorService verifier = new VerifierPool(1, 4, 4);

    @AfterEach
    void stop() {
        verifier.shutdownNow();
    }

    private Path file(String... userPasswordPairs) throws Exception {
        Path f = tmp.resolve("passwd");
        write(f, userPasswordPairs);
        return f;
    }

    private static void write(Path f, String... userPasswordPairs) throws Exception {
        PasswordFile pf = PasswordFile.empty();
        for (int i = 0; i < userPasswordPairs.length; i += 2) {
            pf = pf.with(userPasswordPairs[i], PasswordHash.create(userPasswordPairs[i + 1].toCharArray(), 1000));
        }
        pf.write(f);
        // a distinct modification time even on coarse file systems
        Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis() + System.nanoTime() % 100_000));
    }

    private static AuthResult auth(Authenticator a, String user, String password) throws Exception {
        AuthRequest r = new AuthRequest(null, "c1", user, password == null ? null : password.getBytes(UTF_8), null,
                new InetSocketAddress("127.0.0.1", 40000));
        return a.authenticate(r).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void rightPasswordAllowsWrongOrUnknownIsBadCredentials() throws Exception {
        PasswordFileAuthenticator a = new PasswordFileAuthenticator(file("alice", "pw-a", "bob", "pw-b"), verifier);
        assertThat(auth(a, "alice", "pw-a")).isEqualTo(AuthResult.allow("alice"));
        assertThat(auth(a, "bob", "pw-b")).isEqualTo(AuthResult.allow("bob"));
        assertThat(auth(a, "alice", "pw-b")).isEqualTo(AuthResult.badCredentials());
        assertThat(auth(a, "carol", "pw-a")).isEqualTo(AuthResult.badCredentials());
        assertThat(auth(a, "alice", null)).isEqualTo(AuthResult.badCredentials());
        assertThat(auth(a, null, "pw-a")).isEqualTo(AuthResult.notAuthorized());
        assertThat(a.verifications()).as("the unknown user costs a verification too").isEqualTo(4);
    }

    @Test
    void successfulVerificationsAreCachedFailuresAreNot() throws Exception {
        PasswordFileAuthenticator a = new PasswordFileAuthenticator(file("alice", "pw-a"), verifier);
        assertThat(auth(a, "alice", "pw-a").allowed()).isTrue();
        long after = a.verifications();
        for (int i = 0; i < 20; i++) {
            assertThat(auth(a, "alice", "pw-a").allowed()).isTrue();
        }
        assertThat(a.verifications()).isEqualTo(after);
        auth(a, "alice", "wrong");
        auth(a, "alice", "wrong");
        assertThat(a.verifications()).isEqualTo(after + 2);
    }

    @Test
    void reloadTakesChangesAndEmptiesTheCache() throws Exception {
        Path f = file("alice", "old");
        PasswordFileAuthenticator a = new PasswordFileAuthenticator(f, verifier);
        assertThat(auth(a, "alice", "old").allowed()).isTrue();
        write(f, "alice", "new", "bob", "b");
        assertThat(a.file().reloadIfChanged()).isTrue();
        assertThat(a.file().version()).isEqualTo(2);
        assertThat(auth(a, "alice", "old")).as("a cached old password no longer works").isEqualTo(AuthResult.badCredentials());
        assertThat(auth(a, "alice", "new").allowed()).isTrue();
        assertThat(auth(a, "bob", "b").allowed()).isTrue();
        assertThat(a.file().reloadIfChanged()).as("unchanged file").isFalse();
    }

    @Test
    void brokenOrMissingFileKeepsTheOldUsers() throws Exception {
        Path f = file("alice", "pw");
        PasswordFileAuthenticator a = new PasswordFileAuthenticator(f, verifier);
        Files.writeString(f, "alice:$pbkdf2-sha512$broken\n");
        assertThat(a.file().reloadIfChanged()).isFalse();
        assertThat(a.file().failures()).isEqualTo(1);
        assertThat(a.file().lastError()).contains("line 1");
        assertThat(a.file().reloadIfChanged()).as("the same broken file is reported once").isFalse();
        assertThat(a.file().failures()).isEqualTo(1);
        assertThat(auth(a, "alice", "pw").allowed()).isTrue();
        Files.delete(f);
        assertThat(a.file().reloadIfChanged()).isFalse();
        assertThat(a.file().lastError()).contains("no such file");
        assertThat(auth(a, "alice", "pw").allowed()).isTrue();
        write(f, "bob", "b");
        assertThat(a.file().reloadIfChanged()).isTrue();
        assertThat(a.file().lastError()).isNull();
        assertThat(auth(a, "alice", "pw")).isEqualTo(AuthResult.badCredentials());
    }

    @Test
    void aBrokenFileAtStartIsAnError() throws Exception {
        Path f = tmp.resolve("bad");
        Files.writeString(f, "nonsense\n");
        assertThatThrownBy(() -> new PasswordFileAuthenticator(f, verifier))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(f.toString()).hasMessageContaining("line 1");
        assertThatThrownBy(() -> new PasswordFileAuthenticator(tmp.resolve("missing"), verifier))
                .hasMessageContaining("no such file");
    }

    @Test
    void aFullVerifierQueueRefusesAndCancelledRequestsAreSkipped() throws Exception {
        Path f = file("alice", "pw");
        PasswordFileAuthenticator a = new PasswordFileAuthenticator(f, verifier);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        verifier.execute(() -> {
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        // the queue counts what waits: the blocker must have left it for the thread
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        AuthRequest r = new AuthRequest(null, "c", "alice", "pw".getBytes(UTF_8), null, null);
        CompletableFuture<AuthResult> first = a.authenticate(r).toCompletableFuture();
        for (int i = 0; i < 3; i++) {
            a.authenticate(r);
        }
        CompletableFuture<AuthResult> rejected = a.authenticate(r).toCompletableFuture();
        assertThatThrownBy(rejected::get).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(RejectedExecutionException.class);
        first.cancel(false);
        // the cancelled check gave its place back: another one fits in the queue
        CompletableFuture<AuthResult> after = a.authenticate(r).toCompletableFuture();
        assertThat(after).isNotCompletedExceptionally();
        long before = a.verifications();
        release.countDown();
        verifier.shutdown();
        assertThat(verifier.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(a.verifications()).as("the cancelled request was skipped").isEqualTo(before + 4);
        assertThat(after.join()).isEqualTo(AuthResult.allow("alice"));
    }

    // A verification that has started is not stopped by cancelling its stage: it completes with its result, so that
    // a failed login costs the client its attempt even if it disconnects while its password is checked. One that is
    // cancelled while it waits never runs.
    @Test
    void aVerificationIsCancelledOnlyWhileItWaits() {
        PasswordFileAuthenticator.Verification running = new PasswordFileAuthenticator.Verification();
        assertThat(running.start()).isTrue();
        assertThat(running.cancel(false)).isFalse();
        assertThat(running.isCancelled()).isFalse();
        running.complete(AuthResult.badCredentials());
        assertThat(running.join()).isEqualTo(AuthResult.badCredentials());

        PasswordFileAuthenticator.Verification waiting = new PasswordFileAuthenticator.Verification();
        assertThat(waiting.cancel(false)).isTrue();
        assertThat(waiting.isCancelled()).isTrue();
        assertThat(waiting.start()).as("the check is skipped").isFalse();
    }
}
