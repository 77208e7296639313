package io.starling.it.security;

import static io.starling.it.spec.Wire.b;
import static io.starling.it.spec.Wire.packet;
import static io.starling.it.spec.Wire.str;
import static io.starling.it.spec.Wire.u16;

import io.starling.broker.auth.PasswordFile;
import io.starling.broker.auth.PasswordHash;
import io.starling.broker.config.BrokerConfig;
import io.starling.it.spec.Wire;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Helpers of the security tests: password files, brokers with a configuration of their own, CONNECT packets with a
 * User Name and Password for 3.1.1 and 5.0, and the reason code of a CONNACK.
 */
final class Sec {

    /** Iterations of the test password files: the format's minimum, so that tests stay fast. */
    static final int FAST = PasswordHash.MIN_ITERATIONS;

    private Sec() {
    }

    /** Writes a password file with {@code user, password, user, password, ...}. */
    static Path passwordFile(Path file, int iterations, String... userPasswordPairs) {
        PasswordFile pf = PasswordFile.empty();
        for (int i = 0; i < userPasswordPairs.length; i += 2) {
            pf = pf.with(userPasswordPairs[i], PasswordHash.create(userPasswordPairs[i + 1].toCharArray(), iterations));
        }
        try {
            pf.write(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    static Path passwordFile(Path file, String... userPasswordPairs) {
        return passwordFile(file, FAST, userPasswordPairs);
    }

    /** Writes a text file (an ACL file, a broken password file) atomically, so the broker never reads half of it. */
    static Path write(Path file, String... lines) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".new");
            Files.write(tmp, List.of(lines));
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** An in-process broker on ephemeral ports with its own data directory under {@code dir}. */
    static StarlingServer start(Path dir, Consumer<BrokerConfig.Builder> customiser) {
        BrokerConfig.Builder b = BrokerConfig.builder().bindAddress("127.0.0.1").port(0);
        try {
            b.dataDir(Files.createTempDirectory(dir, "data"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        customiser.accept(b);
        return StarlingServer.start(b.build());
    }

    /**
     * A clean-session CONNECT, keep alive 60 s, for protocol level 4 (3.1.1) or 5 (5.0, no properties), with a
     * User Name and Password when they are not {@code null}.
     */
    static int[] connect(int level, String clientId, String user, String password) {
        int flags = Wire.CLEAN | (user != null ? Wire.USER_NAME : 0) | (password != null ? Wire.PASSWORD : 0);
        List<int[]> parts = new ArrayList<>(List.of(str("MQTT"), b(level), b(flags), u16(60)));
        if (level == 5) {
            parts.add(b(0x00));                            // no CONNECT properties
        }
        parts.add(str(clientId));
        if (user != null) {
            parts.add(str(user));
        }
        if (password != null) {
            parts.add(str(password));
        }
        return packet(0x10, parts.toArray(int[][]::new));
    }

    /** As {@link #connect} with a QoS 0 Will on {@code willTopic} (5.0: no Will properties). */
    static int[] connectWithWill(int level, String clientId, String user, String password, String willTopic) {
        int flags = Wire.CLEAN | Wire.WILL | Wire.USER_NAME | Wire.PASSWORD;
        List<int[]> parts = new ArrayList<>(List.of(str("MQTT"), b(level), b(flags), u16(60)));
        if (level == 5) {
            parts.add(b(0x00));                            // no CONNECT properties
        }
        parts.add(str(clientId));
        if (level == 5) {
            parts.add(b(0x00));                            // no Will properties
        }
        parts.add(str(willTopic));
        parts.add(str("gone"));                           // Will payload
        parts.add(str(user));
        parts.add(str(password));
        return packet(0x10, parts.toArray(int[][]::new));
    }

    /** Connects over a raw socket and returns the CONNACK's return / reason code (the connection stays open). */
    static int connack(RawClient c, int level, String clientId, String user, String password) {
        c.send(connect(level, clientId, user, password));
        byte[] p = c.readPacket(java.time.Duration.ofSeconds(10));
        if (p == null || (p[0] & 0xFF) != 0x20) {
            throw new AssertionError("expected CONNACK, got " + (p == null ? "nothing" : RawClient.hex(p)));
        }
        if ((p[3] & 0xFF) != 0 && p[2] != 0) {
            // [MQTT-3.2.2-4] (3.1.1) / [MQTT-3.2.2-6] (5.0): Session Present 0 with a refusal
            throw new AssertionError("refusing CONNACK with Session Present 1: " + RawClient.hex(p));
        }
        return p[3] & 0xFF;
    }

    /** Opens a connection to the port, connects and returns the CONNACK code; closes the connection. */
    static int connackCode(int port, int level, String clientId, String user, String password) {
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            return connack(c, level, clientId, user, password);
        }
    }

    /** The code of "bad user name or password" for the level: 0x04 (3.1.1) or 0x86 (5.0). */
    static int badCredentials(int level) {
        return level == 5 ? 0x86 : 0x04;
    }

    /** The code of "not authorized" for the level: 0x05 (3.1.1) or 0x87 (5.0). */
    static int notAuthorized(int level) {
        return level == 5 ? 0x87 : 0x05;
    }
}
