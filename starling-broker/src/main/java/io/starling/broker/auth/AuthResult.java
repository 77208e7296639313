package io.starling.broker.auth;

import java.util.Map;
import java.util.Objects;

/**
 * What an {@link Authenticator} decided.
 *
 * @param outcome allowed, bad credentials, not authorized, or no answer (ignore: the next authenticator of a chain
 *     decides)
 * @param identity on ALLOW the user name the client is known as from now on (for authorization rules and logs);
 *     {@code null} otherwise
 * @param attributes on ALLOW further named values about the client (JWT claims, attributes an HTTP service
 *     answered) that ACL rules use through {@code %{name}}; empty otherwise
 * @param expiresAtMillis on ALLOW the time (epoch milliseconds) the credentials stop being valid, at which the
 *     broker may disconnect the client (a JWT's {@code exp}); 0 = never
 */
public record AuthResult(Outcome outcome, String identity, Map<String, String> attributes, long expiresAtMillis) {

    /** The decision. */
    public enum Outcome {
        /** The client may connect as {@link AuthResult#identity()}. */
        ALLOW,
        /** Unknown user or wrong password: CONNACK 0x86 Bad User Name or Password (5.0) / 0x04 (3.x). */
        BAD_CREDENTIALS,
        /** The credentials may be right, but this client may not connect: CONNACK 0x87 (5.0) / 0x05 (3.x). */
        NOT_AUTHORIZED,
        /**
         * No answer: the credentials are not of this authenticator's kind (a password that is no JWT, a user the
         * password file does not know). In a chain ({@link ChainAuthenticator}) the next authenticator decides; when
         * every one ignores, the client is anonymous if the listener allows it, else refused as with bad credentials.
         */
        IGNORE
    }

    private static final AuthResult BAD = new AuthResult(Outcome.BAD_CREDENTIALS, null);
    private static final AuthResult NOT_AUTHORIZED = new AuthResult(Outcome.NOT_AUTHORIZED, null);
    private static final AuthResult IGNORED = new AuthResult(Outcome.IGNORE, null);

    /** Checks that ALLOW, and only ALLOW, carries a non-empty identity. */
    public AuthResult {
        Objects.requireNonNull(outcome, "outcome");
        if ((outcome == Outcome.ALLOW) != (identity != null && !identity.isEmpty())) {
            throw new IllegalArgumentException("ALLOW, and only ALLOW, carries a non-empty identity");
        }
        attributes = attributes == null || outcome != Outcome.ALLOW ? Map.of() : Map.copyOf(attributes);
        if (expiresAtMillis < 0 || outcome != Outcome.ALLOW) {
            expiresAtMillis = 0;
        }
    }

    /** A result without attributes or expiry. */
    public AuthResult(Outcome outcome, String identity) {
        this(outcome, identity, Map.of(), 0);
    }

    /** Allowed as {@code identity}. */
    public static AuthResult allow(String identity) {
        return new AuthResult(Outcome.ALLOW, identity);
    }

    /**
     * Allowed as {@code identity}, with attributes for ACL rules and the time the credentials expire (0 = never).
     */
    public static AuthResult allow(String identity, Map<String, String> attributes, long expiresAtMillis) {
        return new AuthResult(Outcome.ALLOW, identity, attributes, expiresAtMillis);
    }

    /** Unknown user or wrong password. */
    public static AuthResult badCredentials() {
        return BAD;
    }

    /** Not allowed to connect. */
    public static AuthResult notAuthorized() {
        return NOT_AUTHORIZED;
    }

    /** No answer: the next authenticator of a chain decides. */
    public static AuthResult ignore() {
        return IGNORED;
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOW;
    }
}
