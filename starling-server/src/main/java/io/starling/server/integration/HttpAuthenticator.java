package io.starling.server.integration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.starling.broker.auth.AuthRequest;
import io.starling.broker.auth.AuthResult;
import io.starling.broker.auth.Authenticator;
import io.starling.broker.config.AuthenticationConfig.HttpBackend;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code http} authentication backend: POSTs the client's credentials as JSON to a URL and takes the decision
 * from the answer (docs/integrations.md):
 * <ul>
 *   <li>200 with a JSON object {@code {"result": "allow"|"deny"|"ignore", "user": "...", "attributes": {...}}}:
 *       ALLOW as {@code user} (default: the CONNECT's User Name, else the client id) with the attributes for
 *       {@code %{name}} in ACL rules; BAD_CREDENTIALS; IGNORE;</li>
 *   <li>200 with an empty body, or 204: ALLOW as the User Name (else the client id);</li>
 *   <li>401 or 403: BAD_CREDENTIALS;</li>
 *   <li>anything else, a body that is not such JSON or larger than 64 KiB, no answer within {@code timeout-ms}, a
 *       connection error: {@code on-failure} decides ({@code deny}: NOT_AUTHORIZED; {@code ignore}: IGNORE;
 *       {@code error}: the stage fails, CONNACK 0x88 Server unavailable).</li>
 * </ul>
 * Answers (not failures) are cached for {@code cache-seconds}, keyed by a keyed hash of listener, client id, User
 * Name, Password, certificate names and client address (no password is kept). At most {@code max-concurrent}
 * requests are in flight; beyond that clients are refused at once with 0x89 Server busy.
 *
 * <p>Threads: the request is sent with the JDK's asynchronous HTTP client; nothing waits on an event loop; the stage
 * completes on the client's threads. Thread-safe.
 */
public final class HttpAuthenticator implements Authenticator {

    private static final Logger LOG = LoggerFactory.getLogger(HttpAuthenticator.class);
    private static final int MAX_BODY = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpBackend config;
    private final HttpClient http;
    /** A dead service fails every login: one line every 10 s, with the count of the others. */
    private final io.starling.broker.log.RateLimitedLog failureLog = new io.starling.broker.log.RateLimitedLog(LOG,
            org.slf4j.event.Level.WARN, java.time.Duration.ofSeconds(10));
    private final Semaphore inFlight;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    private final byte[] cacheKey = new byte[32];
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong cacheHits = new AtomicLong();

    private record Cached(AuthResult result, long expiresNanos) {
    }

    public HttpAuthenticator(HttpBackend config) {
        this.config = config;
        this.http = HttpClient.newBuilder().connectTimeout(config.timeout())
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.inFlight = new Semaphore(config.maxConcurrent());
        new SecureRandom().nextBytes(cacheKey);
    }

    /** Requests sent so far (for tests and tools). */
    public long requests() {
        return requests.get();
    }

    /** Answers taken from the cache so far. */
    public long cacheHits() {
        return cacheHits.get();
    }

    @Override
    public CompletionStage<AuthResult> authenticate(AuthRequest request) {
        boolean caching = !config.cacheTtl().isZero() && config.cacheSize() > 0;
        String key = caching ? cacheKey(request) : null;
        if (caching) {
            Cached c = cache.get(key);
            if (c != null && System.nanoTime() - c.expiresNanos() < 0) {
                cacheHits.incrementAndGet();
                return CompletableFuture.completedFuture(c.result());
            }
        }
        if (!inFlight.tryAcquire()) {
            return CompletableFuture.failedFuture(new RejectedExecutionException(
                    "too many requests to " + config.url() + " in flight"));
        }
        requests.incrementAndGet();
        CompletableFuture<AuthResult> out;
        try {
            HttpRequest.Builder rb = HttpRequest.newBuilder(config.url()).timeout(config.timeout())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body(request)));
            config.headers().forEach(rb::header);
            out = http.sendAsync(rb.build(), BoundedBody.atMost(MAX_BODY))
                    .orTimeout(config.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS)
                    .thenApply(resp -> decide(resp, request));
        } catch (RuntimeException e) {
            out = CompletableFuture.failedFuture(e);
        }
        return out.handle((result, error) -> {
            inFlight.release();
            if (error == null) {
                if (caching) {
                    if (cache.size() >= config.cacheSize()) {
                        evict();
                    }
                    cache.put(key, new Cached(result, System.nanoTime() + config.cacheTtl().toNanos()));
                }
                return result;
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            failureLog.log("Authentication service {} failed for client '{}': {} (on-failure: {})", config.url(),
                    request.clientId(), cause, config.onFailure().name().toLowerCase(java.util.Locale.ROOT));
            return switch (config.onFailure()) {
                case DENY -> AuthResult.notAuthorized();
                case IGNORE -> AuthResult.ignore();
                case ERROR -> throw new CompletionException(new IOException("authentication service "
                        + config.url() + " failed: " + cause, cause));
            };
        });
    }

    /** Drops expired answers; if that frees nothing, all of them. */
    private void evict() {
        long now = System.nanoTime();
        for (Iterator<Cached> it = cache.values().iterator(); it.hasNext();) {
            if (now - it.next().expiresNanos() >= 0) {
                it.remove();
            }
        }
        if (cache.size() >= config.cacheSize()) {
            cache.clear();
        }
    }

    private byte[] body(AuthRequest r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("clientId", r.clientId());
        o.put("username", r.username());
        byte[] pw = r.password();
        o.put("password", pw == null ? null : new String(pw, StandardCharsets.UTF_8));
        o.put("passwordBase64", pw == null ? null : Base64.getEncoder().encodeToString(pw));
        if (r.certificate() != null) {
            ObjectNode cert = o.putObject("certificate");
            cert.put("commonName", r.certificate().commonName());
            r.certificate().subjectAltNames().forEach(cert.putArray("subjectAltNames")::add);
        } else {
            o.putNull("certificate");
        }
        o.put("address", r.remoteAddress() == null ? null : r.remoteAddress().getAddress().getHostAddress());
        o.put("port", r.remoteAddress() == null ? 0 : r.remoteAddress().getPort());
        o.put("listener", r.listener() == null ? null : r.listener().type().configName() + ":" + r.listener().port());
        try {
            return JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private AuthResult decide(HttpResponse<byte[]> resp, AuthRequest request) {
        int status = resp.statusCode();
        String fallbackUser = request.username() != null && !request.username().isEmpty() ? request.username()
                : request.clientId();
        if (status == 401 || status == 403) {
            return AuthResult.badCredentials();
        }
        if (status == 204 || (status == 200 && resp.body().length == 0)) {
            return AuthResult.allow(fallbackUser);
        }
        if (status != 200) {
            throw new IllegalStateException("HTTP status " + status);
        }
        JsonNode n;
        try {
            n = JSON.readTree(resp.body());
        } catch (IOException e) {
            throw new IllegalStateException("the answer is not JSON: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject() || !n.path("result").isTextual()) {
            throw new IllegalStateException("the answer has no \"result\"");
        }
        return switch (n.get("result").asText()) {
            case "allow" -> {
                JsonNode u = n.get("user");
                String user = u != null && u.isTextual() && !u.asText().isEmpty() ? u.asText() : fallbackUser;
                Map<String, String> attributes = new HashMap<>();
                JsonNode a = n.get("attributes");
                if (a != null && a.isObject()) {
                    a.properties().forEach(e -> {
                        if (e.getValue().isValueNode() && !e.getValue().isNull()) {
                            attributes.put(e.getKey(), e.getValue().asText());
                        }
                    });
                }
                yield AuthResult.allow(user, attributes, 0);
            }
            case "deny" -> AuthResult.badCredentials();
            case "ignore" -> AuthResult.ignore();
            default -> throw new IllegalStateException("unknown result '" + n.get("result").asText() + "'");
        };
    }

    private String cacheKey(AuthRequest r) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(cacheKey, "HmacSHA256"));
            for (String part : new String[] {r.listener() == null ? "" : r.listener().describe(), r.clientId(),
                    r.username(), r.certificate() == null ? null : r.certificate().names().toString(),
                    r.remoteAddress() == null ? null : r.remoteAddress().getAddress().getHostAddress()}) {
                mac.update(part == null ? new byte[] {1} : ("0" + part).getBytes(StandardCharsets.UTF_8));
                mac.update((byte) 0);
            }
            byte[] pw = r.password();
            mac.update(pw == null ? new byte[] {1} : pw);
            return Base64.getEncoder().encodeToString(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    @Override
    public String toString() {
        return "HttpAuthenticator[" + config.name() + ", " + config.url() + "]";
    }
}
