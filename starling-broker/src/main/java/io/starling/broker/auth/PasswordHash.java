package io.starling.broker.auth;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A salted, slow password hash: PBKDF2 with HMAC-SHA-512 (RFC 8018 section 5.2), one 64-byte block, as stored in
 * the password file in the form {@code $pbkdf2-sha512$ITERATIONS$SALT$HASH} (salt and hash in standard Base64).
 *
 * <p>PBKDF2 is computed here over the password's raw bytes with {@link Mac} rather than through
 * {@code SecretKeyFactory}, because an MQTT password is binary data: the JDK's {@code PBEKeySpec} takes characters,
 * and decoding arbitrary bytes to characters would make different passwords equal. For a UTF-8 password the
 * result is the same as {@code PBKDF2WithHmacSHA512} (tested).
 *
 * <p>Cost: {@link #verify} and {@link #create} run {@code iterations} HMAC-SHA-512 computations, about 100-200 ms
 * at {@link #DEFAULT_ITERATIONS}: never call them on an event loop. Immutable and thread-safe.
 *
 * @param iterations PBKDF2 iteration count
 * @param salt random salt
 * @param hash the derived key, {@link #HASH_LENGTH} bytes
 */
public record PasswordHash(int iterations, byte[] salt, byte[] hash) {

    /** The scheme tag of the stored form. */
    public static final String SCHEME = "pbkdf2-sha512";

    /** Iterations used by {@code starling passwd} unless told otherwise (OWASP's 2023 advice for PBKDF2-SHA512). */
    public static final int DEFAULT_ITERATIONS = 210_000;

    /** The smallest iteration count accepted in a password file. */
    public static final int MIN_ITERATIONS = 1_000;

    /** Length of a fresh salt, bytes. */
    public static final int SALT_LENGTH = 16;

    /** Length of the derived key: one SHA-512 block. */
    public static final int HASH_LENGTH = 64;

    private static final String HMAC = "HmacSHA512";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Checks the values and copies the arrays. */
    public PasswordHash {
        if (iterations < MIN_ITERATIONS) {
            throw new IllegalArgumentException("iterations must be at least " + MIN_ITERATIONS + ", not " + iterations);
        }
        Objects.requireNonNull(salt, "salt");
        Objects.requireNonNull(hash, "hash");
        if (salt.length < 8) {
            throw new IllegalArgumentException("salt shorter than 8 bytes");
        }
        if (hash.length != HASH_LENGTH) {
            throw new IllegalArgumentException("hash must be " + HASH_LENGTH + " bytes, not " + hash.length);
        }
        salt = salt.clone();
        hash = hash.clone();
    }

    /** Hashes a password (UTF-8) with a fresh random salt. Slow: {@code iterations} HMACs. */
    public static PasswordHash create(char[] password, int iterations) {
        byte[] bytes = utf8(password);
        try {
            return create(bytes, iterations);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** Hashes a password given as bytes with a fresh random salt. Slow: {@code iterations} HMACs. */
    public static PasswordHash create(byte[] password, int iterations) {
        if (password.length == 0) {
            throw new IllegalArgumentException("the password is empty");
        }
        byte[] salt = new byte[SALT_LENGTH];
        RANDOM.nextBytes(salt);
        return new PasswordHash(iterations, salt, pbkdf2(password, salt, iterations));
    }

    /**
     * Whether {@code password} is the hashed password; compares in constant time. An empty password never matches.
     * Slow: {@code iterations} HMACs.
     */
    public boolean verify(byte[] password) {
        if (password == null || password.length == 0) {
            return false;
        }
        return MessageDigest.isEqual(hash, pbkdf2(password, salt, iterations));
    }

    /** The stored form {@code $pbkdf2-sha512$ITERATIONS$SALT$HASH}. */
    public String encode() {
        Base64.Encoder b64 = Base64.getEncoder();
        return "$" + SCHEME + "$" + iterations + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
    }

    /**
     * Parses the stored form.
     *
     * @throws IllegalArgumentException with the reason if it is not a valid {@code $pbkdf2-sha512$...} hash
     */
    public static PasswordHash decode(String stored) {
        String[] parts = stored.split("\\$", -1);
        if (parts.length != 5 || !parts[0].isEmpty()) {
            throw new IllegalArgumentException("expected $" + SCHEME + "$ITERATIONS$SALT$HASH");
        }
        if (!SCHEME.equals(parts[1])) {
            throw new IllegalArgumentException("unknown hash scheme '" + parts[1] + "' (only " + SCHEME + ")");
        }
        int iterations;
        try {
            iterations = Integer.parseInt(parts[2]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("iteration count is not a number: '" + parts[2] + "'", e);
        }
        Base64.Decoder b64 = Base64.getDecoder();
        try {
            return new PasswordHash(iterations, b64.decode(parts[3]), b64.decode(parts[4]));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad salt or hash: " + e.getMessage(), e);
        }
    }

    /** PBKDF2-HMAC-SHA512 with one output block (dkLen = 64): T1 = U1 ^ U2 ^ ... ^ Uc. */
    static byte[] pbkdf2(byte[] password, byte[] salt, int iterations) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(password, HMAC));
            mac.update(salt);
            mac.update(new byte[] {0, 0, 0, 1}); // INT(1), the block index
            byte[] u = mac.doFinal();
            byte[] t = u.clone();
            for (int i = 1; i < iterations; i++) {
                mac.update(u);
                mac.doFinal(u, 0);
                for (int j = 0; j < t.length; j++) {
                    t[j] ^= u[j];
                }
            }
            return t;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA512 is not available", e);
        }
    }

    private static byte[] utf8(char[] password) {
        ByteBuffer b = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        byte[] out = new byte[b.remaining()];
        b.get(out);
        if (b.hasArray()) {
            Arrays.fill(b.array(), (byte) 0);
        }
        return out;
    }

    /** A copy of the salt. */
    @Override
    public byte[] salt() {
        return salt.clone();
    }

    /** A copy of the derived key. */
    @Override
    public byte[] hash() {
        return hash.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PasswordHash p && iterations == p.iterations && Arrays.equals(salt, p.salt)
                && Arrays.equals(hash, p.hash);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * iterations + Arrays.hashCode(salt)) + Arrays.hashCode(hash);
    }

    /** Shows the parameters, never the hash. */
    @Override
    public String toString() {
        return "PasswordHash[" + SCHEME + ", " + iterations + " iterations]";
    }
}
