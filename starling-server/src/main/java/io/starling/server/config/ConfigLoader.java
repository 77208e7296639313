package io.starling.server.config;

import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.BrokerConfig.DropPolicy;
import io.starling.broker.config.BrokerConfig.SharedSubscriptionStrategy;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.config.SecurityConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads the YAML config file into a {@link BrokerConfig}. Every key is optional and documented in
 * docs/configuration.md; an unknown key or a bad value is an error that names the key.
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    /** Thrown for a config file that cannot be used; the message names the file, the key and the reason. */
    public static final class ConfigException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public ConfigException(String message) {
            super(message);
        }
    }

    public static BrokerConfig.Builder load(Path file) {
        Object root;
        try (Reader r = Files.newBufferedReader(file)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        } catch (YAMLException e) {
            throw new ConfigException(file + ": not valid YAML: " + e.getMessage());
        }
        BrokerConfig.Builder b = BrokerConfig.builder();
        if (root == null) {
            return b;
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new ConfigException(file + ": expected a mapping of keys to values at the top level");
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            try {
                apply(b, key, e.getValue());
            } catch (IllegalArgumentException | ClassCastException ex) {
                throw new ConfigException(file + ": key '" + key + "': " + ex.getMessage());
            }
        }
        return b;
    }

    private static void apply(BrokerConfig.Builder b, String key, Object v) {
        switch (key) {
            case "bind" -> b.bindAddress(string(v));
            case "port" -> b.port(integer(v));
            case "data-dir" -> b.dataDir(Path.of(string(v)));
            case "connect-timeout-seconds" -> b.connectTimeout(Duration.ofSeconds(integer(v)));
            case "max-packet-size" -> b.maxPacketSize(integer(v));
            case "max-inflight-messages" -> b.maxInflightMessages(integer(v));
            case "receive-maximum" -> b.receiveMaximum(integer(v));
            case "max-queued-messages" -> b.maxQueuedMessages(integer(v));
            case "max-queued-bytes" -> b.maxQueuedBytes(longValue(v));
            case "queue-qos0-messages" -> b.queueQos0Messages(bool(v));
            case "drop-policy" -> b.dropPolicy(DropPolicy.valueOf(string(v).toUpperCase(Locale.ROOT).replace('-', '_')));
            case "v3-session-expiry-seconds" -> {
                long s = longValue(v);
                b.v3SessionExpiry(s < 0 ? null : Duration.ofSeconds(s));
            }
            case "max-session-expiry-seconds" -> b.maxSessionExpirySeconds(longValue(v));
            case "max-client-id-length" -> b.maxClientIdLength(integer(v));
            case "max-keep-alive-seconds" -> b.maxKeepAliveSeconds(integer(v));
            case "maximum-qos" -> b.maximumQos(integer(v));
            case "retain-available" -> b.retainAvailable(bool(v));
            case "wildcard-subscriptions-available" -> b.wildcardSubscriptionsAvailable(bool(v));
            case "subscription-identifiers-available" -> b.subscriptionIdentifiersAvailable(bool(v));
            case "shared-subscriptions-available" -> b.sharedSubscriptionsAvailable(bool(v));
            case "topic-alias-maximum" -> b.topicAliasMaximum(integer(v));
            case "shared-subscription-strategy" -> b.sharedSubscriptionStrategy(
                    SharedSubscriptionStrategy.valueOf(string(v).toUpperCase(Locale.ROOT).replace('-', '_')));
            case "response-information" -> b.responseInformation(v == null ? null : string(v));
            case "validate-utf8-payloads" -> b.validateUtf8Payloads(bool(v));
            case "max-subscriptions-per-client" -> b.maxSubscriptionsPerClient(integer(v));
            case "io-threads" -> b.ioThreads(integer(v));
            case "sys-interval-seconds" -> b.sysIntervalSeconds(integer(v));
            case "storage" -> b.storage(BrokerConfig.Storage.valueOf(string(v).toUpperCase(Locale.ROOT)));
            case "fsync" -> b.fsync(BrokerConfig.Fsync.valueOf(string(v).toUpperCase(Locale.ROOT)));
            case "scram-users" -> {
                if (!(v instanceof Map<?, ?> users)) {
                    throw new IllegalArgumentException("expected a mapping of user names to passwords");
                }
                Map<String, String> m = new java.util.HashMap<>();
                users.forEach((u, pw) -> m.put(String.valueOf(u), string(pw)));
                b.scramUsers(m);
            }
            case "listeners" -> b.listeners(listeners(v));
            case "max-connections" -> b.maxConnections(integer(v));
            case "max-connect-rate-per-address" -> b.maxConnectRatePerAddress(number(v));
            case "connect-burst-per-address" -> b.connectBurstPerAddress(integer(v));
            case "max-topic-length" -> b.maxTopicLength(integer(v));
            case "max-topic-levels" -> b.maxTopicLevels(integer(v));
            case "max-queued-bytes-total" -> b.maxQueuedBytesTotal(bytesOrShare(v, BrokerConfig::heapPercent, "the heap"));
            case "max-stored-bytes-total" -> b.maxStoredBytesTotal(longValue(v));
            case "max-incomplete-packet-bytes-total" -> b.maxIncompletePacketBytesTotal(bytesOrShare(v,
                    BrokerConfig::directMemoryPercent, "the direct memory"));
            case "incomplete-packet-timeout-seconds" -> {
                long s = longValue(v);
                if (s < 0) {
                    throw new IllegalArgumentException("must not be negative (0 = no limit)");
                }
                b.incompletePacketTimeout(Duration.ofSeconds(s));
            }
            case "max-connect-packet-size" -> b.maxConnectPacketSize(integer(v));
            case "max-retained-messages" -> b.maxRetainedMessages(longValue(v));
            case "max-retained-bytes" -> {
                long bytes = bytesOrShare(v, BrokerConfig::heapPercent, "the heap");
                if (bytes < 0) {
                    throw new IllegalArgumentException("must not be negative");
                }
                b.maxRetainedBytes(bytes);
            }
            case "max-publish-rate" -> b.maxPublishRate(rate(v));
            case "max-publish-bytes-rate" -> b.maxPublishBytesRate(rate(v));
            case "password-file" -> b.passwordFile(path(v));
            case "acl-file" -> b.aclFile(path(v));
            case "auth-failure-limit", "auth-failure-window-seconds", "auth-block-seconds" -> {
                long n = longValue(v);
                if (n < 0) {
                    throw new IllegalArgumentException("must not be negative");
                }
                SecurityConfig s = b.security();
                b.security(s.withAuthFailureLimit(
                        key.equals("auth-failure-limit") ? integer(v) : s.authFailureLimit(),
                        key.equals("auth-failure-window-seconds") ? Duration.ofSeconds(n) : s.authFailureWindow(),
                        key.equals("auth-block-seconds") ? Duration.ofSeconds(n) : s.authBlock()));
            }
            case "flapping-max-connects", "flapping-window-seconds", "flapping-ban-seconds" -> {
                long n = longValue(v);
                if (n < 0) {
                    throw new IllegalArgumentException("must not be negative");
                }
                BrokerConfig.Flapping f = b.flapping();
                b.flapping(new BrokerConfig.Flapping(
                        key.equals("flapping-max-connects") ? integer(v) : f.maxConnects(),
                        key.equals("flapping-window-seconds") ? Duration.ofSeconds(n) : f.window(),
                        key.equals("flapping-ban-seconds") ? Duration.ofSeconds(n) : f.ban()));
            }
            case "admin" -> b.admin(admin(v));
            case "authentication" -> b.authentication(IntegrationsConfigParser.authentication(v));
            case "webhooks" -> b.webhooks(IntegrationsConfigParser.webhooks(v));
            case "bridges" -> b.bridges(BridgeConfigParser.parse(v));
            case "cluster" -> b.cluster(ClusterConfigParser.parse(v));
            default -> throw new IllegalArgumentException("unknown key (see docs/configuration.md)");
        }
    }

    /**
     * The {@code admin} section: {@code enabled}, {@code bind}, {@code port} (each defaults to
     * {@link AdminConfig#DEFAULTS}), {@code tls} ({@code cert-file}, {@code key-file}, {@code key-password}),
     * {@code users} and {@code token-file}.
     */
    private static AdminConfig admin(Object v) {
        if (v == null) {
            return AdminConfig.DEFAULTS;
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("expected a mapping with enabled, bind, port, tls, users, token-file");
        }
        boolean enabled = AdminConfig.DEFAULTS.enabled();
        String bind = AdminConfig.DEFAULTS.bind();
        int port = AdminConfig.DEFAULTS.port();
        AdminConfig.Tls tls = null;
        List<String> users = List.of();
        Path tokenFile = null;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            Object value = e.getValue();
            try {
                switch (key) {
                    case "enabled" -> enabled = bool(value);
                    case "bind" -> bind = string(value);
                    case "port" -> port = integer(value);
                    case "tls" -> tls = adminTls(value);
                    case "users" -> users = strings(value);
                    case "token-file" -> tokenFile = path(value);
                    default -> throw new IllegalArgumentException("unknown key (see docs/configuration.md)");
                }
            } catch (IllegalArgumentException | ClassCastException ex) {
                throw new IllegalArgumentException("key '" + key + "': " + ex.getMessage(), ex);
            }
        }
        return new AdminConfig(enabled, bind, port, tls, users, tokenFile);
    }

    /** {@code admin: tls:}: {@code cert-file}, {@code key-file} (both required) and {@code key-password}. */
    private static AdminConfig.Tls adminTls(Object v) {
        if (v == null) {
            return null;
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("expected a mapping with cert-file, key-file, key-password");
        }
        Path cert = null;
        Path key = null;
        String password = null;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String k = String.valueOf(e.getKey());
            switch (k) {
                case "cert-file" -> cert = path(e.getValue());
                case "key-file" -> key = path(e.getValue());
                case "key-password" -> password = e.getValue() == null ? null : String.valueOf(e.getValue());
                default -> throw new IllegalArgumentException("unknown key '" + k + "' (see docs/configuration.md)");
            }
        }
        if (cert == null || key == null) {
            throw new IllegalArgumentException("tls needs cert-file and key-file");
        }
        return new AdminConfig.Tls(cert, key, password);
    }

    private static List<ListenerConfig> listeners(Object v) {
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("expected a list of listeners, each a mapping with a 'type'");
        }
        List<ListenerConfig> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            try {
                out.add(listener(list.get(i)));
            } catch (IllegalArgumentException | ClassCastException ex) {
                throw new IllegalArgumentException("listener " + (i + 1) + ": " + ex.getMessage(), ex);
            }
        }
        return out;
    }

    private static ListenerConfig listener(Object v) {
        if (!(v instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("expected a mapping with type, port, ...");
        }
        Object type = map.get("type");
        if (type == null) {
            throw new IllegalArgumentException("'type' is required: tcp, tls, ws or wss");
        }
        ListenerConfig.Type t = enumValue(ListenerConfig.Type.class, string(type), "type");
        ListenerConfig.Builder b = ListenerConfig.builder(t);
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            Object value = e.getValue();
            try {
                switch (key) {
                    case "type" -> {
                        // read above
                    }
                    case "bind" -> b.bind(string(value));
                    case "port" -> b.port(integer(value));
                    case "path" -> b.path(string(value));
                    case "cert" -> b.cert(Path.of(string(value)));
                    case "key" -> b.key(Path.of(string(value)));
                    case "ca" -> b.ca(value == null ? null : Path.of(string(value)));
                    case "client-auth" -> b.clientAuth(enumValue(ListenerConfig.ClientAuth.class, string(value), key));
                    case "protocols" -> b.protocols(strings(value));
                    case "ciphers" -> b.ciphers(strings(value));
                    case "allow-anonymous" -> b.allowAnonymous(bool(value));
                    case "max-connections" -> b.maxConnections(integer(value));
                    case "password-file" -> b.passwordFile(path(value));
                    case "authentication" -> b.authentication(strings(value));
                    case "max-publish-rate" -> b.maxPublishRate(rate(value));
                    case "max-publish-bytes-rate" -> b.maxPublishBytesRate(rate(value));
                    case "use-identity-as-username" -> b.useIdentityAsUsername(
                            enumValue(ListenerConfig.CertIdentity.class, string(value), key));
                    default -> throw new IllegalArgumentException("unknown key (see docs/configuration.md)");
                }
            } catch (IllegalArgumentException | ClassCastException ex) {
                throw new IllegalArgumentException("key '" + key + "': " + ex.getMessage(), ex);
            }
        }
        if (!t.secure()) {
            for (String tlsKey : List.of("cert", "key", "ca", "client-auth", "protocols", "ciphers",
                    "use-identity-as-username")) {
                if (map.containsKey(tlsKey)) {
                    throw new IllegalArgumentException("key '" + tlsKey + "' is for tls and wss listeners only");
                }
            }
        }
        if (!t.webSocket() && map.containsKey("path")) {
            throw new IllegalArgumentException("key 'path' is for ws and wss listeners only");
        }
        return b.build();
    }

    private static <E extends Enum<E>> E enumValue(Class<E> type, String v, String key) {
        try {
            return Enum.valueOf(type, v.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            List<String> names = new ArrayList<>();
            for (E c : type.getEnumConstants()) {
                names.add(c.name().toLowerCase(Locale.ROOT).replace('_', '-'));
            }
            throw new IllegalArgumentException("'" + v + "' is not one of " + names + " for " + key, e);
        }
    }

    private static List<String> strings(Object v) {
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("expected a list, e.g. [a, b]");
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) {
            out.add(string(o));
        }
        return out;
    }

    /** A file name, {@code null} for none. */
    private static Path path(Object v) {
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s) || s.isBlank()) {
            throw new IllegalArgumentException("expected a file name, got '" + v + "'");
        }
        return Path.of(s);
    }

    /** A required scalar as text (also for the section parsers of this package). */
    static String string(Object v) {
        if (v == null) {
            throw new IllegalArgumentException("a value is required");
        }
        return String.valueOf(v);
    }

    private static int integer(Object v) {
        long l = longValue(v);
        if (l > Integer.MAX_VALUE || l < Integer.MIN_VALUE) {
            throw new IllegalArgumentException("value out of range: " + v);
        }
        return (int) l;
    }

    private static long longValue(Object v) {
        if (v instanceof Number n) {
            return n.longValue();
        }
        throw new IllegalArgumentException("expected a number, got '" + v + "'");
    }

    /** A rate per second: a whole number, 0 = unlimited. */
    private static long rate(Object v) {
        long n = longValue(v);
        if (n < 0) {
            throw new IllegalArgumentException("must not be negative (0 = unlimited)");
        }
        return n;
    }

    private static double number(Object v) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException("expected a number, got '" + v + "'");
    }

    /**
     * A number of bytes, or a share of {@code what} written as a percentage, e.g. {@code 25%}, turned into bytes by
     * {@code percentOf}.
     */
    private static long bytesOrShare(Object v, java.util.function.IntToLongFunction percentOf, String what) {
        if (v instanceof String s && s.trim().endsWith("%")) {
            String digits = s.trim();
            digits = digits.substring(0, digits.length() - 1).trim();
            try {
                return percentOf.applyAsLong(Integer.parseInt(digits));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected bytes or a percentage of " + what + " such as 25%, got '"
                        + v + "'", e);
            }
        }
        if (v instanceof Number) {
            return longValue(v);
        }
        throw new IllegalArgumentException("expected bytes or a percentage of " + what + " such as 25%, got '" + v + "'");
    }

    /** {@code true} or {@code false} (also for the section parsers of this package). */
    static boolean bool(Object v) {
        if (v instanceof Boolean bo) {
            return bo;
        }
        throw new IllegalArgumentException("expected true or false, got '" + v + "'");
    }
}
