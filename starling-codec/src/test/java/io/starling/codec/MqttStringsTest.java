package io.starling.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** Strict UTF-8: [MQTT-1.5.3-1] / [MQTT-1.5.4-1] well-formed, [MQTT-1.5.3-2] / [MQTT-1.5.4-2] no U+0000. */
class MqttStringsTest {

    @Test
    void asciiAndMultiByteDecode() throws DecodeException {
        assertThat(read(0x00, 0x03, 'a', '/', 'b')).isEqualTo("a/b");
        assertThat(read(0x00, 0x00)).isEmpty();
        assertThat(read(0x00, 0x02, 0xC3, 0xBC)).isEqualTo("ü");               // U+00FC
        assertThat(read(0x00, 0x03, 0xE2, 0x82, 0xAC)).isEqualTo("€");         // U+20AC
        assertThat(read(0x00, 0x04, 0xF0, 0x9F, 0x98, 0x80)).isEqualTo("😀");  // U+1F600
        assertThat(read(0x00, 0x03, 0xEF, 0xBF, 0xBF)).isEqualTo("\uFFFF");    // a non-character is well-formed
    }

    @Test
    void byteOrderMarkIsKept_MQTT_1_5_3_3() throws DecodeException {
        assertThat(read(0x00, 0x04, 0xEF, 0xBB, 0xBF, 'a')).isEqualTo("\uFEFFa");
    }

    @Test
    void nullCharacterIsMalformed_MQTT_1_5_3_2() {
        assertThat(failure(0x00, 0x03, 'a', 0x00, 'b')).isEqualTo(ReasonCode.MALFORMED_PACKET);
        // also after a non-ASCII character (slow path)
        assertThat(failure(0x00, 0x03, 0xC3, 0xBC, 0x00)).isEqualTo(ReasonCode.MALFORMED_PACKET);
    }

    @Test
    void encodedSurrogateIsMalformed_MQTT_1_5_3_1() {
        assertThat(failure(0x00, 0x03, 0xED, 0xA0, 0x80)).isEqualTo(ReasonCode.MALFORMED_PACKET); // U+D800
        assertThat(failure(0x00, 0x03, 0xED, 0xBF, 0xBF)).isEqualTo(ReasonCode.MALFORMED_PACKET); // U+DFFF
    }

    @Test
    void overlongEncodingsAreMalformed_MQTT_1_5_3_1() {
        assertThat(failure(0x00, 0x02, 0xC0, 0xAF)).isEqualTo(ReasonCode.MALFORMED_PACKET);       // '/' in 2 bytes
        assertThat(failure(0x00, 0x02, 0xC1, 0xBF)).isEqualTo(ReasonCode.MALFORMED_PACKET);
        assertThat(failure(0x00, 0x03, 0xE0, 0x80, 0xAF)).isEqualTo(ReasonCode.MALFORMED_PACKET); // '/' in 3 bytes
        assertThat(failure(0x00, 0x04, 0xF0, 0x80, 0x80, 0xAF)).isEqualTo(ReasonCode.MALFORMED_PACKET);
        assertThat(failure(0x00, 0x02, 0xC0, 0x80)).isEqualTo(ReasonCode.MALFORMED_PACKET);       // "modified UTF-8" NUL
    }

    @Test
    void otherIllFormedSequencesAreMalformed_MQTT_1_5_3_1() {
        assertThat(failure(0x00, 0x01, 0x80)).isEqualTo(ReasonCode.MALFORMED_PACKET);             // lone continuation
        assertThat(failure(0x00, 0x01, 0xC3)).isEqualTo(ReasonCode.MALFORMED_PACKET);             // truncated
        assertThat(failure(0x00, 0x02, 0xE2, 0x82)).isEqualTo(ReasonCode.MALFORMED_PACKET);       // truncated
        assertThat(failure(0x00, 0x02, 0xC3, 'a')).isEqualTo(ReasonCode.MALFORMED_PACKET);        // bad continuation
        assertThat(failure(0x00, 0x04, 0xF4, 0x90, 0x80, 0x80)).isEqualTo(ReasonCode.MALFORMED_PACKET); // > U+10FFFF
        assertThat(failure(0x00, 0x01, 0xFF)).isEqualTo(ReasonCode.MALFORMED_PACKET);
        assertThat(failure(0x00, 0x01, 0xF5)).isEqualTo(ReasonCode.MALFORMED_PACKET);
    }

    @Test
    void lengthBeyondBufferIsMalformed() {
        assertThat(failure(0x00, 0x04, 'a')).isEqualTo(ReasonCode.MALFORMED_PACKET);
        assertThat(failure(0x00)).isEqualTo(ReasonCode.MALFORMED_PACKET);
    }

    @Test
    void binaryDataLengthBeyondBufferIsMalformed() {
        ByteBuf buf = buf(0x00, 0x03, 0x01);
        try {
            MqttStrings.readBinary(buf);
            throw new AssertionError("expected DecodeException");
        } catch (DecodeException e) {
            assertThat(e.reasonCode()).isEqualTo(ReasonCode.MALFORMED_PACKET);
        } finally {
            buf.release();
        }
    }

    @Test
    void writeStringMatchesStringSize() {
        ByteBuf out = Unpooled.buffer();
        try {
            String s = "a/ü/€/😀";
            MqttStrings.writeString(out, s);
            assertThat(out.readableBytes()).isEqualTo(MqttStrings.stringSize(s));
            assertThat(out.getUnsignedShort(0)).isEqualTo(MqttStrings.stringSize(s) - 2);
        } finally {
            out.release();
        }
    }

    private static ByteBuf buf(int... bytes) {
        ByteBuf buf = Unpooled.buffer(bytes.length);
        for (int b : bytes) {
            buf.writeByte(b);
        }
        return buf;
    }

    private static String read(int... bytes) throws DecodeException {
        ByteBuf buf = buf(bytes);
        try {
            String s = MqttStrings.readString(buf);
            assertThat(buf.isReadable()).isFalse();
            return s;
        } finally {
            buf.release();
        }
    }

    private static ReasonCode failure(int... bytes) {
        try {
            String s = read(bytes);
            throw new AssertionError("expected DecodeException, got \"" + s + "\"");
        } catch (DecodeException e) {
            return e.reasonCode();
        }
    }
}
