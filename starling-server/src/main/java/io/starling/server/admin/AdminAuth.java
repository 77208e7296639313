package io.starling.server.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.starling.broker.auth.AuthFailureLimiter;
import io.starling.broker.auth.PasswordFile;
import io.starling.broker.auth.PasswordHash;
import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.ReloadingFile;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Who may use the admin listener: when {@code admin: users} or {@code admin: token-file} are configured, every
 * request must carry {@code Authorization: Basic} of a listed user of the broker's password file (checked with its
 * password hash) or {@code Authorization: Bearer} with a token of the token file (compared in constant time); others
 * are answered 401 with {@code WWW-Authenticate: Basic realm="starling"}. Without either, every request is allowed
 * (the listener is then on loopback, see {@link AdminServer#checkBind}).
 *
 * <p>Cost: a password hash takes long on purpose, so it is computed on {@code verifier}, never on the admin loop, and
 * a successful check is remembered for {@link #CACHE_NANOS} (keyed by a salted digest of user and password, never the
 * password itself), which keeps the dashboard's polling cheap. Both files are read again when they change
 * ({@link #reload}).
 *
 * <p>Guessing: bad credentials (a wrong password or token, malformed ones; not a request without any) count against
 * the client's address in an {@link AuthFailureLimiter} with the broker's {@code auth-failure-limit},
 * {@code auth-failure-window-seconds} and {@code auth-block-seconds}; a blocked address is answered 429 with
 * {@code Retry-After} without its credentials being looked at, until the block ends.
 *
 * <p>Thread-safety: {@link #check} may be called from any thread.
 */
final class AdminAuth {

    /** No credentials: everything is allowed. */
    static final AdminAuth NONE = new AdminAuth(Set.of(), null, null, Runnable::run, System::nanoTime,
            AuthFailureLimiter.disabled());

    /** How long a successful Basic check is remembered. */
    static final long CACHE_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** Most remembered checks; the cache is emptied when full. */
    static final int CACHE_LIMIT = 1000;

    /**
     * The outcome of a check.
     *
     * @param allowed whether the request may go on
     * @param user who made it ({@code token} for a bearer token), {@code null} when unknown
     * @param reason why it was refused, for the 401's body
     * @param blocked refused because the address is blocked after too many bad credentials (a 429)
     */
    record Result(boolean allowed, String user, String reason, boolean blocked) {
        static final Result ANONYMOUS = new Result(true, null, null);
        static final Result BLOCKED = new Result(false, null, "too many failed logins from this address", true);

        Result(boolean allowed, String user, String reason) {
            this(allowed, user, reason, false);
        }

        static Result denied(String user, String reason) {
            return new Result(false, user, reason);
        }
    }

    private final Set<String> users;
    private final ReloadingFile<PasswordFile> passwords;
    private final ReloadingFile<List<byte[]>> tokens;
    private final Executor verifier;
    private final LongSupplier nanoClock;
    private final AuthFailureLimiter limiter;
    private final byte[] cacheSalt = new byte[32];
    /** Digest of (password file version, user, password) → when it stops counting. */
    private final ConcurrentHashMap<String, Long> verified = new ConcurrentHashMap<>();

    AdminAuth(Set<String> users, ReloadingFile<PasswordFile> passwords, ReloadingFile<List<byte[]>> tokens,
            Executor verifier, LongSupplier nanoClock, AuthFailureLimiter limiter) {
        this.users = Set.copyOf(users);
        this.limiter = limiter;
        this.passwords = passwords;
        this.tokens = tokens;
        this.verifier = verifier;
        this.nanoClock = nanoClock;
        new SecureRandom().nextBytes(cacheSalt);
    }

    /**
     * The credentials of {@code config}: its users, checked against {@code passwordFile}, and its token file.
     *
     * @throws IllegalArgumentException when users are listed without a password file, or a file cannot be read
     */
    static AdminAuth of(AdminConfig config, Path passwordFile, Executor verifier) {
        return of(config, passwordFile, verifier, AuthFailureLimiter.disabled());
    }

    /**
     * The credentials of {@code config}, with bad ones counted against their address by {@code limiter}.
     *
     * @throws IllegalArgumentException when users are listed without a password file, or a file cannot be read
     */
    static AdminAuth of(AdminConfig config, Path passwordFile, Executor verifier, AuthFailureLimiter limiter) {
        if (!config.requiresCredentials()) {
            return NONE;
        }
        ReloadingFile<PasswordFile> pw = null;
        if (!config.users().isEmpty()) {
            if (passwordFile == null) {
                throw new IllegalArgumentException(config.describe() + ": admin: users needs the broker's password"
                        + " file (security: password-file)");
            }
            pw = new ReloadingFile<>(passwordFile, "password file", PasswordFile::read,
                    ReloadingFile.Exposure.OWNER_ONLY);
            for (String u : config.users()) {
                if (pw.current().lookup(u) == null) {
                    org.slf4j.LoggerFactory.getLogger(AdminAuth.class).warn(
                            "{}: admin user '{}' is not in the password file {}", config.describe(), u, passwordFile);
                }
            }
        }
        ReloadingFile<List<byte[]>> tk = config.tokenFile() == null ? null
                : new ReloadingFile<>(config.tokenFile(), "admin token file", AdminAuth::readTokens,
                        ReloadingFile.Exposure.OWNER_ONLY);
        return new AdminAuth(Set.copyOf(config.users()), pw, tk, verifier, System::nanoTime, limiter);
    }

    /** The tokens of a token file: one per line, blank lines and lines starting with {@code #} left out. */
    static List<byte[]> readTokens(Path file) throws IOException {
        List<byte[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String t = line.strip();
            if (!t.isEmpty() && !t.startsWith("#")) {
                out.add(sha256(t.getBytes(StandardCharsets.UTF_8)));
            }
        }
        return out;
    }

    /** Whether requests must carry credentials. */
    boolean required() {
        return !users.isEmpty() || tokens != null;
    }

    /** Reads the password and token files again if they changed (off the event loops). */
    void reload() {
        if (passwords != null) {
            passwords.reloadIfChanged();
        }
        if (tokens != null) {
            tokens.reloadIfChanged();
        }
    }

    /** Checks the credentials of a request; completes on the calling thread or on the verifier. */
    CompletionStage<Result> check(HttpHeaders headers, SocketAddress remote) {
        if (!required()) {
            return CompletableFuture.completedFuture(Result.ANONYMOUS);
        }
        InetAddress address = remote instanceof InetSocketAddress i ? i.getAddress() : null;
        if (limiter.isBlocked(address)) {
            return CompletableFuture.completedFuture(Result.BLOCKED);
        }
        String h = headers.get(HttpHeaderNames.AUTHORIZATION);
        if (h == null) {
            return CompletableFuture.completedFuture(Result.denied(null, "credentials required"));
        }
        CompletionStage<Result> r;
        if (h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            r = CompletableFuture.completedFuture(bearer(h.substring(7).strip()));
        } else if (h.regionMatches(true, 0, "Basic ", 0, 6)) {
            r = basic(h.substring(6).strip());
        } else {
            r = CompletableFuture.completedFuture(Result.denied(null, "unsupported authorization scheme"));
        }
        return r.thenApply(result -> {
            if (!result.allowed() && limiter.recordFailure(address)) {
                org.slf4j.LoggerFactory.getLogger(AdminAuth.class).warn("admin listener: {} blocked for {} s after {} bad "
                        + "credentials (the latest for user '{}')", address.getHostAddress(), limiter.blockSeconds(),
                        limiter.maxFailures(), result.user());
            }
            return result;
        });
    }

    /** Seconds a blocked address waits, for the 429's {@code Retry-After}. */
    long blockSeconds() {
        return limiter.blockSeconds();
    }

    private Result bearer(String token) {
        if (tokens == null || token.isEmpty()) {
            return Result.denied(null, "bad credentials");
        }
        byte[] given = sha256(token.getBytes(StandardCharsets.UTF_8));
        boolean match = false;
        for (byte[] t : tokens.current()) {
            match |= MessageDigest.isEqual(t, given); // every token compared, each in constant time
        }
        return match ? new Result(true, "token", null) : Result.denied(null, "bad credentials");
    }

    private CompletionStage<Result> basic(String encoded) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(Result.denied(null, "malformed Basic credentials"));
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return CompletableFuture.completedFuture(Result.denied(null, "malformed Basic credentials"));
        }
        String user = decoded.substring(0, colon);
        byte[] password = decoded.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
        if (passwords == null || !users.contains(user) || password.length == 0) {
            return CompletableFuture.completedFuture(Result.denied(user, "bad credentials"));
        }
        ReloadingFile.Loaded<PasswordFile> loaded = passwords.loaded();
        String key = cacheKey(loaded.version(), user, password);
        Long until = verified.get(key);
        long now = nanoClock.getAsLong();
        if (until != null && until - now > 0) {
            return CompletableFuture.completedFuture(new Result(true, user, null));
        }
        PasswordHash hash = loaded.value().lookup(user);
        if (hash == null) {
            return CompletableFuture.completedFuture(Result.denied(user, "bad credentials"));
        }
        CompletableFuture<Result> f = new CompletableFuture<>();
        try {
            verifier.execute(() -> {
                if (hash.verify(password)) {
                    if (verified.size() >= CACHE_LIMIT) {
                        verified.clear();
                    }
                    verified.put(key, nanoClock.getAsLong() + CACHE_NANOS);
                    f.complete(new Result(true, user, null));
                } else {
                    f.complete(Result.denied(user, "bad credentials"));
                }
            });
        } catch (RejectedExecutionException e) {
            f.complete(Result.denied(user, "too many logins being checked, try again later"));
        }
        return f;
    }

    private String cacheKey(long version, String user, byte[] password) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(cacheSalt);
            d.update(Long.toString(version).getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(user.getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(password);
            return Base64.getEncoder().encodeToString(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The 429 answer to a blocked address, with {@code Retry-After}. */
    FullHttpResponse tooManyFailures() {
        FullHttpResponse res = Responses.error(HttpResponseStatus.TOO_MANY_REQUESTS, Result.BLOCKED.reason(), null);
        res.headers().set(HttpHeaderNames.RETRY_AFTER, Long.toString(Math.max(1, blockSeconds())));
        return res;
    }

    /** The 401 answer: {@code WWW-Authenticate: Basic realm="starling"}. */
    static FullHttpResponse challenge(String reason) {
        FullHttpResponse res = Responses.error(HttpResponseStatus.UNAUTHORIZED,
                reason == null ? "credentials required" : reason, null);
        res.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"starling\"");
        return res;
    }
}
