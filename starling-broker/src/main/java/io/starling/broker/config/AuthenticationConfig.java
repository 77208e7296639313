package io.starling.broker.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code authentication} key: authentication backends asked in order (a chain: the first that does not ignore
 * the credentials decides). Listeners use the whole chain, or the backends their own {@code authentication} key
 * names. See docs/integrations.md.
 *
 * @param backends the backends in the order they are asked; empty = none configured (the password file alone, as
 *     without this key)
 */
public record AuthenticationConfig(List<Backend> backends) {

    /** No backends. */
    public static final AuthenticationConfig NONE = new AuthenticationConfig(List.of());

    /** Checks that names are unique. */
    public AuthenticationConfig {
        backends = backends == null ? List.of() : List.copyOf(backends);
        Set<String> names = new HashSet<>();
        for (Backend b : backends) {
            if (!names.add(b.name())) {
                throw new IllegalArgumentException("two backends are named '" + b.name() + "': give each a 'name'");
            }
        }
    }

    /** The backend named {@code name}, {@code null} if there is none. */
    public Backend find(String name) {
        for (Backend b : backends) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        return null;
    }

    /** One backend of the chain. */
    public sealed interface Backend permits PasswordFileBackend, JwtBackend, HttpBackend {
        /** The name listeners refer to it by; its type unless set. */
        String name();
    }

    /**
     * The password file at this place of the chain: users it does not know are left to the next backend.
     *
     * @param file the file; {@code null} = the listener's {@code password-file}, else the broker's
     */
    public record PasswordFileBackend(String name, Path file) implements Backend {
        public PasswordFileBackend {
            Objects.requireNonNull(name, "name");
        }
    }

    /** How the CONNECT's User Name relates to the token. */
    public enum UsernameCheck {
        /** The User Name is optional and not looked at. */
        IGNORE,
        /** A User Name is required and must equal the user name claim. */
        MATCH
    }

    /**
     * JWT in the CONNECT's Password, verified with exactly one of a secret, a public key or a JWKS URL.
     *
     * @param secretFile HS256: the file holding the shared secret (its bytes, at least 32)
     * @param publicKeyFile RS256 or ES256 (P-256): a PEM public key (SubjectPublicKeyInfo)
     * @param jwksUrl RS256/ES256 keys from a JSON Web Key Set, fetched off the event loops and cached
     * @param jwksRefresh how long fetched keys are used before they are fetched again
     * @param jwksMinInterval at least this long between two fetches (an unknown {@code kid} fetches at once otherwise)
     * @param leeway clock skew allowed on {@code exp} and {@code nbf}
     * @param issuer the {@code iss} required; {@code null} = not checked
     * @param audiences one of these must be in {@code aud}; empty = not checked
     * @param usernameClaim the claim that becomes the user name (ACL {@code %u}, {@code user:} rules)
     * @param usernameCheck whether the CONNECT's User Name must equal that claim
     * @param aclClaims claims offered to ACL rules as {@code %{claim}} (string or number values)
     * @param disconnectAtExpiry whether a client is disconnected when its token's {@code exp} (plus leeway) passes
     */
    public record JwtBackend(String name, Path secretFile, Path publicKeyFile, URI jwksUrl, Duration jwksRefresh,
            Duration jwksMinInterval, Duration leeway, String issuer, List<String> audiences, String usernameClaim,
            UsernameCheck usernameCheck, List<String> aclClaims, boolean disconnectAtExpiry) implements Backend {

        public JwtBackend {
            Objects.requireNonNull(name, "name");
            int keys = (secretFile != null ? 1 : 0) + (publicKeyFile != null ? 1 : 0) + (jwksUrl != null ? 1 : 0);
            if (keys != 1) {
                throw new IllegalArgumentException("a jwt backend needs exactly one of secret-file, public-key-file,"
                        + " jwks-url");
            }
            audiences = audiences == null ? List.of() : List.copyOf(audiences);
            aclClaims = aclClaims == null ? List.of() : List.copyOf(aclClaims);
            usernameClaim = usernameClaim == null ? "sub" : usernameClaim;
            usernameCheck = usernameCheck == null ? UsernameCheck.IGNORE : usernameCheck;
            jwksRefresh = jwksRefresh == null ? Duration.ofMinutes(5) : jwksRefresh;
            jwksMinInterval = jwksMinInterval == null ? Duration.ofSeconds(30) : jwksMinInterval;
            leeway = leeway == null ? Duration.ofSeconds(30) : leeway;
        }
    }

    /** What the HTTP backend answers when the service times out, cannot be reached or answers nonsense. */
    public enum OnFailure {
        /** Refuse the client as not authorized (CONNACK 0x87 / 0x05). */
        DENY,
        /** Leave the client to the next backend. */
        IGNORE,
        /** Refuse the client as server unavailable (CONNACK 0x88 / 0x03). */
        ERROR
    }

    /**
     * An HTTP service that decides: a POST of the client's credentials as JSON to {@code url}.
     *
     * @param headers added to every request (an authorization token for the service, say)
     * @param timeout how long an answer may take
     * @param onFailure what a timeout, a connection error or an answer that is not understood means
     * @param cacheTtl how long an answer is reused for the same credentials; zero = no cache
     * @param cacheSize answers cached at most
     * @param maxConcurrent requests in flight at most; beyond, clients are refused with 0x89 Server busy / 0x03
     */
    public record HttpBackend(String name, URI url, Map<String, String> headers, Duration timeout, OnFailure onFailure,
            Duration cacheTtl, int cacheSize, int maxConcurrent) implements Backend {

        public HttpBackend {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(url, "url");
            headers = headers == null ? Map.of() : Map.copyOf(headers);
            timeout = timeout == null ? Duration.ofSeconds(5) : timeout;
            onFailure = onFailure == null ? OnFailure.ERROR : onFailure;
            cacheTtl = cacheTtl == null ? Duration.ofSeconds(60) : cacheTtl;
            if (cacheSize < 0 || maxConcurrent <= 0) {
                throw new IllegalArgumentException("cache-size must be >= 0 and max-concurrent > 0");
            }
        }
    }
}
