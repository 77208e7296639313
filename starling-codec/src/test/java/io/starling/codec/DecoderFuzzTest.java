package io.starling.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.MqttPacket;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile input for the decoder, seeded random property tests (see {@link Tries}): arbitrary bytes, and valid packets
 * of every type mutated (bits flipped, bytes set, inserted, removed, truncated, Remaining Length and two-byte length
 * fields changed), in MQTT 3.1, 3.1.1 and 5.0. Whatever the input, the decoder returns a packet or throws a
 * {@link DecodeException}, never anything else (no IndexOutOfBounds, no NegativeArraySize, no OutOfMemoryError), and
 * it allocates in proportion to the bytes it was given, not to the lengths those bytes claim: a 10-byte packet saying
 * "a string of 65535 bytes follows" must not make it allocate 64 KiB.
 */
class DecoderFuzzTest {

    private static final ProtocolVersion[] VERSIONS = ProtocolVersion.values();
    /** The versions {@link PacketGenerators} makes valid packets for. */
    private static final List<ProtocolVersion> GENERATED_VERSIONS = List.of(ProtocolVersion.MQTT_3_1_1,
            ProtocolVersion.MQTT_5);
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * Bytes a decode may allocate beyond a multiple of its input: objects of fixed size (the packet, its lists,
     * exception and message strings). Well below 64 KiB, so that one buffer of the size a two-byte length claims
     * (a string or binary data of up to 65,535 bytes) makes a short input fail.
     */
    private static final long FIXED_ALLOCATION = 16 * 1024;
    /** Bytes per input byte: a string is copied to a byte[] and then a String (UTF-16 at worst), plus list slots. */
    private static final long ALLOCATION_PER_BYTE = 32;
    /** Byte values that mean something to the decoder: lengths, flags, the ends of ranges, UTF-8 lead bytes. */
    private static final int[] INTERESTING_BYTES = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x7F, 0x80, 0xFF, 0xC0, 0xED,
        0xF4};

    @BeforeAll
    static void warmUp() {
        // class loading and first-call allocations are not the decoder's per-input cost
        for (int i = 0; i < 2_000; i++) {
            for (ProtocolVersion v : VERSIONS) {
                decodeQuietly(0x30, new byte[] {0, 1, 'a', 'x'}, v, false);
                decodeQuietly(0x10, new byte[] {0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0, 0, 0}, v, true);
            }
        }
    }

    // ---------------------------------------------------------------- properties

    /** A first byte and a body of arbitrary bytes, decoded as a CONNECT and as every version's other packets. */
    record Body(int firstByte, byte[] body) {
        @Override
        public String toString() {
            return String.format("first byte %02x, body %s", firstByte, Tries.hex(body));
        }
    }

    @Test
    void arbitraryBodiesGiveAPacketOrADecodeException() {
        Tries.check("arbitrary bodies", 0xB0D1_0000L, 3000,
                r -> new Body(r.nextBoolean() ? validFirstByte(r) : r.nextInt(256), arbitraryBytes(r, 300)),
                Body::toString, in -> {
                    for (ProtocolVersion v : VERSIONS) {
                        decodeSafely(in.firstByte(), in.body(), v, false);
                    }
                    decodeSafely(in.firstByte(), in.body(), null, true);
                });
    }

    /** The bytes a client sends on a connection; {@code steps} are the mutations of a valid stream, if any. */
    record Stream(List<String> steps, byte[] bytes) {
        @Override
        public String toString() {
            return (steps.isEmpty() ? "" : "valid stream mutated by " + steps + ": ") + Tries.hex(bytes);
        }
    }

    @Test
    void arbitraryStreamsFramedLikeTheServerDoes() {
        // arbitrary bytes, or a CONNECT and packets of its version, mutated
        Tries.check("arbitrary streams", 0x5723_0000L, 3000, r -> {
            if (r.nextBoolean()) {
                return new Stream(List.of(), arbitraryBytes(r, 400));
            }
            List<String> steps = new ArrayList<>();
            byte[] mutated = mutate(r, validStream(r), steps);
            return new Stream(steps, mutated);
        }, Stream::toString, in -> decodeStream(in.bytes()));
    }

    /** A valid packet, the version it is valid in, and its bytes, mutated by {@code steps}. */
    record Mutated(MqttPacket packet, ProtocolVersion version, byte[] original, List<String> steps, byte[] mutated) {
        @Override
        public String toString() {
            return packet + " in " + version + ", encoded " + Tries.hex(original) + ", mutated by " + steps + " to "
                    + Tries.hex(mutated);
        }
    }

    @Test
    void mutatedValidPacketsGiveAPacketOrADecodeException() {
        Set<PacketType> generated = EnumSet.noneOf(PacketType.class);
        Tries.check("mutated valid packets", 0x3A7E_0000L, 2000, r -> {
            ProtocolVersion v = PacketGenerators.pick(r, GENERATED_VERSIONS);
            MqttPacket p = PacketGenerators.packet(r, v);
            byte[] bytes = Codec.encode(p, v);
            List<String> steps = new ArrayList<>();
            return new Mutated(p, v, bytes, steps, mutate(r, bytes, steps));
        }, Mutated::toString, in -> {
            generated.add(in.packet().type());
            byte[] mutated = in.mutated();
            if (mutated.length == 0) {
                return;
            }
            int firstByte = mutated[0] & 0xFF;
            byte[] body = bodyAsDelimited(mutated);
            boolean connect = in.packet() instanceof ConnectPacket;
            decodeSafely(firstByte, body, connect ? null : in.version(), connect);
            // and the same body under the other versions: a client may lie about what it speaks
            for (ProtocolVersion v : VERSIONS) {
                decodeSafely(firstByte, body, v, false);
            }
        });
        assertEveryTypeGenerated(generated);
    }

    /** A valid packet, the version it is valid in, and by how many bytes its body is cut short. */
    record Truncated(MqttPacket packet, ProtocolVersion version, byte[] bytes, int cut) {
        @Override
        public String toString() {
            return packet + " in " + version + ", encoded " + Tries.hex(bytes) + ", body cut short by " + cut;
        }
    }

    @Test
    void truncatedValidPacketsAreRefused() {
        Set<PacketType> generated = EnumSet.noneOf(PacketType.class);
        Tries.check("truncated valid packets", 0x7255_0000L, 500, r -> {
            ProtocolVersion v = PacketGenerators.pick(r, GENERATED_VERSIONS);
            MqttPacket p = PacketGenerators.packet(r, v);
            byte[] bytes = Codec.encode(p, v);
            int bodyLength = bytes.length - bodyOffset(bytes);
            return new Truncated(p, v, bytes, bodyLength == 0 ? 0 : PacketGenerators.intIn(r, 1, bodyLength));
        }, Truncated::toString, in -> {
            generated.add(in.packet().type());
            if (in.cut() == 0) {
                return; // nothing to cut: PINGREQ, PINGRESP, a 3.1.1 DISCONNECT
            }
            byte[] bytes = in.bytes();
            // the body cut short, handed to the decoder as if it were the whole body
            byte[] body = Arrays.copyOfRange(bytes, bodyOffset(bytes), bytes.length - in.cut());
            boolean connect = in.packet() instanceof ConnectPacket;
            MqttPacket p = decodeSafely(bytes[0] & 0xFF, body, connect ? null : in.version(), connect);
            if (p != null) {
                // only packets whose tail is optional may decode (v5 acks without reason code or properties, a
                // PUBLISH whose payload just got shorter, a SUBACK/UNSUBACK with fewer codes, ...): never the original
                assertThat(Codec.encode(p, in.version())).as("re-encoded %s", p).isNotEqualTo(bytes);
            }
        });
        assertEveryTypeGenerated(generated);
    }

    // ---------------------------------------------------------------- checks

    /** As MqttFrameDecoder frames a stream: fixed header, Remaining Length, then the body if it is all there. */
    private static void decodeStream(byte[] stream) {
        ByteBuf buf = Unpooled.wrappedBuffer(stream);
        try {
            ProtocolVersion version = null;
            while (buf.isReadable()) {
                long header;
                try {
                    header = FixedHeader.peekRemainingLength(buf);
                } catch (DecodeException e) {
                    return; // a Remaining Length over 4 bytes: a DecodeException is the expected outcome
                }
                if (header == FixedHeader.NEED_MORE_BYTES) {
                    return;
                }
                int headerSize = FixedHeader.headerSize(header);
                int remaining = FixedHeader.remainingLength(header);
                if (buf.readableBytes() < headerSize + remaining) {
                    return; // the server waits for the rest; a dribble of bytes is the slow-sender test's matter
                }
                int firstByte = buf.getUnsignedByte(buf.readerIndex());
                byte[] body = new byte[remaining];
                buf.getBytes(buf.readerIndex() + headerSize, body);
                buf.skipBytes(headerSize + remaining);
                MqttPacket p = decodeSafely(firstByte, body, version, version == null);
                if (p == null) {
                    return; // the server closes the connection after a DecodeException
                }
                if (p instanceof ConnectPacket c) {
                    version = c.version();
                }
            }
        } finally {
            buf.release();
        }
    }

    /**
     * The body of a (possibly mutated) packet as its Remaining Length delimits it, cut short if the bytes end first;
     * everything after the first byte when there is no Remaining Length to go by.
     */
    private static byte[] bodyAsDelimited(byte[] packet) {
        ByteBuf buf = Unpooled.wrappedBuffer(packet);
        try {
            long header = FixedHeader.peekRemainingLength(buf);
            if (header == FixedHeader.NEED_MORE_BYTES) {
                return Arrays.copyOfRange(packet, 1, packet.length);
            }
            int headerSize = FixedHeader.headerSize(header);
            int end = (int) Math.min(packet.length, (long) headerSize + FixedHeader.remainingLength(header));
            return Arrays.copyOfRange(packet, Math.min(headerSize, end), end);
        } catch (DecodeException e) {
            return Arrays.copyOfRange(packet, 1, packet.length);
        } finally {
            buf.release();
        }
    }

    private static void assertEveryTypeGenerated(Set<PacketType> generated) {
        if (System.getProperty(Tries.TRIES_PROPERTY) == null) {
            assertThat(generated).as("packet types generated").containsAll(PacketGenerators.types(ProtocolVersion.MQTT_5));
        }
    }

    /**
     * Decodes, asserting the outcome is a packet or a {@link DecodeException} and that the allocation stayed
     * proportional to the input; returns the packet or {@code null}.
     */
    private static MqttPacket decodeSafely(int firstByte, byte[] body, ProtocolVersion version, boolean connect) {
        String as = connect ? "CONNECT" : String.valueOf(version);
        Object outcome;
        long allocated;
        try {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            outcome = decodeQuietly(firstByte, body, version, connect);
            allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        } catch (RuntimeException | Error e) {
            throw new AssertionError("decoding " + new Body(firstByte, body) + " as " + as + " threw " + e, e);
        }
        long bound = FIXED_ALLOCATION + ALLOCATION_PER_BYTE * body.length;
        for (int retry = 0; retry < 3 && allocated > bound; retry++) {
            // the first run of a code path pays for class loading, string concatenation bootstraps and the like:
            // what the input makes the decoder allocate comes back on every run, so the least of a few runs counts
            long before = THREADS.getCurrentThreadAllocatedBytes();
            decodeQuietly(firstByte, body, version, connect);
            allocated = Math.min(allocated, THREADS.getCurrentThreadAllocatedBytes() - before);
        }
        assertThat(allocated).as("bytes allocated decoding %s as %s", new Body(firstByte, body), as)
                .isLessThanOrEqualTo(bound);
        return outcome instanceof MqttPacket p ? p : null;
    }

    /** The packet, or the DecodeException; anything else propagates. Nothing but the decoder runs in it. */
    private static Object decodeQuietly(int firstByte, byte[] body, ProtocolVersion version, boolean connect) {
        ByteBuf buf = Unpooled.wrappedBuffer(body);
        Object outcome;
        try {
            if (connect) {
                outcome = PacketDecoder.decodeConnect(firstByte, buf);
            } else {
                outcome = PacketDecoder.decode(firstByte, buf, version, PacketDecoder.Sender.CLIENT);
            }
        } catch (DecodeException e) {
            outcome = e;
        }
        int readerIndex = buf.readerIndex();
        buf.release();
        if (outcome instanceof DecodeException e && (readerIndex != 0 || e.reasonCode() == null)) {
            throw new AssertionError("after a DecodeException the reader index is restored and a reason is given: "
                    + readerIndex + ", " + e.reasonCode());
        }
        return outcome;
    }

    private static int bodyOffset(byte[] packet) {
        int i = 1;
        while ((packet[i] & 0x80) != 0) {
            i++;
        }
        return i + 1;
    }

    // ---------------------------------------------------------------- generators

    /** Up to {@code maxSize} bytes, short ones more often; a quarter of them {@link #INTERESTING_BYTES}. */
    private static byte[] arbitraryBytes(Random r, int maxSize) {
        int size = r.nextInt(4) == 0 ? PacketGenerators.intIn(r, 0, maxSize)
                : PacketGenerators.intIn(r, 0, Math.min(maxSize, 40));
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (r.nextInt(4) == 0 ? INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)] : r.nextInt(256));
        }
        return b;
    }

    /** A first byte with a packet type (1..15) and the flags that type must have (any flags for PUBLISH). */
    private static int validFirstByte(Random r) {
        PacketType type = PacketType.of(r.nextInt(1, 16));
        int flags = switch (type) {
            case PUBLISH -> r.nextInt(16);
            case PUBREL, SUBSCRIBE, UNSUBSCRIBE -> 0b0010;
            default -> 0;
        };
        return type.value() << 4 | flags;
    }

    /** A CONNECT of 3.1.1 or 5.0 and up to four more packets of that version, encoded one after the other. */
    private static byte[] validStream(Random r) {
        ProtocolVersion v = PacketGenerators.pick(r, GENERATED_VERSIONS);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Codec.encode(PacketGenerators.connect(r, v), v));
        int n = PacketGenerators.intIn(r, 0, 4);
        for (int i = 0; i < n; i++) {
            out.writeBytes(Codec.encode(PacketGenerators.packet(r, v), v));
        }
        return out.toByteArray();
    }

    /** The bytes changed by one to four mutations (fewer if they run out of bytes); each is described in steps. */
    private static byte[] mutate(Random r, byte[] bytes, List<String> steps) {
        int n = PacketGenerators.intIn(r, 1, 4);
        byte[] out = bytes;
        for (int i = 0; i < n && out.length > 0; i++) {
            out = mutateOnce(r, out, steps);
        }
        return out;
    }

    private static byte[] mutateOnce(Random r, byte[] bytes, List<String> steps) {
        int at = r.nextInt(bytes.length);
        byte[] out;
        switch (r.nextInt(8)) {
            case 0 -> {
                int bit = r.nextInt(8);
                out = bytes.clone();
                out[at] ^= (byte) (1 << bit);
                steps.add("flip bit " + bit + " at " + at);
            }
            case 1 -> {
                int value = r.nextBoolean() ? INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)] : r.nextInt(256);
                out = bytes.clone();
                out[at] = (byte) value;
                steps.add(String.format("set %02x at %d", value, at));
            }
            case 2 -> {
                int where = r.nextInt(bytes.length + 1);
                int value = r.nextInt(256);
                out = new byte[bytes.length + 1];
                System.arraycopy(bytes, 0, out, 0, where);
                out[where] = (byte) value;
                System.arraycopy(bytes, where, out, where + 1, bytes.length - where);
                steps.add(String.format("insert %02x at %d", value, where));
            }
            case 3 -> {
                out = new byte[bytes.length - 1];
                System.arraycopy(bytes, 0, out, 0, at);
                System.arraycopy(bytes, at + 1, out, at, bytes.length - at - 1);
                steps.add("remove at " + at);
            }
            case 4 -> {
                out = Arrays.copyOf(bytes, at);
                steps.add("truncate to " + at);
            }
            case 5 -> {
                // a two-byte length field anywhere set to a large value: the "claims more than it has" attack
                int hi = new int[] {0xFF, 0x80, 0x7F}[r.nextInt(3)];
                out = bytes.clone();
                out[at] = (byte) hi;
                if (at + 1 < out.length) {
                    out[at + 1] = (byte) 0xFF;
                }
                steps.add(String.format("length %02xff at %d", hi, at));
            }
            case 6 -> {
                // a two-byte big-endian length field anywhere off by a little: one byte short or over
                int delta = r.nextBoolean() ? PacketGenerators.intIn(r, 1, 3) : -PacketGenerators.intIn(r, 1, 3);
                out = bytes.clone();
                if (at + 1 < out.length) {
                    int value = ((out[at] & 0xFF) << 8 | (out[at + 1] & 0xFF)) + delta;
                    out[at] = (byte) (value >> 8);
                    out[at + 1] = (byte) value;
                }
                steps.add("length " + (delta > 0 ? "+" : "") + delta + " at " + at);
            }
            default -> out = withRemainingLength(r, bytes, steps);
        }
        return out;
    }

    /** The Remaining Length rewritten: off by a little, 0, arbitrary, the largest, or five bytes long. */
    private static byte[] withRemainingLength(Random r, byte[] bytes, List<String> steps) {
        int old = 0;
        int end = 1;
        while (end < bytes.length && end <= 4 && (bytes[end] & 0x80) != 0) {
            old |= (bytes[end] & 0x7F) << (7 * (end - 1));
            end++;
        }
        if (end < bytes.length) {
            old |= (bytes[end] & 0x7F) << (7 * (end - 1));
            end++;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes[0]);
        int choice = r.nextInt(5);
        if (choice == 4) {
            out.writeBytes(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01});
            steps.add("Remaining Length in five bytes");
        } else {
            int replacement = switch (choice) {
                case 0 -> Math.max(0, old + PacketGenerators.intIn(r, -3, 3));
                case 1 -> 0;
                case 2 -> r.nextInt(FixedHeader.MAX_VARIABLE_BYTE_INTEGER + 1);
                default -> FixedHeader.MAX_VARIABLE_BYTE_INTEGER;
            };
            int value = replacement;
            do {
                int digit = value & 0x7F;
                value >>>= 7;
                out.write(value > 0 ? digit | 0x80 : digit);
            } while (value > 0);
            steps.add("Remaining Length " + old + " replaced by " + replacement);
        }
        out.write(bytes, end, bytes.length - end);
        return out.toByteArray();
    }
}
