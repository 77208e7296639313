package io.starling.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class FixedHeaderTest {

    @ParameterizedTest
    @CsvSource({
        "0, 1", "127, 1", "128, 2", "16383, 2", "16384, 3", "2097151, 3", "2097152, 4", "268435455, 4"
    })
    void remainingLengthRoundTrips(int value, int size) throws DecodeException {
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeByte(0x30);
            FixedHeader.writeVariableByteInteger(buf, value);
            assertThat(FixedHeader.variableByteIntegerSize(value)).isEqualTo(size);
            assertThat(buf.readableBytes()).isEqualTo(1 + size);
            long peeked = FixedHeader.peekRemainingLength(buf);
            assertThat(FixedHeader.remainingLength(peeked)).isEqualTo(value);
            assertThat(FixedHeader.lengthFieldSize(peeked)).isEqualTo(size);
            assertThat(FixedHeader.headerSize(peeked)).isEqualTo(1 + size);
            assertThat(FixedHeader.headerSizeFor(value)).isEqualTo(1 + size);
            assertThat(buf.readerIndex()).as("peek does not move the reader index").isZero();
            // every prefix is incomplete
            for (int n = 0; n < 1 + size; n++) {
                assertThat(FixedHeader.peekRemainingLength(buf.slice(0, n))).isEqualTo(FixedHeader.NEED_MORE_BYTES);
            }
        } finally {
            buf.release();
        }
    }

    @Test
    void knownEncodings() throws DecodeException {
        assertThat(peek(0x30, 0x00)).isEqualTo(0);
        assertThat(peek(0x30, 0x7F)).isEqualTo(127);
        assertThat(peek(0x30, 0x80, 0x01)).isEqualTo(128);
        assertThat(peek(0x30, 0xFF, 0x7F)).isEqualTo(16_383);
        assertThat(peek(0x30, 0x80, 0x80, 0x01)).isEqualTo(16_384);
        assertThat(peek(0x30, 0xFF, 0xFF, 0x7F)).isEqualTo(2_097_151);
        assertThat(peek(0x30, 0x80, 0x80, 0x80, 0x01)).isEqualTo(2_097_152);
        assertThat(peek(0x30, 0xFF, 0xFF, 0xFF, 0x7F)).isEqualTo(268_435_455);
        // the body does not have to be there yet
        assertThat(peek(0x30, 0x05, 0x00)).isEqualTo(5);
    }

    @Test
    void incompleteIsNeedMore() throws DecodeException {
        assertThat(peekRaw()).isEqualTo(FixedHeader.NEED_MORE_BYTES);
        assertThat(peekRaw(0x30)).isEqualTo(FixedHeader.NEED_MORE_BYTES);
        assertThat(peekRaw(0x30, 0x80)).isEqualTo(FixedHeader.NEED_MORE_BYTES);
        assertThat(peekRaw(0x30, 0xFF, 0xFF, 0xFF)).isEqualTo(FixedHeader.NEED_MORE_BYTES);
    }

    @Test
    void fiveByteRemainingLengthIsMalformed_MQTT_1_5_5() {
        assertThatThrownBy(() -> peekRaw(0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01))
                .isInstanceOfSatisfying(DecodeException.class,
                        e -> assertThat(e.reasonCode()).isEqualTo(ReasonCode.MALFORMED_PACKET));
        // detected as soon as the fourth byte still has the continuation bit
        assertThatThrownBy(() -> peekRaw(0x30, 0x80, 0x80, 0x80, 0x80))
                .isInstanceOfSatisfying(DecodeException.class,
                        e -> assertThat(e.reasonCode()).isEqualTo(ReasonCode.MALFORMED_PACKET));
    }

    @Test
    void nonMinimalRemainingLengthIsMalformed_MQTT_1_5_5_1() {
        assertThatThrownBy(() -> peekRaw(0x30, 0x80, 0x00))
                .isInstanceOfSatisfying(DecodeException.class,
                        e -> assertThat(e.reasonCode()).isEqualTo(ReasonCode.MALFORMED_PACKET));
        assertThatThrownBy(() -> peekRaw(0x30, 0xFF, 0x80, 0x00))
                .isInstanceOfSatisfying(DecodeException.class,
                        e -> assertThat(e.reasonCode()).isEqualTo(ReasonCode.MALFORMED_PACKET));
    }

    @Test
    void readVariableByteIntegerAdvances() throws DecodeException {
        ByteBuf buf = Unpooled.wrappedBuffer(new byte[] {(byte) 0xC1, 0x02, 0x07});
        try {
            assertThat(FixedHeader.readVariableByteInteger(buf)).isEqualTo(321);
            assertThat(buf.readerIndex()).isEqualTo(2);
        } finally {
            buf.release();
        }
    }

    @Test
    void outOfRangeValuesAreRejectedByTheWriter() {
        ByteBuf buf = Unpooled.buffer();
        try {
            assertThatThrownBy(() -> FixedHeader.writeVariableByteInteger(buf, 268_435_456))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> FixedHeader.variableByteIntegerSize(-1)).isInstanceOf(IllegalArgumentException.class);
        } finally {
            buf.release();
        }
    }

    private static int peek(int... bytes) throws DecodeException {
        long peeked = peekRaw(bytes);
        assertThat(peeked).isNotNegative();
        return FixedHeader.remainingLength(peeked);
    }

    private static long peekRaw(int... bytes) throws DecodeException {
        ByteBuf buf = Unpooled.buffer(bytes.length);
        try {
            for (int b : bytes) {
                buf.writeByte(b);
            }
            return FixedHeader.peekRemainingLength(buf);
        } finally {
            buf.release();
        }
    }
}
