package io.starling.broker.auth;

import java.util.Objects;

/**
 * What a SCRAM-SHA-256 server keeps about one user (RFC 5802 section 3): salt, iteration count, StoredKey and
 * ServerKey. Never the password: these let the server verify a client proof and prove itself, but not
 * impersonate the client.
 *
 * <p>Immutable and thread-safe; the arrays are copied in and out.
 */
public final class ScramCredential {

    private final byte[] salt;
    private final int iterations;
    private final byte[] storedKey;
    private final byte[] serverKey;

    /**
     * A pre-computed credential, e.g. loaded from a file.
     *
     * @param salt non-empty
     * @param iterations at least 1 (RFC 7677 recommends at least 4096)
     * @param storedKey H(ClientKey), 32 bytes
     * @param serverKey HMAC(SaltedPassword, "Server Key"), 32 bytes
     */
    public ScramCredential(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {
        Objects.requireNonNull(salt, "salt");
        Objects.requireNonNull(storedKey, "storedKey");
        Objects.requireNonNull(serverKey, "serverKey");
        if (salt.length == 0) {
            throw new IllegalArgumentException("empty salt");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations " + iterations);
        }
        if (storedKey.length != Scram.KEY_LENGTH || serverKey.length != Scram.KEY_LENGTH) {
            throw new IllegalArgumentException("StoredKey and ServerKey must be " + Scram.KEY_LENGTH + " bytes");
        }
        this.salt = salt.clone();
        this.iterations = iterations;
        this.storedKey = storedKey.clone();
        this.serverKey = serverKey.clone();
    }

    /**
     * Derives the credential of {@code password} (SASLprep'd, see {@link Scram#saslPrep}) with this salt and
     * iteration count. Costs {@code iterations} HMAC-SHA-256 computations (about 2 ms for 4096): call it when
     * provisioning users, never per connection.
     *
     * @throws IllegalArgumentException if the password contains prohibited characters, or bad salt/iterations
     */
    public static ScramCredential fromPassword(String password, byte[] salt, int iterations) {
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(salt, "salt");
        String prepared = Scram.saslPrep(password);
        if (prepared == null) {
            throw new IllegalArgumentException("password contains characters SASLprep prohibits");
        }
        if (salt.length == 0) {
            throw new IllegalArgumentException("empty salt");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations " + iterations);
        }
        byte[] saltedPassword = Scram.hi(prepared, salt, iterations);
        byte[] clientKey = Scram.hmac(saltedPassword, Scram.utf8("Client Key"));
        byte[] serverKey = Scram.hmac(saltedPassword, Scram.utf8("Server Key"));
        return new ScramCredential(salt, iterations, Scram.sha256(clientKey), serverKey);
    }

    public byte[] salt() {
        return salt.clone();
    }

    public int iterations() {
        return iterations;
    }

    public byte[] storedKey() {
        return storedKey.clone();
    }

    public byte[] serverKey() {
        return serverKey.clone();
    }

    /** No key material. */
    @Override
    public String toString() {
        return "ScramCredential[iterations=" + iterations + ", salt=" + salt.length + " bytes]";
    }
}
