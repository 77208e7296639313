package io.starling.broker.auth;

import java.security.SecureRandom;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * SCRAM-SHA-256 credentials in a concurrent map. Plaintext passwords are never kept: {@link #fromPasswords} and
 * {@link #addPassword} derive the credential with a random 16-byte salt and forget the password.
 *
 * <p>Thread-safety: thread-safe; users may be added and removed while the broker runs. Cost: {@link #lookup} is
 * one map lookup; deriving a credential from a password costs {@code iterations} HMACs (about 2 ms at 4096), so
 * add users off the event loops.
 */
public final class InMemoryScramCredentialStore implements ScramCredentialStore {

    /** The minimum iteration count RFC 7677 recommends, used unless told otherwise. */
    public static final int DEFAULT_ITERATIONS = 4096;

    /** Salt length of derived credentials. */
    public static final int SALT_LENGTH = 16;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final ConcurrentMap<String, ScramCredential> credentials = new ConcurrentHashMap<>();

    /** An empty store. */
    public InMemoryScramCredentialStore() {
    }

    /** A store with these user name → password pairs, derived with {@link #DEFAULT_ITERATIONS}. */
    public static InMemoryScramCredentialStore fromPasswords(Map<String, String> passwordsByUser) {
        return fromPasswords(passwordsByUser, DEFAULT_ITERATIONS);
    }

    /** A store with these user name → password pairs, derived with {@code iterations} each. */
    public static InMemoryScramCredentialStore fromPasswords(Map<String, String> passwordsByUser, int iterations) {
        InMemoryScramCredentialStore store = new InMemoryScramCredentialStore();
        passwordsByUser.forEach((user, password) -> store.addPassword(user, password, iterations));
        return store;
    }

    /**
     * Adds or replaces a user, deriving the credential from the password with a fresh random salt.
     *
     * @throws IllegalArgumentException if the name or password is prohibited by SASLprep or the name is empty
     */
    public void addPassword(String username, String password, int iterations) {
        byte[] salt = new byte[SALT_LENGTH];
        RANDOM.nextBytes(salt);
        add(username, ScramCredential.fromPassword(password, salt, iterations));
    }

    /**
     * Adds or replaces a user with a pre-computed credential.
     *
     * @throws IllegalArgumentException if the name is empty or prohibited by SASLprep
     */
    public void add(String username, ScramCredential credential) {
        Objects.requireNonNull(credential, "credential");
        credentials.put(prepareName(username), credential);
    }

    /** Removes a user; true if it was there. */
    public boolean remove(String username) {
        String prepared = Scram.saslPrep(Objects.requireNonNull(username, "username"));
        return prepared != null && credentials.remove(prepared) != null;
    }

    /** The number of users. */
    public int size() {
        return credentials.size();
    }

    @Override
    public ScramCredential lookup(String username) {
        return username == null ? null : credentials.get(username);
    }

    private static String prepareName(String username) {
        Objects.requireNonNull(username, "username");
        String prepared = Scram.saslPrep(username);
        if (prepared == null || prepared.isEmpty()) {
            throw new IllegalArgumentException("user name is empty or contains characters SASLprep prohibits");
        }
        return prepared;
    }
}
