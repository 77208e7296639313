package io.starling.server.config;

import io.starling.broker.config.BridgeConfig;
import io.starling.broker.config.BridgeConfig.Address;
import io.starling.broker.config.BridgeConfig.Direction;
import io.starling.broker.config.BridgeConfig.Mapping;
import io.starling.broker.config.BridgeConfig.Protocol;
import io.starling.broker.config.BridgeConfig.Tls;
import io.starling.broker.topic.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code bridges} key of the config file: a list of bridges, each a mapping (docs/configuration.md). An unknown
 * key or a bad value is an error naming the bridge and the key.
 */
public final class BridgeConfigParser {

    /** A bridge's name: it becomes part of a client id and of a topic, so no separators or wildcards. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    /** Default keep-alive towards the remote. */
    static final int DEFAULT_KEEP_ALIVE_SECONDS = 60;
    /** Default Session Expiry Interval asked of a 5.0 remote when the session is kept ({@code clean-start: false}). */
    static final long DEFAULT_SESSION_EXPIRY_SECONDS = 3600;

    private BridgeConfigParser() {
    }

    /** Parses the value of {@code bridges}. */
    public static List<BridgeConfig> parse(Object v) {
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("expected a list of bridges, each a mapping with a 'name'");
        }
        List<BridgeConfig> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            BridgeConfig b;
            try {
                b = bridge(list.get(i));
            } catch (IllegalArgumentException | ClassCastException ex) {
                throw new IllegalArgumentException("bridge " + (i + 1) + ": " + ex.getMessage(), ex);
            }
            if (!names.add(b.name())) {
                throw new IllegalArgumentException("bridge " + (i + 1) + ": name '" + b.name() + "' is used twice");
            }
            out.add(b);
        }
        return out;
    }

    private static BridgeConfig bridge(Object v) {
        if (!(v instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("expected a mapping with name, addresses, topics, ...");
        }
        String name = null;
        List<Address> addresses = null;
        Tls tls = null;
        String username = null;
        String password = null;
        Protocol protocol = Protocol.MQTT311;
        int keepAlive = DEFAULT_KEEP_ALIVE_SECONDS;
        String clientId = null;
        boolean cleanStart = false;
        Long sessionExpiry = null;
        boolean bridgeFlag = true;
        Duration connectTimeout = Duration.ofSeconds(10);
        Duration reconnectMin = Duration.ofSeconds(1);
        Duration reconnectMax = Duration.ofSeconds(60);
        List<Mapping> mappings = null;
        String localUsername = null;
        Integer maxQueuedMessages = null;
        Long maxQueuedBytes = null;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            Object value = e.getValue();
            try {
                switch (key) {
                    case "name" -> {
                        name = string(value);
                        if (!NAME.matcher(name).matches()) {
                            throw new IllegalArgumentException("'" + name + "' is not 1 to 64 of A-Z a-z 0-9 _ . -");
                        }
                    }
                    case "addresses" -> addresses = addresses(value);
                    case "tls" -> tls = tls(value);
                    case "username" -> username = string(value);
                    case "password" -> password = string(value);
                    case "protocol" -> protocol = protocol(value);
                    case "keep-alive-seconds" -> keepAlive = range(value, 0, 65_535);
                    case "client-id" -> {
                        clientId = string(value);
                        if (clientId.isEmpty()) {
                            throw new IllegalArgumentException("must not be empty");
                        }
                    }
                    case "clean-start" -> cleanStart = ConfigLoader.bool(value);
                    case "session-expiry-seconds" -> sessionExpiry = (long) range(value, 0, Integer.MAX_VALUE);
                    case "bridge-flag" -> bridgeFlag = ConfigLoader.bool(value);
                    case "connect-timeout-seconds" -> connectTimeout = Duration.ofSeconds(range(value, 1, 3600));
                    case "reconnect-delay-min-ms" -> reconnectMin = Duration.ofMillis(range(value, 1, 3_600_000));
                    case "reconnect-delay-max-ms" -> reconnectMax = Duration.ofMillis(range(value, 1, 3_600_000));
                    case "topics" -> mappings = mappings(value);
                    case "local-username" -> localUsername = string(value);
                    case "max-queued-messages" -> maxQueuedMessages = range(value, 0, Integer.MAX_VALUE);
                    case "max-queued-bytes" -> maxQueuedBytes = longRange(value, 0, Long.MAX_VALUE);
                    default -> throw new IllegalArgumentException("unknown key (see docs/configuration.md)");
                }
            } catch (IllegalArgumentException | ClassCastException ex) {
                throw new IllegalArgumentException("key '" + key + "': " + ex.getMessage(), ex);
            }
        }
        if (name == null) {
            throw new IllegalArgumentException("'name' is required");
        }
        if (addresses == null || addresses.isEmpty()) {
            throw new IllegalArgumentException("'addresses' is required: a list of host:port");
        }
        if (mappings == null || mappings.isEmpty()) {
            throw new IllegalArgumentException("'topics' is required: a list of {pattern, direction, qos, ...}");
        }
        if (reconnectMax.compareTo(reconnectMin) < 0) {
            throw new IllegalArgumentException("reconnect-delay-max-ms must not be below reconnect-delay-min-ms");
        }
        if (password != null && username == null && protocol == Protocol.MQTT311) {
            throw new IllegalArgumentException("a password needs a username on MQTT 3.1.1");
        }
        long expiry = sessionExpiry != null ? sessionExpiry : cleanStart ? 0 : DEFAULT_SESSION_EXPIRY_SECONDS;
        return new BridgeConfig(name, addresses, tls, username, password, protocol, keepAlive,
                clientId == null ? "starling-bridge-" + name : clientId, cleanStart, expiry,
                bridgeFlag && protocol == Protocol.MQTT311, connectTimeout, reconnectMin, reconnectMax, mappings,
                localUsername, maxQueuedMessages, maxQueuedBytes);
    }

    private static List<Address> addresses(Object v) {
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("expected a list of host:port, e.g. [broker.example.com:8883]");
        }
        List<Address> out = new ArrayList<>();
        for (Object o : list) {
            String s = string(o).trim();
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || colon == s.length() - 1) {
                throw new IllegalArgumentException("'" + s + "' is not host:port");
            }
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1); // [::1]:1883
            }
            int port;
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + s + "' is not host:port", e);
            }
            if (port < 1 || port > 65_535) {
                throw new IllegalArgumentException("port out of range in '" + s + "'");
            }
            out.add(new Address(host, port));
        }
        return out;
    }

    private static Tls tls(Object v) {
        if (v == null) {
            return null;
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("expected a mapping with ca, cert, key, verify-hostname");
        }
        Path ca = null;
        Path cert = null;
        Path key = null;
        boolean verify = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String k = String.valueOf(e.getKey());
            switch (k) {
                case "ca" -> ca = Path.of(string(e.getValue()));
                case "cert" -> cert = Path.of(string(e.getValue()));
                case "key" -> key = Path.of(string(e.getValue()));
                case "verify-hostname" -> verify = ConfigLoader.bool(e.getValue());
                default -> throw new IllegalArgumentException("unknown key '" + k + "' (see docs/configuration.md)");
            }
        }
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("cert and key go together");
        }
        return new Tls(ca, cert, key, verify);
    }

    private static Protocol protocol(Object v) {
        String s = v instanceof Number n ? (n.doubleValue() == 5 ? "5.0" : String.valueOf(n)) : string(v).trim();
        return switch (s) {
            case "3.1.1", "mqttv311" -> Protocol.MQTT311;
            case "5", "5.0", "mqttv50" -> Protocol.MQTT5;
            default -> throw new IllegalArgumentException("'" + s + "' is not one of 3.1.1, 5.0");
        };
    }

    private static List<Mapping> mappings(Object v) {
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("expected a list of {pattern, direction, qos, local-prefix, remote-prefix}");
        }
        List<Mapping> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            try {
                out.add(mapping(list.get(i)));
            } catch (IllegalArgumentException | ClassCastException ex) {
                throw new IllegalArgumentException("topic " + (i + 1) + ": " + ex.getMessage(), ex);
            }
        }
        return out;
    }

    private static Mapping mapping(Object v) {
        if (!(v instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("expected a mapping with pattern, direction, qos, local-prefix, remote-prefix");
        }
        String pattern = null;
        Direction direction = Direction.OUT;
        int qos = 0;
        String local = "";
        String remote = "";
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String k = String.valueOf(e.getKey());
            Object value = e.getValue();
            try {
                switch (k) {
                    case "pattern" -> pattern = value == null ? "" : string(value);
                    case "direction" -> direction = direction(value);
                    case "qos" -> qos = range(value, 0, 2);
                    case "local-prefix" -> local = prefix(value);
                    case "remote-prefix" -> remote = prefix(value);
                    default -> throw new IllegalArgumentException("unknown key (see docs/configuration.md)");
                }
            } catch (IllegalArgumentException | ClassCastException ex) {
                throw new IllegalArgumentException("key '" + k + "': " + ex.getMessage(), ex);
            }
        }
        if (pattern == null) {
            throw new IllegalArgumentException("'pattern' is required (a topic filter; empty with both prefixes set)");
        }
        Mapping m = new Mapping(pattern, direction, qos, local, remote);
        if (pattern.isEmpty() && (local.isEmpty() || remote.isEmpty())) {
            throw new IllegalArgumentException("an empty pattern needs local-prefix and remote-prefix (the two topics)");
        }
        for (String f : List.of(m.localFilter(), m.remoteFilter())) {
            if (!Topics.isValidFilter(f) || Topics.isShared(f)) {
                throw new IllegalArgumentException("'" + f + "' is not a valid topic filter");
            }
        }
        return m;
    }

    private static Direction direction(Object v) {
        String s = string(v).trim().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "out" -> Direction.OUT;
            case "in" -> Direction.IN;
            case "both" -> Direction.BOTH;
            default -> throw new IllegalArgumentException("'" + s + "' is not one of out, in, both");
        };
    }

    private static String prefix(Object v) {
        if (v == null) {
            return "";
        }
        String s = string(v);
        if (s.indexOf('+') >= 0 || s.indexOf('#') >= 0 || s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a prefix has no wildcards: '" + s + "'");
        }
        return s;
    }

    private static String string(Object v) {
        if (v == null) {
            throw new IllegalArgumentException("a value is required");
        }
        if (v instanceof Map || v instanceof List) {
            throw new IllegalArgumentException("expected a single value, got '" + v + "'");
        }
        return String.valueOf(v);
    }

    private static int range(Object v, int min, int max) {
        return (int) longRange(v, min, max);
    }

    private static long longRange(Object v, long min, long max) {
        if (!(v instanceof Number n) || v instanceof Double || v instanceof Float) {
            throw new IllegalArgumentException("expected a whole number, got '" + v + "'");
        }
        if (v instanceof java.math.BigInteger) {
            throw new IllegalArgumentException(v + " is not between " + min + " and " + max);
        }
        long l = n.longValue();
        if (l < min || l > max) {
            throw new IllegalArgumentException(l + " is not between " + min + " and " + max);
        }
        return l;
    }
}
