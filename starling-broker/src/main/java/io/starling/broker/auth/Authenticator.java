package io.starling.broker.auth;

import java.util.concurrent.CompletionStage;

/**
 * Authentication of a CONNECT with a User Name and Password (or a client certificate): the SPI behind the built-in
 * password file ({@link PasswordFileAuthenticator}), for other backends such as an HTTP service or JWT validation.
 *
 * <p>The connection handler asks when a listener has an authenticator and the CONNECT carries a User Name or a
 * Password (a listener that takes the identity from the client certificate does not ask for clients that present
 * one; see docs/security.md). It answers the CONNECT from the {@link AuthResult}: ALLOW opens the session for
 * {@link AuthResult#identity()}; BAD_CREDENTIALS is CONNACK 0x86 (5.0) / 0x04 (3.x); NOT_AUTHORIZED is 0x87 / 0x05.
 * A stage completed exceptionally refuses the client with 0x88 Server unavailable / 0x03 (0x89 Server busy if the
 * exception is a {@link java.util.concurrent.RejectedExecutionException}: too much work queued).
 *
 * <p>Thread-safety: implementations are shared by every event loop and must be thread-safe. {@link #authenticate}
 * is called on the connection's event loop and must return at once: slow work (key stretching, I/O) belongs on an
 * executor of the implementation's own, whose stage then completes on that thread. The connection may have gone by
 * then; the handler cancels the stage's future ({@code toCompletableFuture().cancel}) when it closes, which an
 * implementation may check to skip queued work.
 */
public interface Authenticator {

    /** Decides whether the client may connect and as whom. Must not block. */
    CompletionStage<AuthResult> authenticate(AuthRequest request);

    /** Releases what the authenticator holds (threads, connections); called when the broker stops. */
    default void close() {
    }
}
