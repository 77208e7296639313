package io.starling.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.MqttPacket;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Hostile input for the decoder, property-based: arbitrary bytes, and valid packets of every type mutated (bytes
 * flipped, inserted, removed, truncated, Remaining Length and string lengths changed), in MQTT 3.1, 3.1.1 and 5.0.
 * Whatever the input, the decoder returns a packet or throws a {@link DecodeException}, never anything else
 * (no IndexOutOfBounds, no NegativeArraySize, no OutOfMemoryError), and it allocates in proportion to the bytes it
 * was given, not to the lengths those bytes claim: a 10-byte packet saying "a string of 65535 bytes follows" must
 * not make it allocate 64 KiB.
 */
class DecoderFuzzTest {

    private static final ProtocolVersion[] VERSIONS = ProtocolVersion.values();
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * Bytes a decode may allocate beyond a multiple of its input: objects of fixed size (the packet, its lists,
     * exception and message strings).
     */
    private static final long FIXED_ALLOCATION = 64 * 1024;
    /** Bytes per input byte: a string is copied to a byte[] and then a String (UTF-16 at worst), plus list slots. */
    private static final long ALLOCATION_PER_BYTE = 32;

    @BeforeContainer
    static void warmUp() {
        // class loading and first-call allocations are not the decoder's per-input cost
        for (int i = 0; i < 2_000; i++) {
            for (ProtocolVersion v : VERSIONS) {
                decodeQuietly(0x30, new byte[] {0, 1, 'a', 'x'}, v, false);
                decodeQuietly(0x10, new byte[] {0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0, 0, 0}, v, true);
            }
        }
    }

    @Property(tries = 3000)
    void arbitraryBodiesGiveAPacketOrADecodeException(@ForAll @IntRange(min = 0, max = 255) int firstByte,
            @ForAll @Size(max = 300) byte[] body) {
        for (ProtocolVersion v : VERSIONS) {
            decodeSafely(firstByte, body, v, false);
        }
        decodeSafely(firstByte, body, null, true);
    }

