package io.starling.broker.config;

/**
 * The admin listener: HTTP endpoints for operations (Prometheus metrics, health checks, an overview), the
 * {@code admin} section of the config file (see docs/configuration.md and docs/operations.md). Immutable.
 *
 * <p>It listens on loopback only for now: a non-loopback {@code bind} is refused at start, since the listener has
 * neither TLS nor credentials yet.
 *
 * @param enabled whether the admin listener runs
 * @param bind address to bind to
 * @param port port, 0 for an ephemeral one
 */
public record AdminConfig(boolean enabled, String bind, int port) {

    /** Default port of the admin listener of a broker run from the command line or a config file. */
    public static final int DEFAULT_PORT = 8081;

    /** The admin listener of {@code starling broker} and of a config file: enabled on 127.0.0.1:8081. */
    public static final AdminConfig DEFAULTS = new AdminConfig(true, "127.0.0.1", DEFAULT_PORT);

    /**
     * No admin listener: the default of {@link BrokerConfig#builder()}, so a broker embedded in an application (or
     * started by tests) binds no port it was not asked for.
     */
    public static final AdminConfig OFF = new AdminConfig(false, "127.0.0.1", DEFAULT_PORT);

    public AdminConfig {
        if (bind == null || bind.isBlank()) {
            throw new IllegalArgumentException("admin: bind address is required");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("admin: port must be 0..65535, not " + port);
        }
    }

    /** An enabled admin listener on loopback and {@code port} (0 = ephemeral), as tests and tools want it. */
    public static AdminConfig loopback(int port) {
        return new AdminConfig(true, "127.0.0.1", port);
    }

    /** The same listener on {@code port}; port 0 here means off, as {@code --admin-port 0} does. */
    public AdminConfig withPortOrOff(int port) {
        return port == 0 ? new AdminConfig(false, bind, this.port) : new AdminConfig(true, bind, port);
    }

    /** A short description for logs and errors, e.g. {@code admin listener 127.0.0.1:8081}. */
    public String describe() {
        return "admin listener " + bind + ":" + port;
    }
}
