package io.starling.broker.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One network listener of the broker (the {@code listeners} key of the config file, see docs/configuration.md).
 * Immutable; built with {@link #builder(Type)}.
 *
 * @param type the transport: plain TCP, TLS, WebSocket or WebSocket over TLS
 * @param bind address to bind to
 * @param port port, 0 for an ephemeral one
 * @param path HTTP path of the WebSocket endpoint ({@code ws}/{@code wss}; {@code /mqtt} by default)
 * @param cert PEM certificate chain of the server ({@code tls}/{@code wss})
 * @param key PEM private key of the server, PKCS#8 ({@code tls}/{@code wss})
 * @param ca PEM certificates of the CAs that client certificates are verified against; {@code null} = none
 * @param clientAuth whether clients must, may or do not present a certificate
 * @param protocols TLS protocol versions enabled, e.g. {@code TLSv1.3}; empty = TLSv1.3 and TLSv1.2
 * @param ciphers cipher suites enabled; empty = the provider's defaults
 * @param maxConnections client connections open at once on this listener; 0 = no limit of its own (the broker's
 *     {@code max-connections} still applies)
 * @param allowAnonymous whether clients without a User Name (and, with {@code useIdentityAsUsername}, without a
 *     certificate) may connect when the listener authenticates clients; without authentication, the consent needed
 *     to listen on a non-loopback address
 * @param passwordFile the password file of this listener, {@code null} = the broker's {@code password-file} (if any)
 * @param useIdentityAsUsername on {@code tls}/{@code wss} listeners with client certificates: take the user name
 *     from the certificate (its CN or first SAN) instead of the CONNECT; no password is needed then
 * @param maxPublishRate PUBLISH packets per second one connection of this listener may send; 0 = unlimited,
 *     {@link #BROKER_DEFAULT} = the broker's {@code max-publish-rate}
 * @param maxPublishBytesRate bytes of PUBLISH packets per second one connection of this listener may send;
 *     0 = unlimited, {@link #BROKER_DEFAULT} = the broker's {@code max-publish-bytes-rate}
 * @param authentication the names of the {@code authentication} backends this listener asks, in order; empty = all
 *     of them
 */
public record ListenerConfig(
        Type type,
        String bind,
        int port,
        String path,
        Path cert,
        Path key,
        Path ca,
        ClientAuth clientAuth,
        List<String> protocols,
        List<String> ciphers,
        boolean allowAnonymous,
        int maxConnections,
        Path passwordFile,
        CertIdentity useIdentityAsUsername,
        long maxPublishRate,
        long maxPublishBytesRate,
        List<String> authentication) {

    /** A per-listener value not set: the broker's value applies. */
    public static final long BROKER_DEFAULT = -1;

    /** Default HTTP path of WebSocket listeners. */
    public static final String DEFAULT_WEBSOCKET_PATH = "/mqtt";

    /** Transport of a listener. */
    public enum Type {
        /** MQTT over plain TCP. */
        TCP,
        /** MQTT over TLS. */
        TLS,
        /** MQTT over WebSocket. */
        WS,
        /** MQTT over WebSocket over TLS. */
        WSS;

        /** Whether the listener needs a certificate and key. */
        public boolean secure() {
            return this == TLS || this == WSS;
        }

        /** Whether the listener speaks WebSocket. */
        public boolean webSocket() {
            return this == WS || this == WSS;
        }

        /** The name used in the config file: {@code tcp}, {@code tls}, {@code ws}, {@code wss}. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Client certificates on a TLS listener. */
    public enum ClientAuth {
        /** No certificate is asked for. */
        NONE,
        /** A certificate is asked for; a client without one connects, one with a bad one does not. */
        OPTIONAL,
        /** A client without a valid certificate does not connect. */
        REQUIRE
    }

    /** Which name of a client certificate becomes the user name ({@code use-identity-as-username}). */
    public enum CertIdentity {
        /** The certificate does not name the user; User Name and Password of the CONNECT are used. */
        NONE,
        /** The subject's Common Name. */
        CN,
        /** The first Subject Alternative Name (DNS name, e-mail address, URI or IP address). */
        SAN
    }

    public ListenerConfig {
        authentication = authentication == null ? List.of() : List.copyOf(authentication);
        if (type == null) {
            throw new IllegalArgumentException("listener type is required (tcp, tls, ws or wss)");
        }
        if (bind == null || bind.isBlank()) {
            throw new IllegalArgumentException(type.configName() + " listener: bind address is required");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException(type.configName() + " listener: port must be 0..65535, not " + port);
        }
        if (path == null) {
            path = DEFAULT_WEBSOCKET_PATH;
        }
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException(type.configName() + " listener: path must start with '/', not '" + path + "'");
        }
        if (clientAuth == null) {
            clientAuth = ClientAuth.NONE;
        }
        protocols = protocols == null ? List.of() : List.copyOf(protocols);
        ciphers = ciphers == null ? List.of() : List.copyOf(ciphers);
        if (maxConnections < 0) {
            throw new IllegalArgumentException(type.configName() + " listener on port " + port
                    + ": max-connections must not be negative");
        }
        if (type.secure()) {
            if (cert == null || key == null) {
                throw new IllegalArgumentException(type.configName() + " listener on port " + port + ": cert and key are required");
            }
            if (clientAuth != ClientAuth.NONE && ca == null) {
                throw new IllegalArgumentException(type.configName() + " listener on port " + port
                        + ": client-auth " + clientAuth.name().toLowerCase(Locale.ROOT) + " needs a ca file");
            }
        }
        if (useIdentityAsUsername == null) {
            useIdentityAsUsername = CertIdentity.NONE;
        }
        if (maxPublishRate < BROKER_DEFAULT) {
            throw new IllegalArgumentException(type.configName() + " listener on port " + port
                    + ": max-publish-rate must not be negative");
        }
        if (maxPublishBytesRate < BROKER_DEFAULT) {
            throw new IllegalArgumentException(type.configName() + " listener on port " + port
                    + ": max-publish-bytes-rate must not be negative");
        }
        if (useIdentityAsUsername != CertIdentity.NONE && (!type.secure() || clientAuth == ClientAuth.NONE)) {
            throw new IllegalArgumentException(type.configName() + " listener on port " + port
                    + ": use-identity-as-username needs a tls or wss listener with client-auth optional or require");
        }
    }

    /** Whether this listener takes user names from client certificates. */
    public boolean usesCertificateIdentity() {
        return useIdentityAsUsername != CertIdentity.NONE;
    }

    /** PUBLISH packets per second per connection on this listener: its own value, else the broker's; 0 = unlimited. */
    public long effectiveMaxPublishRate(BrokerConfig broker) {
        return maxPublishRate == BROKER_DEFAULT ? broker.limits().maxPublishRate() : maxPublishRate;
    }

    /** Bytes of PUBLISH packets per second per connection on this listener: its own value, else the broker's. */
    public long effectiveMaxPublishBytesRate(BrokerConfig broker) {
        return maxPublishBytesRate == BROKER_DEFAULT ? broker.limits().maxPublishBytesRate() : maxPublishBytesRate;
    }

    /** A builder with the defaults: bind 127.0.0.1, port by type (1883, 8883, 8080, 8443), path /mqtt. */
    public static Builder builder(Type type) {
        return new Builder(type);
    }

    /** The plain TCP listener of a config without a {@code listeners} list. */
    public static ListenerConfig tcp(String bind, int port) {
        return builder(Type.TCP).bind(bind).port(port).build();
    }

    /** A builder holding this listener's values, to change some of them. */
    public Builder toBuilder() {
        Builder b = new Builder(type);
        b.bind = bind;
        b.port = port;
        b.path = path;
        b.cert = cert;
        b.key = key;
        b.ca = ca;
        b.clientAuth = clientAuth;
        b.protocols = protocols;
        b.ciphers = ciphers;
        b.allowAnonymous = allowAnonymous;
        b.maxConnections = maxConnections;
        b.passwordFile = passwordFile;
        b.useIdentityAsUsername = useIdentityAsUsername;
        b.maxPublishRate = maxPublishRate;
        b.maxPublishBytesRate = maxPublishBytesRate;
        b.authentication = authentication;
        return b;
    }

    /** A short description for logs and errors, e.g. {@code tls listener 0.0.0.0:8883}. */
    public String describe() {
        return type.configName() + " listener " + bind + ":" + port + (type.webSocket() ? path : "");
    }

    /** Builder of a {@link ListenerConfig}. */
    public static final class Builder {
        private final Type type;
        private String bind = "127.0.0.1";
        private int port;
        private String path = DEFAULT_WEBSOCKET_PATH;
        private Path cert;
        private Path key;
        private Path ca;
        private ClientAuth clientAuth = ClientAuth.NONE;
        private List<String> protocols = List.of();
        private List<String> ciphers = List.of();
        private boolean allowAnonymous;
        private int maxConnections;
        private Path passwordFile;
        private CertIdentity useIdentityAsUsername = CertIdentity.NONE;
        private List<String> authentication = List.of();
        private long maxPublishRate = BROKER_DEFAULT;
        private long maxPublishBytesRate = BROKER_DEFAULT;

        private Builder(Type type) {
            this.type = type;
            if (type != null) {
                port = switch (type) {
                    case TCP -> 1883;
                    case TLS -> 8883;
                    case WS -> 8080;
                    case WSS -> 8443;
                };
            }
        }

        public Builder bind(String v) {
            bind = v;
            return this;
        }

        public Builder port(int v) {
            port = v;
            return this;
        }

        public Builder path(String v) {
            path = v;
            return this;
        }

        public Builder cert(Path v) {
            cert = v;
            return this;
        }

        public Builder key(Path v) {
            key = v;
            return this;
        }

        public Builder ca(Path v) {
            ca = v;
            return this;
        }

        public Builder clientAuth(ClientAuth v) {
            clientAuth = v;
            return this;
        }

        public Builder protocols(List<String> v) {
            protocols = v;
            return this;
        }

        public Builder ciphers(List<String> v) {
            ciphers = v;
            return this;
        }

        public Builder allowAnonymous(boolean v) {
            allowAnonymous = v;
            return this;
        }

        /** Client connections open at once on this listener; 0 = no limit of its own. */
        public Builder maxConnections(int v) {
            maxConnections = v;
            return this;
        }

        public Builder passwordFile(Path v) {
            passwordFile = v;
            return this;
        }

        public Builder useIdentityAsUsername(CertIdentity v) {
            useIdentityAsUsername = v;
            return this;
        }

        /** PUBLISH packets per second per connection; 0 = unlimited, {@link #BROKER_DEFAULT} = the broker's. */
        public Builder maxPublishRate(long v) {
            maxPublishRate = v;
            return this;
        }

        /** Bytes of PUBLISH packets per second per connection; 0 = unlimited, {@link #BROKER_DEFAULT} = the broker's. */
        public Builder maxPublishBytesRate(long v) {
            maxPublishBytesRate = v;
            return this;
        }

        /** Names of the {@code authentication} backends this listener asks, in order; empty = all. */
        public Builder authentication(List<String> v) {
            authentication = v;
            return this;
        }

        public ListenerConfig build() {
            return new ListenerConfig(type, bind, port, path, cert, key, ca, clientAuth, protocols, ciphers, allowAnonymous,
                    maxConnections, passwordFile, useIdentityAsUsername, maxPublishRate, maxPublishBytesRate,
                    authentication);
        }
    }
}