    @Property(tries = 3000)
    void arbitraryStreamsFramedLikeTheServerDoes(@ForAll @Size(max = 400) byte[] stream) {
        // as MqttFrameDecoder frames them: fixed header, Remaining Length, then the body if it is all there
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

    @Property(tries = 2000)
    void mutatedValidPacketsGiveAPacketOrADecodeException(@ForAll("validPackets") Generated valid,
            @ForAll("mutations") Mutation mutation) {
        byte[] bytes = Codec.encode(valid.packet(), valid.version());
        byte[] mutated = mutation.apply(bytes);
        if (mutated.length == 0) {
            return;
        }
        int firstByte = mutated[0] & 0xFF;
        // the body as the Remaining Length (possibly mutated) delimits it, cut short if the bytes end first
        ByteBuf buf = Unpooled.wrappedBuffer(mutated);
        byte[] body;
        try {
            long header = FixedHeader.peekRemainingLength(buf);
            if (header == FixedHeader.NEED_MORE_BYTES) {
                body = Arrays.copyOfRange(mutated, 1, mutated.length);
            } else {
                int headerSize = FixedHeader.headerSize(header);
                int end = (int) Math.min(mutated.length, (long) headerSize + FixedHeader.remainingLength(header));
                body = Arrays.copyOfRange(mutated, Math.min(headerSize, end), end);
            }
        } catch (DecodeException e) {
            body = Arrays.copyOfRange(mutated, 1, mutated.length);
        } finally {
            buf.release();
        }
        boolean connect = valid.packet() instanceof ConnectPacket;
        decodeSafely(firstByte, body, connect ? null : valid.version(), connect);
        // and the same body under the other versions: a client may lie about what it speaks
        for (ProtocolVersion v : VERSIONS) {
            decodeSafely(firstByte, body, v, false);
        }
    }

    @Property(tries = 500)
    void truncatedValidPacketsAreRefused(@ForAll("validPackets") Generated valid, @ForAll @IntRange(min = 1) int cutSeed) {
        byte[] bytes = Codec.encode(valid.packet(), valid.version());
        int headerSize = bodyOffset(bytes);
        int bodyLength = bytes.length - headerSize;
        if (bodyLength == 0) {
            return;
        }
        // the body cut short by 1..bodyLength bytes, handed to the decoder as if it were the whole body
        int cut = 1 + cutSeed % bodyLength;
        byte[] body = Arrays.copyOfRange(bytes, headerSize, bytes.length - cut);
        boolean connect = valid.packet() instanceof ConnectPacket;
        MqttPacket p = decodeSafely(bytes[0] & 0xFF, body, connect ? null : valid.version(), connect);
        if (p != null) {
            // only packets whose tail is optional may decode (v5 acks without reason code or properties, a
            // PUBLISH whose payload just got shorter, a SUBACK/UNSUBACK with fewer codes, ...): never the original
            assertThat(Codec.encode(p, valid.version())).isNotEqualTo(bytes);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static int bodyOffset(byte[] packet) {
        int i = 1;
        while ((packet[i] & 0x80) != 0) {
            i++;
        }
        return i + 1;
    }

    /**
     * Decodes, asserting the outcome is a packet or a {@link DecodeException} and that the allocation stayed
     * proportional to the input; returns the packet or {@code null}.
     */
    private static MqttPacket decodeSafely(int firstByte, byte[] body, ProtocolVersion version, boolean connect) {
        Object outcome;
        long allocated;
        try {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            outcome = decodeQuietly(firstByte, body, version, connect);
            allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        } catch (RuntimeException | Error e) {
            throw new AssertionError("decoding " + RawHex.of(firstByte, body) + " as " + (connect ? "CONNECT" : version)
                    + " threw " + e, e);
        }
        long bound = FIXED_ALLOCATION + ALLOCATION_PER_BYTE * body.length;
        for (int retry = 0; retry < 3 && allocated > bound; retry++) {
            // the first run of a code path pays for class loading, string concatenation bootstraps and the like:
            // what the input makes the decoder allocate comes back on every run, so the least of a few runs counts
            long before = THREADS.getCurrentThreadAllocatedBytes();
            decodeQuietly(firstByte, body, version, connect);
            allocated = Math.min(allocated, THREADS.getCurrentThreadAllocatedBytes() - before);
        }
        assertThat(allocated).as("bytes allocated decoding %d body bytes: %s", body.length, RawHex.of(firstByte, body))
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

    /** Hex for failure messages. */
    private static final class RawHex {
        static String of(int firstByte, byte[] body) {
            StringBuilder sb = new StringBuilder(String.format("[%02x |", firstByte));
            for (byte b : body) {
                sb.append(String.format(" %02x", b & 0xFF));
            }
            return sb.append(']').toString();
        }
    }

    // ---------------------------------------------------------------- generators

    /** A valid packet and the version it is valid in. */
    record Generated(MqttPacket packet, ProtocolVersion version) {
    }

    @Provide
    Arbitrary<Generated> validPackets() {
        return Arbitraries.of(ProtocolVersion.MQTT_3_1_1, ProtocolVersion.MQTT_5)
                .flatMap(v -> PacketArbitraries.packets(v).map(p -> new Generated(p, v)));
    }

    /** One change to the bytes of a packet. */
    interface Mutation {
        byte[] apply(byte[] bytes);
    }

    @Provide
    Arbitrary<Mutation> mutations() {
        Arbitrary<Integer> position = Arbitraries.integers().between(0, 10_000);
        Arbitrary<Integer> value = Arbitraries.integers().between(0, 255);
        Arbitrary<Mutation> flip = Combinators.combine(position, value).as((i, b) -> bytes -> {
            byte[] out = bytes.clone();
            out[i % out.length] = (byte) (int) b;
            return out;
        });
        Arbitrary<Mutation> insert = Combinators.combine(position, value).as((i, b) -> bytes -> {
            int at = i % (bytes.length + 1);
            byte[] out = new byte[bytes.length + 1];
            System.arraycopy(bytes, 0, out, 0, at);
            out[at] = (byte) (int) b;
            System.arraycopy(bytes, at, out, at + 1, bytes.length - at);
            return out;
        });
        Arbitrary<Mutation> remove = position.map(i -> bytes -> {
            int at = i % bytes.length;
            byte[] out = new byte[bytes.length - 1];
            System.arraycopy(bytes, 0, out, 0, at);
            System.arraycopy(bytes, at + 1, out, at, bytes.length - at - 1);
            return out;
        });
        Arbitrary<Mutation> truncate = position.map(i -> bytes -> Arrays.copyOf(bytes, i % bytes.length));
        // a two-byte length field anywhere set to a large value: the "claims more than it has" attack
        Arbitrary<Mutation> bigLength = Combinators.combine(position, Arbitraries.of(0xFF, 0x80, 0x7F))
                .as((i, hi) -> bytes -> {
                    byte[] out = bytes.clone();
                    int at = i % out.length;
                    out[at] = (byte) (int) hi;
                    if (at + 1 < out.length) {
                        out[at + 1] = (byte) 0xFF;
                    }
                    return out;
                });
        Arbitrary<Mutation> single = Arbitraries.oneOf(flip, insert, remove, truncate, bigLength);
        return single.list().ofMinSize(1).ofMaxSize(4).map(list -> bytes -> {
            byte[] out = bytes;
            for (Mutation m : list) {
                if (out.length == 0) {
                    break;
                }
                out = m.apply(out);
            }
            return out;
        });
    }
}
