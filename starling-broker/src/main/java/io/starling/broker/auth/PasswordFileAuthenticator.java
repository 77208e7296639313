package io.starling.broker.auth;

import io.starling.broker.config.ReloadingFile;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The built-in {@link Authenticator}: users and salted PBKDF2 hashes from a password file ({@link PasswordFile},
 * managed with {@code starling passwd}), reloaded when it changes.
 *
 * <p>Verifying a password costs as many HMAC-SHA-512 computations as the entry's iteration count (about 100-200 ms
 * at 210,000), so it never runs on an event loop: it goes to a small bounded {@code verifier} executor (see
 * {@link #newVerifierExecutor}), queued per client address and taken in turn when it is a {@link VerifierPool}; a
 * full queue refuses the client (CONNACK 0x89 / 0x03) rather than let work pile up. Cancelling the returned stage
 * stops a verification that has not started and gives its place in the queue back; one that has started completes
 * with its result.
 * Successful verifications are cached, keyed by the file's version, the user name and an HMAC-SHA-256 of the
 * password under a random key made at start (so the cache holds no password and nothing that can be checked
 * against guesses without that key): a reconnecting client costs one map lookup. A reload empties the cache, so a
 * changed or deleted user never gets in with the old password. Failures are never cached; an unknown user costs a
 * verification as well, so that response times do not tell which users exist.
 *
 * <p>A CONNECT with a User Name but no Password is answered BAD_CREDENTIALS at once.
 *
 * <p>Thread-safety: thread-safe. {@link #authenticate} returns at once; its stage completes on the verifier thread
 * (or at once for cache hits and missing passwords).
 */
public final class PasswordFileAuthenticator implements Authenticator {

    /** Cached successful verifications kept at most; the cache is emptied when it is full. */
    static final int CACHE_LIMIT = 10_000;

    private final ReloadingFile<PasswordFile> file;
    private final Executor verifier;
    private final boolean ignoreUnknownUsers;
    private final Set<String> verified = ConcurrentHashMap.newKeySet();
    private final byte[] cacheKey = new byte[32];
    private final AtomicLong verifications = new AtomicLong();
    private volatile long cachedVersion;

    /**
     * Loads the password file.
     *
     * @param verifier where password hashes are computed; bounded, see {@link #newVerifierExecutor}
     * @throws IllegalArgumentException naming the file and the reason if it cannot be read or parsed
     */
    public PasswordFileAuthenticator(Path passwordFile, Executor verifier) {
        this(passwordFile, verifier, false);
    }

    /**
     * Loads the password file; with {@code ignoreUnknownUsers} (the password file as one backend of a
     * {@link ChainAuthenticator}) a CONNECT without a User Name, or with one the file does not have, is answered
     * {@link AuthResult#ignore()} at once, so that the next backend decides. The time of that answer then tells that
     * the file has no such user.
     *
     * @throws IllegalArgumentException naming the file and the reason if it cannot be read or parsed
     */
    public PasswordFileAuthenticator(Path passwordFile, Executor verifier, boolean ignoreUnknownUsers) {
        this.ignoreUnknownUsers = ignoreUnknownUsers;
        this.file = new ReloadingFile<>(passwordFile, "password file", PasswordFile::read,
                ReloadingFile.Exposure.OWNER_ONLY);
        this.verifier = verifier;
        new SecureRandom().nextBytes(cacheKey);
        this.cachedVersion = file.version();
    }

    /**
     * A verifier executor: a {@link VerifierPool} of {@code threads} daemon threads named {@code starling-auth-N}
     * and a fair queue of {@code queueCapacity} verifications, taken in turn per client address, at most a quarter
     * of them (at least one) from one address; more are rejected (the client is refused with 0x89 / 0x03).
     */
    public static VerifierPool newVerifierExecutor(int threads, int queueCapacity) {
        return new VerifierPool(threads, queueCapacity, Math.max(1, queueCapacity / 4));
    }

    /** The file and its version, to reload it ({@link ReloadingFile#reloadIfChanged()}) and to look at failures. */
    public ReloadingFile<PasswordFile> file() {
        return file;
    }

    /** How many password hashes were computed (cache hits and missing passwords compute none). */
    public long verifications() {
        return verifications.get();
    }

    @Override
    public CompletionStage<AuthResult> authenticate(AuthRequest request) {
        String user = request.username();
        byte[] password = request.password();
        if (ignoreUnknownUsers && (user == null || file.loaded().value().lookup(user) == null)) {
            return CompletableFuture.completedFuture(AuthResult.ignore());
        }
        if (user == null || password == null || password.length == 0) {
            return CompletableFuture.completedFuture(user == null ? AuthResult.notAuthorized()
                    : AuthResult.badCredentials());
        }
        ReloadingFile.Loaded<PasswordFile> loaded = file.loaded();
        if (loaded.version() != cachedVersion) {
            verified.clear(); // a user may have been changed or deleted
            cachedVersion = loaded.version();
        }
        String key = loaded.version() + "\u0000" + user + "\u0000" + digest(password);
        if (verified.contains(key)) {
            return CompletableFuture.completedFuture(AuthResult.allow(user));
        }
        PasswordHash hash = loaded.value().lookup(user);
        Verification result = new Verification();
        Runnable check = () -> {
            if (!result.start()) {
                return; // the client went away (cancelled) while this waited
            }
            try {
                verifications.incrementAndGet();
                if (hash == null) {
                    dummyFor(loaded.value()).verify(password); // as slow as for a real user
                    result.complete(AuthResult.badCredentials());
                } else if (hash.verify(password)) {
                    if (verified.size() >= CACHE_LIMIT) {
                        verified.clear();
                    }
                    verified.add(key);
                    result.complete(AuthResult.allow(user));
                } else {
                    result.complete(AuthResult.badCredentials());
                }
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        };
        try {
            if (verifier instanceof VerifierPool pool) {
                // queued per address and taken in turn: one address's burst does not hold up the others; a check
                // cancelled while it waits leaves the queue at once, so abandoned logins hold no place in it
                Object address = request.remoteAddress() == null ? null : request.remoteAddress().getAddress();
                result.onCancel(() -> pool.remove(address, check));
                pool.execute(address, check);
            } else {
                verifier.execute(check);
            }
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new RejectedExecutionException("too many password verifications queued", e));
        }
        return result;
    }

    /**
     * The stage of one verification. Cancelling it (the client went away) stops it only while it waits in the
     * queue: once the hash is being computed it completes with its result, so that the caller can count a failure
     * that has cost a check.
     */
    static final class Verification extends CompletableFuture<AuthResult> {
        private static final int QUEUED = 0;
        private static final int RUNNING = 1;
        private static final int CANCELLED = 2;
        private final AtomicInteger state = new AtomicInteger(QUEUED);
        private volatile Runnable onCancel;

        /** Runs {@code action} when this is cancelled while queued (set before the check is queued). */
        void onCancel(Runnable action) {
            onCancel = action;
        }

        /** True if the check may run: it has not been cancelled. */
        boolean start() {
            return state.compareAndSet(QUEUED, RUNNING);
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (!state.compareAndSet(QUEUED, CANCELLED)) {
                return false;
            }
            Runnable action = onCancel;
            if (action != null) {
                action.run();
            }
            return super.cancel(mayInterruptIfRunning);
        }
    }

    private static volatile PasswordHash dummy;

    /** A hash with the iteration count of the file's first user, to spend the same time on unknown users. */
    private static PasswordHash dummyFor(PasswordFile f) {
        int iterations = f.size() == 0 ? PasswordHash.DEFAULT_ITERATIONS
                : f.lookup(f.users().iterator().next()).iterations();
        PasswordHash d = dummy;
        if (d == null || d.iterations() != iterations) {
            d = new PasswordHash(iterations, new byte[PasswordHash.SALT_LENGTH], new byte[PasswordHash.HASH_LENGTH]);
            dummy = d;
        }
        return d;
    }

    private String digest(byte[] password) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(cacheKey, "HmacSHA256"));
            return Base64.getEncoder().encodeToString(mac.doFinal(password));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    @Override
    public String toString() {
        return "PasswordFileAuthenticator[" + file.path() + ", " + file.current().size() + " users]";
    }
}
