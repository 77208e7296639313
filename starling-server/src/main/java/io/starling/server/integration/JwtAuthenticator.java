package io.starling.server.integration;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.starling.broker.auth.AuthRequest;
import io.starling.broker.auth.AuthResult;
import io.starling.broker.auth.Authenticator;
import io.starling.broker.config.AuthenticationConfig.JwtBackend;
import io.starling.broker.config.AuthenticationConfig.UsernameCheck;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code jwt} authentication backend: a JSON Web Token (compact JWS) in the CONNECT's Password, verified with an
 * HS256 secret, an RS256 or ES256 public key from a PEM file, or the RS256/ES256 keys of a JWKS URL.
 *
 * <p>Answers: a Password that is not shaped like a JWT (three Base64url parts) is IGNORE, so that a chain can go on
 * to a password file; a JWT that does not verify (bad signature, {@code alg} other than the one of the key, {@code
 * none}, expired, not yet valid, wrong {@code iss}/{@code aud}, no user name claim, User Name not matching it) is
 * BAD_CREDENTIALS; a valid one is ALLOW as the user name claim, with the {@code acl-claims} as attributes for
 * {@code %{claim}} in ACL rules, and, with {@code disconnect-at-expiry}, the time of {@code exp} plus the leeway.
 *
 * <p>Threads: signatures are verified on one {@code starling-jwt} thread with a bounded queue (a full queue refuses
 * the client with 0x89 Server busy), never on an event loop. JWKS keys are fetched with the JDK's asynchronous HTTP
 * client at start, when they are older than {@code jwks-refresh-seconds} (in the background) and when a token names
 * a {@code kid} the set does not have (at most once every {@code jwks-min-interval-seconds}; the client waits for
 * that fetch). Until a first fetch succeeded, clients with JWTs are refused with 0x88 Server unavailable.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class JwtAuthenticator implements Authenticator {

    private static final Logger LOG = LoggerFactory.getLogger(JwtAuthenticator.class);
    /** Largest JWKS document read. */
    private static final int MAX_JWKS_BYTES = 1 << 20;
    /** Verifications waiting at most. */
    private static final int QUEUE = 4096;

    private final JwtBackend config;
    private final ThreadPoolExecutor executor;
    private final HttpClient http;
    private volatile List<Key> keys;
    private volatile long keysFetchedNanos;
    private CompletableFuture<List<Key>> fetch;
    private long lastFetchNanos;
    private final AtomicLong fetches = new AtomicLong();

    /** A verification key and the one algorithm it is used with. */
    private record Key(String kid, JWSAlgorithm alg, JWSVerifier verifier) {
    }

    /**
     * Reads the secret or public key file, or starts fetching the JWKS.
     *
     * @throws IllegalArgumentException naming the file and the reason if the key cannot be used
     */
    public JwtAuthenticator(JwtBackend config) {
        this.config = config;
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "starling-jwt-" + config.name());
            t.setDaemon(true);
            return t;
        });
        if (config.jwksUrl() != null) {
            http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                    .followRedirects(HttpClient.Redirect.NEVER).build();
            fetchKeys();
        } else {
            http = null;
            keys = List.of(config.secretFile() != null ? secretKey(config.secretFile()) : pemKey(config.publicKeyFile()));
        }
    }

    /** How many times the JWKS was fetched (for tests and tools). */
    public long jwksFetches() {
        return fetches.get();
    }

    @Override
    public CompletionStage<AuthResult> authenticate(AuthRequest request) {
        byte[] password = request.password();
        if (password == null || !looksLikeJwt(password)) {
            return CompletableFuture.completedFuture(AuthResult.ignore());
        }
        String token = new String(password, StandardCharsets.US_ASCII);
        CompletableFuture<AuthResult> out = new CompletableFuture<>();
        try {
            executor.execute(() -> decide(token, request, out, true));
        } catch (RejectedExecutionException e) {
            out.completeExceptionally(new RejectedExecutionException("too many JWTs waiting to be verified", e));
        }
        return out;
    }

    /** Three non-empty Base64url parts (header and payload at least), ASCII only. */
    static boolean looksLikeJwt(byte[] p) {
        int dots = 0;
        int partLength = 0;
        for (byte b : p) {
            if (b == '.') {
                if (partLength == 0 && dots < 2) {
                    return false;
                }
                dots++;
                partLength = 0;
            } else if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-'
                    || b == '_' || b == '=') {
                partLength++;
            } else {
                return false;
            }
        }
        return dots == 2;
    }

    /** On the verifier thread. */
    private void decide(String token, AuthRequest request, CompletableFuture<AuthResult> out, boolean mayFetch) {
        if (out.isDone()) {
            return; // the client went away
        }
        try {
            SignedJWT jwt;
            try {
                jwt = SignedJWT.parse(token); // alg "none" (an unsecured JWT) does not parse as a JWS
            } catch (ParseException e) {
                out.complete(refused(request, "not a signed JWT: " + e.getMessage()));
                return;
            }
            JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
            String kid = jwt.getHeader().getKeyID();
            List<Key> known = keys;
            if (known == null && (!mayFetch || !mayFetchNow())) {
                out.completeExceptionally(new IOException("no keys from JWKS " + config.jwksUrl() + " yet"));
                return;
            }
            if (known == null || (mayFetch && http != null && candidates(known, alg, kid).isEmpty() && kid != null
                    && mayFetchNow())) {
                // no keys yet, or a kid we do not know: (re)fetch, then decide once more without fetching
                fetchKeys().whenComplete((k, error) -> {
                    if (error != null) {
                        out.completeExceptionally(new IOException("JWKS " + config.jwksUrl() + " unavailable", error));
                        return;
                    }
                    try {
                        executor.execute(() -> decide(token, request, out, false));
                    } catch (RejectedExecutionException e) {
                        out.completeExceptionally(e);
                    }
                });
                return;
            }
            if (http != null && System.nanoTime() - keysFetchedNanos > config.jwksRefresh().toNanos() && mayFetchNow()) {
                fetchKeys(); // in the background: this token is decided with the keys at hand
            }
            boolean verified = false;
            for (Key k : candidates(known, alg, kid)) {
                if (jwt.verify(k.verifier())) {
                    verified = true;
                    break;
                }
            }
            if (!verified) {
                out.complete(refused(request, "signature not verified (alg " + alg + ", kid " + kid + ")"));
                return;
            }
            out.complete(checkClaims(jwt.getJWTClaimsSet(), request));
        } catch (ParseException | JOSEException | RuntimeException e) {
            out.complete(refused(request, "token not usable: " + e.getMessage()));
        }
    }

    /** The keys that may verify a token of {@code alg} and {@code kid}: same algorithm, and same kid if both have one. */
    private static List<Key> candidates(List<Key> keys, JWSAlgorithm alg, String kid) {
        List<Key> out = new ArrayList<>(1);
        for (Key k : keys) {
            if (k.alg().equals(alg) && (kid == null || k.kid() == null || kid.equals(k.kid()))) {
                out.add(k);
            }
        }
        return out;
    }

    private AuthResult checkClaims(JWTClaimsSet claims, AuthRequest request) {
        long now = System.currentTimeMillis();
        long leeway = config.leeway().toMillis();
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            return refused(request, "no exp claim");
        }
        if (now > exp.getTime() + leeway) {
            return refused(request, "expired at " + exp.toInstant());
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now + leeway < nbf.getTime()) {
            return refused(request, "not valid before " + nbf.toInstant());
        }
        if (config.issuer() != null && !config.issuer().equals(claims.getIssuer())) {
            return refused(request, "issuer " + claims.getIssuer());
        }
        if (!config.audiences().isEmpty()
                && (claims.getAudience() == null || Collections.disjoint(claims.getAudience(), config.audiences()))) {
            return refused(request, "audience " + claims.getAudience());
        }
        String user = claimValue(claims, config.usernameClaim());
        if (user == null || user.isEmpty()) {
            return refused(request, "no " + config.usernameClaim() + " claim");
        }
        if (config.usernameCheck() == UsernameCheck.MATCH && !user.equals(request.username())) {
            return refused(request, "User Name does not match the " + config.usernameClaim() + " claim");
        }
        Map<String, String> attributes = new HashMap<>();
        for (String c : config.aclClaims()) {
            String v = claimValue(claims, c);
            if (v != null) {
                attributes.put(c, v);
            }
        }
        return AuthResult.allow(user, attributes, config.disconnectAtExpiry() ? exp.getTime() + leeway : 0);
    }

    /** A string claim, or a number or boolean as text; {@code null} for anything else. */
    private static String claimValue(JWTClaimsSet claims, String name) {
        Object v = claims.getClaim(name);
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Number || v instanceof Boolean) {
            return String.valueOf(v);
        }
        return null;
    }

    private AuthResult refused(AuthRequest request, String why) {
        LOG.debug("JWT of client '{}' refused by backend '{}': {}", request.clientId(), config.name(), why);
        return AuthResult.badCredentials();
    }

    // ---------------------------------------------------------------- keys

    /** At most one fetch every jwks-min-interval-seconds; claims the slot if so. */
    private synchronized boolean mayFetchNow() {
        return fetch == null || System.nanoTime() - lastFetchNanos >= config.jwksMinInterval().toNanos()
                || !fetch.isDone();
    }

    /** Starts a fetch of the JWKS, or returns the one in flight. */
    private synchronized CompletableFuture<List<Key>> fetchKeys() {
        if (fetch != null && !fetch.isDone()) {
            return fetch;
        }
        lastFetchNanos = System.nanoTime();
        fetches.incrementAndGet();
        HttpRequest req = HttpRequest.newBuilder(config.jwksUrl()).timeout(Duration.ofSeconds(10))
                .header("Accept", "application/json").GET().build();
        CompletableFuture<List<Key>> f = http.sendAsync(req, BoundedBody.atMost(MAX_JWKS_BYTES)).thenApply(resp -> {
            if (resp.statusCode() != 200) {
                throw new IllegalStateException("HTTP status " + resp.statusCode());
            }
            List<Key> parsed = jwks(new String(resp.body(), StandardCharsets.UTF_8));
            keys = parsed;
            keysFetchedNanos = System.nanoTime();
            LOG.info("JWKS {}: {} usable key(s)", config.jwksUrl(), parsed.size());
            return parsed;
        });
        f.whenComplete((k, error) -> {
            if (error != null) {
                LOG.warn("JWKS {} could not be fetched: {}", config.jwksUrl(), error.toString());
            }
        });
        fetch = f;
        return f;
    }

    /** The RSA keys (RS256) and P-256 EC keys (ES256) of a JWKS; other keys (symmetric ones above all) are skipped. */
    private static List<Key> jwks(String json) {
        JWKSet set;
        try {
            set = JWKSet.parse(json);
        } catch (ParseException e) {
            throw new IllegalStateException("not a JWKS: " + e.getMessage(), e);
        }
        List<Key> out = new ArrayList<>();
        for (JWK k : set.getKeys()) {
            try {
                if (k instanceof RSAKey rsa && (k.getAlgorithm() == null || JWSAlgorithm.RS256.equals(k.getAlgorithm()))) {
                    out.add(new Key(k.getKeyID(), JWSAlgorithm.RS256, new RSASSAVerifier(rsa.toRSAPublicKey())));
                } else if (k instanceof ECKey ec && Curve.P_256.equals(ec.getCurve())
                        && (k.getAlgorithm() == null || JWSAlgorithm.ES256.equals(k.getAlgorithm()))) {
                    out.add(new Key(k.getKeyID(), JWSAlgorithm.ES256, new ECDSAVerifier(ec.toECPublicKey())));
                }
            } catch (JOSEException e) {
                LOG.warn("JWKS key {} skipped: {}", k.getKeyID(), e.getMessage());
            }
        }
        return List.copyOf(out);
    }

    private static Key secretKey(Path file) {
        try {
            byte[] secret = Files.readAllBytes(file);
            return new Key(null, JWSAlgorithm.HS256, new MACVerifier(secret));
        } catch (IOException e) {
            throw new IllegalArgumentException("secret-file " + file + ": cannot read: " + e.getMessage(), e);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("secret-file " + file + ": " + e.getMessage()
                    + " (HS256 needs a secret of at least 32 bytes)", e);
        }
    }

    /** A PEM {@code PUBLIC KEY}: RSA (RS256) or EC on P-256 (ES256). */
    private static Key pemKey(Path file) {
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("public-key-file " + file + ": cannot read: " + e.getMessage(), e);
        }
        int begin = pem.indexOf("-----BEGIN PUBLIC KEY-----");
        int end = pem.indexOf("-----END PUBLIC KEY-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("public-key-file " + file + ": expected a PEM 'PUBLIC KEY'");
        }
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + 26, end));
        for (String algorithm : List.of("RSA", "EC")) {
            PublicKey key;
            try {
                key = KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                continue;
            }
            try {
                if (key instanceof RSAPublicKey rsa) {
                    return new Key(null, JWSAlgorithm.RS256, new RSASSAVerifier(rsa));
                }
                if (key instanceof ECPublicKey ec && isP256(ec.getParams())) {
                    return new Key(null, JWSAlgorithm.ES256, new ECDSAVerifier(ec));
                }
            } catch (JOSEException e) {
                throw new IllegalArgumentException("public-key-file " + file + ": " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException("public-key-file " + file + ": not an RSA or P-256 EC public key");
    }

    private static boolean isP256(ECParameterSpec spec) {
        return Curve.P_256.equals(Curve.forECParameterSpec(spec));
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    @Override
    public String toString() {
        return "JwtAuthenticator[" + config.name() + "]";
    }
}
