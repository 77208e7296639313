package io.starling.broker.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

class ChainAuthenticatorTest {

    private static final AuthRequest REQUEST = new AuthRequest(null, "c1", "alice", new byte[] {1}, null, null);

    /** An authenticator that answers {@code answer} and records that it was asked. */
    private static Authenticator answering(List<String> asked, String name, CompletableFuture<AuthResult> answer) {
        return r -> {
            asked.add(name);
            return answer;
        };
    }

    @Test
    void theFirstAnswerThatIsNotIgnoreDecidesAndLaterOnesAreNotAsked() throws Exception {
        List<String> asked = new ArrayList<>();
        ChainAuthenticator chain = new ChainAuthenticator(List.of(
                answering(asked, "a", CompletableFuture.completedFuture(AuthResult.ignore())),
                answering(asked, "b", CompletableFuture.completedFuture(AuthResult.badCredentials())),
                answering(asked, "c", CompletableFuture.completedFuture(AuthResult.allow("x")))));
        assertThat(chain.authenticate(REQUEST).toCompletableFuture().get()).isEqualTo(AuthResult.badCredentials());
        assertThat(asked).containsExactly("a", "b");
    }

    @Test
    void allIgnoringIsIgnore() throws Exception {
        List<String> asked = new ArrayList<>();
        ChainAuthenticator chain = new ChainAuthenticator(List.of(
                answering(asked, "a", CompletableFuture.completedFuture(AuthResult.ignore())),
                answering(asked, "b", CompletableFuture.completedFuture(AuthResult.ignore()))));
        assertThat(chain.authenticate(REQUEST).toCompletableFuture().get().outcome())
                .isEqualTo(AuthResult.Outcome.IGNORE);
        assertThat(asked).containsExactly("a", "b");
    }

    @Test
    void aFailingBackendFailsTheChain() {
        List<String> asked = new ArrayList<>();
        ChainAuthenticator chain = new ChainAuthenticator(List.of(
                answering(asked, "a", CompletableFuture.failedFuture(new IllegalStateException("down"))),
                answering(asked, "b", CompletableFuture.completedFuture(AuthResult.allow("x")))));
        Assertions.assertThatThrownBy(() -> chain.authenticate(REQUEST).toCompletableFuture().get())
                .isInstanceOf(ExecutionException.class).hasMessageContaining("down");
        assertThat(asked).containsExactly("a");
    }

    @Test
    void cancellingTheChainCancelsTheStageWaitedForAndAsksNoFurther() {
        List<String> asked = new ArrayList<>();
        CompletableFuture<AuthResult> pending = new CompletableFuture<>();
        ChainAuthenticator chain = new ChainAuthenticator(List.of(
                answering(asked, "a", pending),
                answering(asked, "b", CompletableFuture.completedFuture(AuthResult.allow("x")))));
        CompletableFuture<AuthResult> run = chain.authenticate(REQUEST).toCompletableFuture();
        assertThat(run.cancel(false)).isTrue();
        assertThat(pending).isCancelled();
        assertThat(asked).containsExactly("a");
    }

    @Test
    void attributesAndExpiryBelongToAllowOnly() {
        AuthResult allow = AuthResult.allow("u", java.util.Map.of("tenant", "acme"), 42);
        assertThat(allow.attributes()).containsEntry("tenant", "acme");
        assertThat(allow.expiresAtMillis()).isEqualTo(42);
        assertThat(new AuthResult(AuthResult.Outcome.BAD_CREDENTIALS, null, java.util.Map.of("a", "b"), 5).attributes())
                .isEmpty();
        Assertions.assertThatThrownBy(() -> new AuthResult(AuthResult.Outcome.IGNORE, "u"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
