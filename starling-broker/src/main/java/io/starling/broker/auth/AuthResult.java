package io.starling.broker.auth;

import java.util.Objects;

/**
 * What an {@link Authenticator} decided.
 *
 * @param outcome allowed, bad credentials or not authorized
 * @param identity on ALLOW the user name the client is known as from now on (for authorization rules and logs);
 *     {@code null} otherwise
 */
public record AuthResult(Outcome outcome, String identity) {

    /** The decision. */
    public enum Outcome {
        /** The client may connect as {@link AuthResult#identity()}. */
        ALLOW,
        /** Unknown user or wrong password: CONNACK 0x86 Bad User Name or Password (5.0) / 0x04 (3.x). */
        BAD_CREDENTIALS,
        /** The credentials may be right, but this client may not connect: CONNACK 0x87 (5.0) / 0x05 (3.x). */
        NOT_AUTHORIZED
    }

    private static final AuthResult BAD = new AuthResult(Outcome.BAD_CREDENTIALS, null);
    private static final AuthResult NOT_AUTHORIZED = new AuthResult(Outcome.NOT_AUTHORIZED, null);

    /** Checks that ALLOW, and only ALLOW, carries a non-empty identity. */
    public AuthResult {
        Objects.requireNonNull(outcome, "outcome");
        if ((outcome == Outcome.ALLOW) != (identity != null && !identity.isEmpty())) {
            throw new IllegalArgumentException("ALLOW, and only ALLOW, carries a non-empty identity");
        }
    }

    /** Allowed as {@code identity}. */
    public static AuthResult allow(String identity) {
        return new AuthResult(Outcome.ALLOW, identity);
    }

    /** Unknown user or wrong password. */
    public static AuthResult badCredentials() {
        return BAD;
    }

    /** Not allowed to connect. */
    public static AuthResult notAuthorized() {
        return NOT_AUTHORIZED;
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOW;
    }
}
