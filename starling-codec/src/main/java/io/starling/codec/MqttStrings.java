package io.starling.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 Encoded Strings and Binary Data on the wire (sections 1.5.3 / 1.5.6 of 3.1.1, 1.5.4 / 1.5.6 of 5.0):
 * a two-byte big-endian length followed by that many bytes.
 *
 * <p>Decoding is strict: the bytes must be well-formed UTF-8 as defined by Unicode (no overlong forms, no encoded
 * surrogates U+D800..U+DFFF, nothing above U+10FFFF) [MQTT-1.5.3-1] / [MQTT-1.5.4-1] and must not contain U+0000
 * [MQTT-1.5.3-2] / [MQTT-1.5.4-2]. A U+FEFF (BOM) is kept as a character, never stripped [MQTT-1.5.3-3] /
 * [MQTT-1.5.4-3]. ASCII strings, the usual case, take one scan and one String allocation.
 */
public final class MqttStrings {

    /** An empty byte array shared by every empty payload. */
    public static final byte[] EMPTY_BYTES = new byte[0];

    /** Stops at a byte that is not 0x01..0x7F: a non-ASCII byte or U+0000. */
    private static final ByteProcessor NOT_PLAIN_ASCII = value -> value > 0;

    private MqttStrings() {
    }

    /** Reads a length-prefixed UTF-8 Encoded String, validated strictly, and advances past it. */
    public static String readString(ByteBuf buf) throws DecodeException {
        int len = readLength(buf, "UTF-8 string");
        int index = buf.readerIndex();
        String s = decode(buf, index, len);
        buf.readerIndex(index + len);
        return s;
    }

    /** Reads length-prefixed Binary Data into a new array (or {@link #EMPTY_BYTES}) and advances past it. */
    public static byte[] readBinary(ByteBuf buf) throws DecodeException {
        int len = readLength(buf, "binary data");
        return readBytes(buf, len);
    }

    /** Copies {@code len} bytes from the reader index into a new array ({@link #EMPTY_BYTES} when 0). */
    public static byte[] readBytes(ByteBuf buf, int len) {
        if (len == 0) {
            return EMPTY_BYTES;
        }
        byte[] bytes = new byte[len];
        buf.readBytes(bytes);
        return bytes;
    }

    private static int readLength(ByteBuf buf, String what) throws DecodeException {
        if (buf.readableBytes() < 2) {
            throw new DecodeException(ReasonCode.MALFORMED_PACKET, "packet ends inside the length of " + what);
        }
        int len = buf.readUnsignedShort();
        if (len > buf.readableBytes()) {
            throw new DecodeException(ReasonCode.MALFORMED_PACKET,
                    what + " of " + len + " bytes runs past the end of the packet");
        }
        return len;
    }

    /** Decodes {@code len} bytes at {@code index} as a strict MQTT UTF-8 string, not moving the reader index. */
    public static String decode(ByteBuf buf, int index, int len) throws DecodeException {
        if (len == 0) {
            return "";
        }
        int stop = buf.forEachByte(index, len, NOT_PLAIN_ASCII);
        if (stop < 0) {
            return buf.toString(index, len, StandardCharsets.US_ASCII);
        }
        validateUtf8(buf, stop, index + len);
        return buf.toString(index, len, StandardCharsets.UTF_8);
    }

    /** Checks bytes {@code [from, end)} against Unicode Table 3-7 (well-formed UTF-8) and for U+0000. */
    private static void validateUtf8(ByteBuf buf, int from, int end) throws DecodeException {
        int i = from;
        while (i < end) {
            int b = buf.getByte(i) & 0xFF;
            if (b < 0x80) {
                if (b == 0) {
                    // [MQTT-1.5.3-2] (3.1.1) / [MQTT-1.5.4-2] (5.0): U+0000 is a Malformed Packet
                    throw new DecodeException(ReasonCode.MALFORMED_PACKET, "UTF-8 string contains U+0000 [MQTT-1.5.4-2]");
                }
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
            } else if (b >= 0xE0 && b <= 0xEF) {
                need = 2;
                if (b == 0xE0) {
                    lo = 0xA0; // overlong
                } else if (b == 0xED) {
                    hi = 0x9F; // U+D800..U+DFFF surrogates
                }
            } else if (b >= 0xF0 && b <= 0xF4) {
                need = 3;
                if (b == 0xF0) {
                    lo = 0x90; // overlong
                } else if (b == 0xF4) {
                    hi = 0x8F; // above U+10FFFF
                }
            } else {
                // 0x80..0xC1 (continuation or overlong lead) and 0xF5..0xFF never start a sequence
                throw illFormed();
            }
            if (i + need >= end) {
                throw illFormed();
            }
            int b1 = buf.getByte(i + 1) & 0xFF;
            if (b1 < lo || b1 > hi) {
                throw illFormed();
            }
            for (int k = 2; k <= need; k++) {
                int c = buf.getByte(i + k) & 0xFF;
                if (c < 0x80 || c > 0xBF) {
                    throw illFormed();
                }
            }
            i += need + 1;
        }
    }

    private static DecodeException illFormed() {
        // [MQTT-1.5.3-1] (3.1.1) / [MQTT-1.5.4-1] (5.0): ill-formed UTF-8 is a Malformed Packet
        return new DecodeException(ReasonCode.MALFORMED_PACKET, "ill-formed UTF-8 [MQTT-1.5.4-1]");
    }

    /** True when a topic name contains a wildcard character '+' or '#' [MQTT-3.3.2-2] / [MQTT-4.7.1-1]. */
    public static boolean hasWildcard(String topic) {
        return topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0;
    }

    /** The encoded size of a UTF-8 Encoded String: 2 + its UTF-8 byte count, which must not exceed 65,535. */
    public static int stringSize(String s) {
        int n = ByteBufUtil.utf8Bytes(s);
        if (n > 65_535) {
            throw new IllegalArgumentException("UTF-8 string longer than 65535 bytes");
        }
        return 2 + n;
    }

    /** The encoded size of Binary Data: 2 + its length, which must not exceed 65,535. */
    public static int binarySize(byte[] data) {
        if (data.length > 65_535) {
            throw new IllegalArgumentException("binary data longer than 65535 bytes");
        }
        return 2 + data.length;
    }

    /** Writes a length-prefixed UTF-8 Encoded String (writes exactly {@link #stringSize(String)} bytes). */
    public static void writeString(ByteBuf out, String s) {
        int n = ByteBufUtil.utf8Bytes(s);
        if (n > 65_535) {
            throw new IllegalArgumentException("UTF-8 string longer than 65535 bytes");
        }
        out.writeShort(n);
        ByteBufUtil.reserveAndWriteUtf8(out, s, n);
    }

    /** Writes length-prefixed Binary Data. */
    public static void writeBinary(ByteBuf out, byte[] data) {
        if (data.length > 65_535) {
            throw new IllegalArgumentException("binary data longer than 65535 bytes");
        }
        out.writeShort(data.length);
        out.writeBytes(data);
    }
}
