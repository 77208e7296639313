package io.starling.server.config;

import io.starling.broker.config.ClusterConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the {@code cluster} section of the config file into a {@link ClusterConfig} (keys in docs/configuration.md
 * and docs/cluster.md). An unknown key or a bad value is an error that names the key.
 */
final class ClusterConfigParser {

    private ClusterConfigParser() {
    }

    static ClusterConfig parse(Object v) {
        if (v == null) {
            return null;
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("expected a mapping with node-name, bind, membership-port, link-port,"
                    + " members, min-size, heartbeat-timeout-seconds, secret-file, tls");
        }
        String nodeName = null;
        String bind = "127.0.0.1";
        int membershipPort = ClusterConfig.DEFAULT_MEMBERSHIP_PORT;
        int linkPort = ClusterConfig.DEFAULT_LINK_PORT;
        List<String> members = List.of();
        Integer minSize = null;
        Duration heartbeat = ClusterConfig.DEFAULT_HEARTBEAT_TIMEOUT;
        Path secretFile = null;
        Path[] tls = new Path[3];
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            Object value = e.getValue();
            try {
                switch (key) {
                    case "node-name" -> nodeName = ConfigLoader.string(value);
                    case "bind" -> bind = ConfigLoader.string(value);
                    case "membership-port" -> membershipPort = integer(value);
                    case "link-port" -> linkPort = integer(value);
                    case "members" -> members = strings(value);
                    case "min-size" -> minSize = integer(value);
                    case "heartbeat-timeout-seconds" -> heartbeat = Duration.ofSeconds(integer(value));
                    case "secret-file" -> secretFile = path(value);
                    case "tls" -> tls(value, tls);
                    default -> throw new IllegalArgumentException("unknown key (see docs/configuration.md)");
                }
            } catch (IllegalArgumentException | ClassCastException ex) {
                throw new IllegalArgumentException("key '" + key + "': " + ex.getMessage(), ex);
            }
        }
        if (nodeName == null) {
            nodeName = hostName();
        }
        int min = minSize != null ? minSize : ClusterConfig.majority(members.size());
        return new ClusterConfig(nodeName, bind, membershipPort, linkPort, members, min, heartbeat, secretFile,
                tls[0], tls[1], tls[2]);
    }

    /** {@code tls:} with {@code cert}, {@code key} and {@code ca}. */
    private static void tls(Object v, Path[] out) {
        if (v == null) {
            return;
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("expected a mapping with cert, key, ca");
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String k = String.valueOf(e.getKey());
            switch (k) {
                case "cert" -> out[0] = path(e.getValue());
                case "key" -> out[1] = path(e.getValue());
                case "ca" -> out[2] = path(e.getValue());
                default -> throw new IllegalArgumentException("unknown key '" + k + "' (see docs/configuration.md)");
            }
        }
    }

    private static String hostName() {
        try {
            String h = InetAddress.getLocalHost().getHostName();
            int dot = h.indexOf('.');
            return dot > 0 ? h.substring(0, dot) : h;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("node-name is not set and the host name is unknown", e);
        }
    }

    private static List<String> strings(Object v) {
        if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("expected a list, e.g. [127.0.0.1:5701, 127.0.0.1:5702]");
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) {
            out.add(ConfigLoader.string(o));
        }
        return out;
    }

    private static Path path(Object v) {
        if (!(v instanceof String s) || s.isBlank()) {
            throw new IllegalArgumentException("expected a file name, got '" + v + "'");
        }
        return Path.of(s);
    }

    private static int integer(Object v) {
        if (v instanceof Number n && n.longValue() >= Integer.MIN_VALUE && n.longValue() <= Integer.MAX_VALUE
                && !(v instanceof Double) && !(v instanceof Float)) {
            return n.intValue();
        }
        throw new IllegalArgumentException("expected a whole number, got '" + v + "'");
    }
}
