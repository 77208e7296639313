package io.starling.codec;

import io.netty.buffer.ByteBuf;

/**
 * The fixed header of an MQTT control packet (section 2.1 / 2.2 of 3.1.1, 2.1 of 5.0): one byte of type and
 * flags followed by the Remaining Length, a Variable Byte Integer of one to four bytes (section 1.5.5 of 5.0,
 * 2.2.3 of 3.1.1).
 *
 * <p>Framing use: {@link #peekRemainingLength(ByteBuf)} looks at the bytes from {@code buf.readerIndex()} without
 * moving it and answers either {@link #NEED_MORE_BYTES} ({@code -1}) or a packed non-negative {@code long} from
 * which {@link #remainingLength(long)}, {@link #lengthFieldSize(long)} and {@link #headerSize(long)} extract the
 * Remaining Length, the number of bytes of the length field (1..4) and the size of the whole fixed header (2..5).
 * The packet is complete once {@code headerSize + remainingLength} bytes are readable.
 *
 * <p>Only minimal encodings are accepted: a length field that ends in a {@code 0x00} continuation byte
 * (for example {@code 0x80 0x00} for 0) is refused as Malformed. MQTT 5.0 requires the minimum number of
 * bytes [MQTT-1.5.5-1]; MQTT 3.1.1 (Table 2.4) lists for each field size only the values that need it. This also
 * guarantees {@code lengthFieldSize == variableByteIntegerSize(remainingLength)}.
 */
public final class FixedHeader {

    /** The largest value a Variable Byte Integer can hold: 268,435,455 (256 MB). */
    public static final int MAX_VARIABLE_BYTE_INTEGER = 268_435_455;

    /** Returned by {@link #peekRemainingLength(ByteBuf)} when more bytes are needed. */
    public static final long NEED_MORE_BYTES = -1L;

    private FixedHeader() {
    }

    /**
     * Reads the Remaining Length that follows the first byte at {@code buf.readerIndex()}, without moving the
     * reader index.
     *
     * @return {@link #NEED_MORE_BYTES} ({@code -1}) when the buffer does not yet hold the whole fixed header;
     *         otherwise a non-negative packed value {@code (long) lengthFieldSize << 32 | remainingLength}: its
     *         low 32 bits ({@code (int) packed}) are the Remaining Length. Take it apart with
     *         {@link #remainingLength(long)}, {@link #lengthFieldSize(long)} and {@link #headerSize(long)}.
     * @throws DecodeException {@code MALFORMED_PACKET} when the Remaining Length takes more than four bytes or is
     *         not minimally encoded
     */
    public static long peekRemainingLength(ByteBuf buf) throws DecodeException {
        int start = buf.readerIndex() + 1;
        int available = buf.readableBytes() - 1;
        int value = 0;
        for (int i = 0; i < 4; i++) {
            if (i >= available) {
                return NEED_MORE_BYTES;
            }
            int b = buf.getUnsignedByte(start + i);
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    // [MQTT-1.5.5-1] the encoded value MUST use the minimum number of bytes
                    throw new DecodeException(ReasonCode.MALFORMED_PACKET,
                            "Remaining Length is not minimally encoded [MQTT-1.5.5-1]");
                }
                return ((long) (i + 1) << 32) | value;
            }
        }
        // section 1.5.5 (5.0) / 2.2.3 (3.1.1): at most four bytes
        throw new DecodeException(ReasonCode.MALFORMED_PACKET, "Remaining Length longer than four bytes");
    }

    /** The Remaining Length from a non-negative result of {@link #peekRemainingLength(ByteBuf)}. */
    public static int remainingLength(long peeked) {
        return (int) peeked;
    }

    /** The number of bytes (1..4) of the Remaining Length field, from a non-negative {@link #peekRemainingLength}. */
    public static int lengthFieldSize(long peeked) {
        return (int) (peeked >>> 32);
    }

    /** The size of the fixed header (first byte and length bytes, 2..5), from a non-negative {@link #peekRemainingLength}. */
    public static int headerSize(long peeked) {
        return 1 + lengthFieldSize(peeked);
    }

    /** The size of the fixed header for a Remaining Length: {@code 1 + variableByteIntegerSize(remainingLength)}. */
    public static int headerSizeFor(int remainingLength) {
        return 1 + variableByteIntegerSize(remainingLength);
    }

    /** The number of bytes (1..4) the minimal Variable Byte Integer encoding of {@code value} takes. */
    public static int variableByteIntegerSize(int value) {
        if (value < 0 || value > MAX_VARIABLE_BYTE_INTEGER) {
            throw new IllegalArgumentException("Variable Byte Integer out of range: " + value);
        }
        if (value < 128) {
            return 1;
        }
        if (value < 16_384) {
            return 2;
        }
        if (value < 2_097_152) {
            return 3;
        }
        return 4;
    }

    /** Writes {@code value} (0..268,435,455) as a minimal Variable Byte Integer. */
    public static void writeVariableByteInteger(ByteBuf out, int value) {
        if (value < 0 || value > MAX_VARIABLE_BYTE_INTEGER) {
            throw new IllegalArgumentException("Variable Byte Integer out of range: " + value);
        }
        if (value < 128) {
            out.writeByte(value);
            return;
        }
        int v = value;
        do {
            int digit = v & 0x7F;
            v >>>= 7;
            if (v > 0) {
                digit |= 0x80;
            }
            out.writeByte(digit);
        } while (v > 0);
    }

    /**
     * Reads a Variable Byte Integer at the reader index and advances past it (used for property lengths and
     * Subscription Identifiers).
     *
     * @throws DecodeException {@code MALFORMED_PACKET} when the buffer ends inside it, it is longer than four bytes,
     *         or it is not minimally encoded [MQTT-1.5.5-1]
     */
    public static int readVariableByteInteger(ByteBuf buf) throws DecodeException {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            if (!buf.isReadable()) {
                throw new DecodeException(ReasonCode.MALFORMED_PACKET, "Variable Byte Integer runs past the packet");
            }
            int b = buf.readUnsignedByte();
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    // [MQTT-1.5.5-1]
                    throw new DecodeException(ReasonCode.MALFORMED_PACKET,
                            "Variable Byte Integer is not minimally encoded [MQTT-1.5.5-1]");
                }
                return value;
            }
        }
        throw new DecodeException(ReasonCode.MALFORMED_PACKET, "Variable Byte Integer longer than four bytes");
    }
}
