package io.starling.cli;

import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.ConnectPacket;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Option;

/** The connection options {@code starling pub} and {@code starling sub} share (named as in mosquitto_pub/sub). */
final class ConnectOptions {

    @Option(names = "-h", paramLabel = "HOST", description = "broker host (default ${DEFAULT-VALUE})", defaultValue = "127.0.0.1")
    String host;

    @Option(names = "-p", paramLabel = "PORT", description = "broker port (default ${DEFAULT-VALUE})", defaultValue = "1883")
    int port;

    @Option(names = "-i", paramLabel = "ID", description = "client identifier (default starling-pub|sub-PID)")
    String clientId;

    @Option(names = "-k", paramLabel = "SECONDS", description = "keep-alive (default ${DEFAULT-VALUE})", defaultValue = "60")
    int keepAlive;

    @Option(names = "-u", paramLabel = "USER", description = "user name")
    String username;

    @Option(names = "-P", paramLabel = "PASSWORD", description = "password")
    String password;

    @Option(names = "-V", paramLabel = "VERSION", description = "MQTT version: 311 (default), 5 or 31; also mqttv311, mqttv5, mqttv31",
            defaultValue = "311")
    String version;

    @Option(names = "-c", description = "persistent session: Clean Session 0 (3.x) / Clean Start 0 (5.0); needs -i")
    boolean persistent;

    @Option(names = "-x", paramLabel = "SECONDS", description = "Session Expiry Interval (MQTT 5; default 0, or 'never' with -c)")
    Long sessionExpiry;

    @Option(names = "-d", description = "debug: print CONNACK and SUBACK to stderr")
    boolean debug;

    @Option(names = "--timeout", paramLabel = "MS", description = "connect and ack timeout (default ${DEFAULT-VALUE})",
            defaultValue = "10000")
    long timeoutMillis;

    @Option(names = "--help", usageHelp = true, description = "show this help")
    boolean help;

    /** The version for a -V value; {@code IllegalArgumentException} when unknown. */
    static ProtocolVersion parseVersion(String v) {
        switch (v.toLowerCase(java.util.Locale.ROOT)) {
            case "311":
            case "3.1.1":
            case "mqttv311":
                return ProtocolVersion.MQTT_3_1_1;
            case "5":
            case "5.0":
            case "mqttv5":
                return ProtocolVersion.MQTT_5;
            case "31":
            case "3.1":
            case "mqttv31":
                return ProtocolVersion.MQTT_3_1;
            default:
                throw new IllegalArgumentException("unknown MQTT version '" + v + "' (use 311, 5 or 31)");
        }
    }

    /** The CONNECT for these options; {@code IllegalArgumentException} for inconsistent options. */
    ConnectPacket connectPacket(String role) {
        ProtocolVersion v = parseVersion(version);
        if (persistent && (clientId == null || clientId.isEmpty())) {
            throw new IllegalArgumentException("-c (persistent session) needs a client identifier (-i)");
        }
        if (sessionExpiry != null && !v.isV5()) {
            throw new IllegalArgumentException("-x (session expiry) needs MQTT 5 (-V 5)");
        }
        if (keepAlive < 0 || keepAlive > 65535) {
            throw new IllegalArgumentException("-k must be 0..65535");
        }
        String id = clientId != null ? clientId : "starling-" + role + "-" + ProcessHandle.current().pid();
        Properties props = Properties.EMPTY;
        if (v.isV5()) {
            long expiry = sessionExpiry != null ? sessionExpiry : persistent ? 0xFFFF_FFFFL : 0L;
            if (expiry < 0 || expiry > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("-x must be 0..4294967295");
            }
            if (expiry != 0) {
                props = Properties.builder().sessionExpiryInterval(expiry).build();
            }
        }
        return new ConnectPacket(v, id, !persistent, keepAlive, username,
                password == null ? null : password.getBytes(StandardCharsets.UTF_8), null, props);
    }
}
