package io.starling.broker.auth;

import io.starling.broker.config.ListenerConfig;
import java.util.Objects;

/**
 * How one listener authenticates clients: its {@link Authenticator} (the password file, or one given when the
 * broker was embedded), whether it takes user names from client certificates, whether anonymous clients may
 * connect, and the broker's {@link AuthFailureLimiter}.
 *
 * <p>The rule (docs/security.md): a listener <em>authenticates</em> when it has an authenticator or takes the
 * identity from certificates. On such a listener a client connects with a certificate identity, with credentials
 * the authenticator accepts, or without a User Name only if {@code allow-anonymous} is true. A listener that does
 * not authenticate accepts everyone (and may then only listen on loopback unless {@code allow-anonymous} is true).
 *
 * <p>Immutable and thread-safe.
 */
public final class ListenerSecurity {

    private final ListenerConfig listener;
    private final Authenticator authenticator;
    private final AuthFailureLimiter limiter;

    /**
     * @param authenticator {@code null} for none
     */
    public ListenerSecurity(ListenerConfig listener, Authenticator authenticator, AuthFailureLimiter limiter) {
        this.listener = Objects.requireNonNull(listener, "listener");
        this.authenticator = authenticator;
        this.limiter = Objects.requireNonNull(limiter, "limiter");
    }

    /** A listener without authentication or failure limit. */
    public static ListenerSecurity open(ListenerConfig listener) {
        return new ListenerSecurity(listener, null, AuthFailureLimiter.disabled());
    }

    public ListenerConfig listener() {
        return listener;
    }

    /** The authenticator, {@code null} if the listener has none. */
    public Authenticator authenticator() {
        return authenticator;
    }

    public AuthFailureLimiter limiter() {
        return limiter;
    }

    /** Whether the listener authenticates clients (an authenticator, or user names from certificates). */
    public boolean authenticates() {
        return authenticator != null || listener.usesCertificateIdentity();
    }

    /** Whether a client without a User Name (or certificate identity) may connect. */
    public boolean anonymousAllowed() {
        return !authenticates() || listener.allowAnonymous();
    }

    @Override
    public String toString() {
        return "ListenerSecurity[" + listener.describe() + ", authenticator " + authenticator + ", anonymous "
                + (anonymousAllowed() ? "allowed" : "refused") + ", identity from certificates "
                + listener.useIdentityAsUsername() + "]";
    }
}
