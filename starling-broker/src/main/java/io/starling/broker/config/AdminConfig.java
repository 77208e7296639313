package io.starling.broker.config;

import java.nio.file.Path;
import java.util.List;

/**
 * The admin listener: HTTP endpoints for operations (Prometheus metrics, health checks, the admin API, the dashboard),
 * the {@code admin} section of the config file (see docs/configuration.md and docs/operations.md). Immutable.
 *
 * <p>Beyond loopback the listener needs TLS ({@code tls}) and at least one source of credentials ({@code users},
 * {@code token-file}): a non-loopback {@code bind} without both is refused at start. When credentials are configured,
 * every request must carry them, on loopback too.
 *
 * @param enabled whether the admin listener runs
 * @param bind address to bind to
 * @param port port, 0 for an ephemeral one
 * @param tls HTTPS certificate and key; {@code null} for plain HTTP
 * @param users users of the broker's password file ({@code security: password-file}) who may use the listener
 *     (HTTP Basic); empty for none
 * @param tokenFile file of bearer tokens, one per line; {@code null} for none
 */
public record AdminConfig(boolean enabled, String bind, int port, Tls tls, List<String> users, Path tokenFile) {

    /** Default port of the admin listener of a broker run from the command line or a config file. */
    public static final int DEFAULT_PORT = 8081;

    /** The admin listener of {@code starling broker} and of a config file: enabled on 127.0.0.1:8081. */
    public static final AdminConfig DEFAULTS = new AdminConfig(true, "127.0.0.1", DEFAULT_PORT);

    /**
     * No admin listener: the default of {@link BrokerConfig#builder()}, so a broker embedded in an application (or
     * started by tests) binds no port it was not asked for.
     */
    public static final AdminConfig OFF = new AdminConfig(false, "127.0.0.1", DEFAULT_PORT);

    /**
     * TLS of the admin listener ({@code admin: tls:}).
     *
     * @param certFile PEM certificate chain
     * @param keyFile PEM private key, PKCS#8, encrypted when {@code keyPassword} is given
     * @param keyPassword the passphrase of the key, {@code null} for an unencrypted key; never shown
     */
    public record Tls(Path certFile, Path keyFile, String keyPassword) {

        public Tls {
            if (certFile == null || keyFile == null) {
                throw new IllegalArgumentException("admin: tls needs cert-file and key-file");
            }
        }

        @Override
        public String toString() {
            return "Tls[certFile=" + certFile + ", keyFile=" + keyFile + ", keyPassword="
                    + (keyPassword == null ? "null" : "***") + "]";
        }
    }

    public AdminConfig {
        if (bind == null || bind.isBlank()) {
            throw new IllegalArgumentException("admin: bind address is required");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("admin: port must be 0..65535, not " + port);
        }
        users = users == null ? List.of() : List.copyOf(users);
    }

    /** A listener without TLS and credentials (loopback only). */
    public AdminConfig(boolean enabled, String bind, int port) {
        this(enabled, bind, port, null, List.of(), null);
    }

    /** An enabled admin listener on loopback and {@code port} (0 = ephemeral), as tests and tools want it. */
    public static AdminConfig loopback(int port) {
        return new AdminConfig(true, "127.0.0.1", port);
    }

    /** The same listener on {@code port}; port 0 here means off, as {@code --admin-port 0} does. */
    public AdminConfig withPortOrOff(int port) {
        return port == 0 ? new AdminConfig(false, bind, this.port, tls, users, tokenFile)
                : new AdminConfig(true, bind, port, tls, users, tokenFile);
    }

    /** The same listener bound to {@code address}. */
    public AdminConfig withBind(String address) {
        return new AdminConfig(enabled, address, port, tls, users, tokenFile);
    }

    /** The same listener with HTTPS. */
    public AdminConfig withTls(Tls t) {
        return new AdminConfig(enabled, bind, port, t, users, tokenFile);
    }

    /** The same listener with these admin users (of the broker's password file). */
    public AdminConfig withUsers(List<String> names) {
        return new AdminConfig(enabled, bind, port, tls, names, tokenFile);
    }

    /** The same listener with a bearer token file. */
    public AdminConfig withTokenFile(Path file) {
        return new AdminConfig(enabled, bind, port, tls, users, file);
    }

    /** Whether requests must carry credentials: users or a token file are configured. */
    public boolean requiresCredentials() {
        return !users.isEmpty() || tokenFile != null;
    }

    /** A short description for logs and errors, e.g. {@code admin listener 127.0.0.1:8081}. */
    public String describe() {
        return "admin listener " + bind + ":" + port;
    }
}
