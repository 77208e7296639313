package io.starling.broker.auth;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Authenticators asked in order: the first that does not answer {@link AuthResult.Outcome#IGNORE} decides; when
 * all ignore, the chain answers IGNORE (the connection handler then lets the client in as anonymous if the listener
 * allows it, else refuses it as with bad credentials). A backend whose stage fails makes the chain fail (the client
 * gets 0x88 Server unavailable / 0x03), unless the backend maps its own failures to an answer (see the HTTP
 * backend's {@code on-failure}).
 *
 * <p>The next authenticator is asked on the thread that completed the previous stage, which is never an event loop
 * unless that stage completed at once (every authenticator returns at once, so this never blocks). Cancelling the
 * returned stage (the client went away) cancels the stage being waited for and asks no further authenticator.
 *
 * <p>Thread-safety: thread-safe if its authenticators are.
 */
public final class ChainAuthenticator implements Authenticator {

    private final List<Authenticator> chain;

    /** @param chain the authenticators in the order they are asked; at least one */
    public ChainAuthenticator(List<? extends Authenticator> chain) {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("an authentication chain needs at least one backend");
        }
        this.chain = List.copyOf(chain);
    }

    /** The authenticators in order. */
    public List<Authenticator> chain() {
        return chain;
    }

    @Override
    public CompletionStage<AuthResult> authenticate(AuthRequest request) {
        Run run = new Run(request);
        run.ask(0);
        return run;
    }

    /** One authentication through the chain. */
    private final class Run extends CompletableFuture<AuthResult> {
        private final AuthRequest request;
        private volatile CompletableFuture<AuthResult> current;

        Run(AuthRequest request) {
            this.request = request;
        }

        void ask(int index) {
            if (isDone()) {
                return; // cancelled meanwhile
            }
            if (index >= chain.size()) {
                complete(AuthResult.ignore());
                return;
            }
            CompletableFuture<AuthResult> stage;
            try {
                stage = chain.get(index).authenticate(request).toCompletableFuture();
            } catch (RuntimeException e) {
                completeExceptionally(e);
                return;
            }
            current = stage;
            stage.whenComplete((result, error) -> {
                if (error != null) {
                    completeExceptionally(error);
                } else if (result == null || result.outcome() == AuthResult.Outcome.IGNORE) {
                    ask(index + 1);
                } else {
                    complete(result);
                }
            });
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            CompletableFuture<AuthResult> c = current;
            if (cancelled && c != null) {
                c.cancel(mayInterruptIfRunning);
            }
            return cancelled;
        }
    }

    @Override
    public void close() {
        for (Authenticator a : chain) {
            a.close();
        }
    }

    @Override
    public String toString() {
        return "ChainAuthenticator" + chain;
    }
}
