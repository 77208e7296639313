package io.starling.cli;

import io.starling.cli.client.ConnectOptions;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.ConnectPacket;
import picocli.CommandLine.Option;

/**
 * The options {@code starling pub} and {@code starling sub} add to the shared {@link ConnectOptions} (named as in
 * mosquitto_pub/sub): client identifier, persistent session and its expiry, debug output, and the timeout.
 */
final class ClientOptions {

    @Option(names = "-i", paramLabel = "ID", description = "client identifier (default starling-pub|sub-PID)")
    String clientId;

    @Option(names = "-c", description = "persistent session: Clean Session 0 (3.x) / Clean Start 0 (5.0); needs -i")
    boolean persistent;

    @Option(names = "-x", paramLabel = "SECONDS", description = "Session Expiry Interval (MQTT 5; default 0, or 'never' with -c)")
    Long sessionExpiry;

    @Option(names = "-d", description = "debug: print CONNACK and SUBACK to stderr")
    boolean debug;

    @Option(names = "--timeout", paramLabel = "MS", description = "connect and ack timeout (default ${DEFAULT-VALUE})",
            defaultValue = "10000")
    long timeoutMillis;

    /** The CONNECT for these options and {@code conn}; {@code IllegalArgumentException} for inconsistent options. */
    ConnectPacket connectPacket(ConnectOptions conn, String role) {
        ProtocolVersion v = conn.version();
        if (persistent && (clientId == null || clientId.isEmpty())) {
            throw new IllegalArgumentException("-c (persistent session) needs a client identifier (-i)");
        }
        if (sessionExpiry != null && !v.isV5()) {
            throw new IllegalArgumentException("-x (session expiry) needs MQTT 5 (-V 5)");
        }
        int keepAlive = conn.keepAlive();
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
        return new ConnectPacket(v, id, !persistent, keepAlive, conn.username(), conn.password(), null, props);
    }
}
