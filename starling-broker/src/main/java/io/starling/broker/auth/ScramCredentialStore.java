package io.starling.broker.auth;

/**
 * Where {@link ScramSha256Authenticator} finds users' SCRAM-SHA-256 credentials.
 *
 * <p>Thread-safety: implementations must be thread-safe. {@link #lookup} is called on event loops, once per
 * exchange: it must be fast and must not block (keep credentials in memory; refresh them off the loop).
 */
public interface ScramCredentialStore {

    /**
     * The credential of this user, {@code null} if there is none.
     *
     * @param username the user name after SASLprep, as the client sent it (with =2C and =3D decoded)
     */
    ScramCredential lookup(String username);
}
