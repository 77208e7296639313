package io.starling.cli.client;

import io.starling.codec.ProtocolVersion;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The connection options of every command that connects to a broker ({@code starling pub}, {@code sub} and each
 * {@code bench} scenario), defined once and mixed into each command with {@code @Mixin}. The flags are named as in
 * mosquitto_pub/sub: {@code -h} host, {@code -p} port, {@code -u}/{@code -P} user name and password, {@code -V}
 * MQTT version, {@code -k} keep-alive; {@code --help} prints the command's help ({@code -h} being the host).
 *
 * <p>What a command adds on top (client identifier, session, timeouts for pub/sub; clients, rates, prefixes for bench)
 * stays with the command. {@code starling broker} takes none of these: its {@code --bind}/{@code --port} name the
 * listener it opens, and {@code -h}/{@code -V} are its help and version flags.
 */
public final class ConnectOptions {

    @Option(names = "-h", paramLabel = "HOST", description = "broker host (default ${DEFAULT-VALUE})", defaultValue = "127.0.0.1")
    String host;

    @Option(names = "-p", paramLabel = "PORT", description = "broker port (default ${DEFAULT-VALUE})", defaultValue = "1883")
    int port;

    @Option(names = "-k", paramLabel = "SECONDS", description = "keep-alive (default ${DEFAULT-VALUE})", defaultValue = "60")
    int keepAlive;

    @Option(names = "-u", paramLabel = "USER", description = "user name")
    String username;

    @Option(names = "-P", paramLabel = "PASSWORD", description = "password")
    String password;

    @Option(names = "-V", paramLabel = "VERSION",
            description = "MQTT version: 311 (default), 5 or 31 (bench: 311 or 5); also mqttv311, mqttv5, mqttv31",
            defaultValue = "311")
    String version;

    @Option(names = "--help", usageHelp = true, description = "show this help")
    boolean help;

    /** The broker's host name or address. */
    public String host() {
        return host;
    }

    /** The broker's port. */
    public int port() {
        return port;
    }

    /** The keep-alive in seconds; {@code IllegalArgumentException} if it does not fit the CONNECT's two bytes. */
    public int keepAlive() {
        if (keepAlive < 0 || keepAlive > 65535) {
            throw new IllegalArgumentException("-k must be 0..65535");
        }
        return keepAlive;
    }

    /** The user name, {@code null} if none. */
    public String username() {
        return username;
    }

    /** The password in UTF-8, {@code null} if none. */
    public byte[] password() {
        return password == null ? null : password.getBytes(StandardCharsets.UTF_8);
    }

    /** The -V value as given. */
    public String versionText() {
        return version;
    }

    /** The MQTT version; {@code IllegalArgumentException} when the -V value is unknown. */
    public ProtocolVersion version() {
        return parseVersion(version);
    }

    /** The version for a -V value; {@code IllegalArgumentException} when unknown. */
    public static ProtocolVersion parseVersion(String v) {
        switch (v.toLowerCase(Locale.ROOT)) {
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
}
