package io.starling.it.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.BrokerProcess;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bridge's incoming QoS 2 across a crash of Starling: a broker in its own process ({@code starling.jar broker},
 * {@code storage: rocksdb}) bridged to a remote written here that speaks MQTT 3.1.1 bytes, so that the remote can hold
 * the PUBREL back. The remote sends a QoS 2 PUBLISH, gets its PUBREC, and Starling is killed with SIGKILL; on the
 * connection after the restart the remote sends the PUBLISH again (DUP=1, same packet id), then the PUBREL: Starling
 * answers PUBREC and PUBCOMP and publishes the message locally once [MQTT-4.3.3-2]. A packet id whose PUBREL came is a
 * new message next time [MQTT-4.3.3-2]; so is one the remote forgot by losing the bridge's session (CONNACK with
 * Session Present 0), even after the restart.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BridgeCrashTest {

    private static final Path JAR = BrokerProcess.JAR;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run leaves broker.log behind
    Path dir;

    private Process broker;
    private int port;

    @AfterEach
    void tearDown() throws Exception {
        if (broker != null) {
            broker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void startBroker(int remotePort) throws IOException {
        Path config = dir.resolve("starling.yaml");
        Files.writeString(config, """
                bind: 127.0.0.1
                port: %d
                data-dir: %s
                storage: rocksdb
                fsync: os
                bridges:
                  - name: fake
                    addresses: ["127.0.0.1:%d"]
                    reconnect-delay-min-ms: 50
                    reconnect-delay-max-ms: 200
                    topics:
                      - {pattern: "in/#", direction: in, qos: 2}
                """.formatted(port, dir.resolve("data"), remotePort), StandardCharsets.UTF_8);
        broker = BrokerProcess.start(dir, config, port, Duration.ofSeconds(60), "-Xmx256m");
    }

    @Test
    void qos2FromTheRemoteIsPublishedOnceAcrossSigkill_MQTT_4_3_3_2() throws Exception {
        assertThat(JAR).as("the broker jar (built by starling-cli)").exists();
        port = MosquittoBroker.freePort();
        try (ServerSocket remote = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            remote.setSoTimeout(60_000);
            startBroker(remote.getLocalPort());
            String uri = "tcp://127.0.0.1:" + port;
            // a persistent subscriber, away: what the bridge publishes locally waits in its stored queue, once per routing
            try (Peer sub = Peer.connect(uri, "sub", false)) {
                sub.subscribe("in/#", 2);
                sub.disconnect();
            }

            try (RawRemote r = RawRemote.accept(remote)) {
                r.handshake(false);
                r.publishQos2(9, "in/a", "lost-session", false);
                r.expect(0x50, 9); // PUBREC; no PUBREL: the connection ends with the flow open
            }
            try (RawRemote r = RawRemote.accept(remote)) {
                r.handshake(false); // the remote lost the bridge's session: packet id 9 is free again
                r.publishQos2(7, "in/a", "once", false);
                r.expect(0x50, 7); // PUBREC: the message and its packet id are stored
                broker.destroyForcibly().waitFor(); // SIGKILL before the PUBREL
            }

            startBroker(remote.getLocalPort());
            try (RawRemote r = RawRemote.accept(remote)) {
                r.handshake(true);
                r.publishQos2(7, "in/a", "once", true); // [MQTT-4.4.0-1] sent again on the new connection
                r.expect(0x50, 7); // [MQTT-4.3.3-2] PUBREC again for a PUBLISH whose PUBREL has not come
                r.pubrel(7);
                r.expect(0x70, 7); // PUBCOMP
                r.publishQos2(9, "in/a", "fresh", false); // forgotten with the remote's session, also in the store
                r.expect(0x50, 9);
                r.pubrel(9);
                r.expect(0x70, 9);
                r.publishQos2(7, "in/a", "reused", false); // [MQTT-4.3.3-2] after PUBCOMP the id is a new message
                r.expect(0x50, 7);
                r.pubrel(7);
                r.expect(0x70, 7);
                r.pubrel(11); // [MQTT-4.3.3-2] PUBCOMP even for a PUBREL of an id that awaits none (3.1.1)
                r.expect(0x70, 11);
            }
            try (Peer back = Peer.connect(uri, "sub", false)) {
                // "once" published locally once: a second routing would come before "fresh"
                assertThat(back.texts(4)).containsExactly("lost-session", "once", "fresh", "reused");
            }
        }
    }

    /** The remote's side of the bridge's connection, as MQTT 3.1.1 bytes on a socket. */
    private static final class RawRemote implements AutoCloseable {

        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;

        private RawRemote(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(30_000);
            this.in = new DataInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        static RawRemote accept(ServerSocket server) throws IOException {
            return new RawRemote(server.accept());
        }

        /** Reads the CONNECT, answers CONNACK (Session Present as given), reads the SUBSCRIBE, answers SUBACK. */
        void handshake(boolean sessionPresent) throws IOException {
            assertThat(read()[0]).as("CONNECT").isEqualTo(0x10);
            write(0x20, new byte[] {(byte) (sessionPresent ? 1 : 0), 0});
            int[] sub = read();
            assertThat(sub[0]).as("SUBSCRIBE").isEqualTo(0x82);
            write(0x90, new byte[] {(byte) (sub[1] >> 8), (byte) sub[1], 2});
        }

        void publishQos2(int packetId, String topic, String payload, boolean dup) throws IOException {
            byte[] t = topic.getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.write(t.length >> 8);
            body.write(t.length);
            body.write(t);
            body.write(packetId >> 8);
            body.write(packetId);
            body.write(payload.getBytes(StandardCharsets.UTF_8));
            write(0x34 | (dup ? 0x08 : 0), body.toByteArray());
        }

        void pubrel(int packetId) throws IOException {
            write(0x62, new byte[] {(byte) (packetId >> 8), (byte) packetId});
        }

        /** The next packet (a PINGREQ is answered and skipped) is of this first byte and packet id. */
        void expect(int firstByte, int packetId) throws IOException {
            int[] p = read();
            assertThat(p).as("first byte and packet id").containsExactly(firstByte, packetId);
        }

        /** The next packet's first byte and, if its body has two bytes or more, their value (a packet id). */
        private int[] read() throws IOException {
            while (true) {
                int first = in.readUnsignedByte();
                int length = 0;
                int shift = 0;
                int b;
                do {
                    b = in.readUnsignedByte();
                    length |= (b & 0x7F) << shift;
                    shift += 7;
                } while ((b & 0x80) != 0);
                byte[] body = new byte[length];
                in.readFully(body);
                if (first == 0xC0) {
                    write(0xD0, new byte[0]); // PINGRESP
                    continue;
                }
                int id = length >= 2 ? ((body[0] & 0xFF) << 8) | (body[1] & 0xFF) : -1;
                return new int[] {first, id};
            }
        }

        private void write(int firstByte, byte[] body) throws IOException {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            p.write(firstByte);
            int n = body.length;
            do {
                int b = n & 0x7F;
                n >>>= 7;
                p.write(n > 0 ? b | 0x80 : b);
            } while (n > 0);
            p.write(body);
            out.write(p.toByteArray());
            out.flush();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
