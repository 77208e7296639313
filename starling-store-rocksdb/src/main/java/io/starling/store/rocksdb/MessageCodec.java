package io.starling.store.rocksdb;

import io.starling.broker.message.Message;
import io.starling.codec.Properties;
import io.starling.codec.UserProperty;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The stored form of a {@link Message}: a small versioned binary record, big-endian.
 *
 * <pre>
 * version 1:
 *   u8   version (1)
 *   u8   flags: bits 0-1 QoS, bit 2 RETAIN, bit 3 publisher id present
 *   i64  expiresAtMillis (Long.MAX_VALUE: never)
 *   str  topic
 *   str  publisher id                               if flag bit 3
 *   u8   properties present: bit 0 payload format indicator, bit 1 message expiry interval, bit 2 content type,
 *        bit 3 response topic, bit 4 correlation data, bit 5 user properties
 *   u8   payload format indicator                   if bit 0
 *   u32  message expiry interval (as published)     if bit 1
 *   str  content type                               if bit 2
 *   str  response topic                             if bit 3
 *   bin  correlation data                           if bit 4
 *   u32  count, then count × (str name, str value)  if bit 5
 *   bin  payload
 * str = u32 length + UTF-8 bytes; bin = u32 length + bytes
 * </pre>
 *
 * <p>The properties are those a {@link Message} carries (the PUBLISH properties that are forwarded); the codec's
 * own properties encoding is not public, and the record must not change when the wire format code does.
 */
final class MessageCodec {

    static final int VERSION = 1;

    private static final int PFI = 1;
    private static final int MEI = 1 << 1;
    private static final int CONTENT_TYPE = 1 << 2;
    private static final int RESPONSE_TOPIC = 1 << 3;
    private static final int CORRELATION_DATA = 1 << 4;
    private static final int USER_PROPERTIES = 1 << 5;
    private static final int KNOWN_PROPERTIES = (1 << 6) - 1;
    private static final int FLAG_RETAIN = 1 << 2;
    private static final int FLAG_PUBLISHER = 1 << 3;

    private MessageCodec() {
    }

    static byte[] encode(Message m) {
        Properties props = m.properties();
        byte[] topic = utf8(m.topic());
        byte[] publisher = m.publisherId() == null ? null : utf8(m.publisherId());
        byte[] contentType = props.contentType() == null ? null : utf8(props.contentType());
        byte[] responseTopic = props.responseTopic() == null ? null : utf8(props.responseTopic());
        byte[] correlation = props.correlationData();
        List<UserProperty> users = props.userProperties();
        int present = 0;
        int size = 1 + 1 + 8 + 4 + topic.length + 1 + 4 + m.payload().length;
        if (publisher != null) {
            size += 4 + publisher.length;
        }
        if (props.payloadFormatIndicator() != null) {
            present |= PFI;
            size += 1;
        }
        if (props.messageExpiryInterval() != null) {
            present |= MEI;
            size += 4;
        }
        if (contentType != null) {
            present |= CONTENT_TYPE;
            size += 4 + contentType.length;
        }
        if (responseTopic != null) {
            present |= RESPONSE_TOPIC;
            size += 4 + responseTopic.length;
        }
        if (correlation != null) {
            present |= CORRELATION_DATA;
            size += 4 + correlation.length;
        }
        byte[][] userBytes = null;
        if (users != null && !users.isEmpty()) {
            present |= USER_PROPERTIES;
            userBytes = new byte[users.size() * 2][];
            size += 4;
            for (int i = 0; i < users.size(); i++) {
                userBytes[2 * i] = utf8(users.get(i).name());
                userBytes[2 * i + 1] = utf8(users.get(i).value());
                size += 8 + userBytes[2 * i].length + userBytes[2 * i + 1].length;
            }
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put((byte) VERSION);
        out.put((byte) ((m.qos() & 3) | (m.retain() ? FLAG_RETAIN : 0) | (publisher != null ? FLAG_PUBLISHER : 0)));
        out.putLong(m.expiresAtMillis());
        putBytes(out, topic);
        if (publisher != null) {
            putBytes(out, publisher);
        }
        out.put((byte) present);
        if ((present & PFI) != 0) {
            out.put(props.payloadFormatIndicator().byteValue());
        }
        if ((present & MEI) != 0) {
            out.putInt((int) props.messageExpiryInterval().longValue());
        }
        if (contentType != null) {
            putBytes(out, contentType);
        }
        if (responseTopic != null) {
            putBytes(out, responseTopic);
        }
        if (correlation != null) {
            putBytes(out, correlation);
        }
        if (userBytes != null) {
            out.putInt(userBytes.length / 2);
            for (byte[] b : userBytes) {
                putBytes(out, b);
            }
        }
        putBytes(out, m.payload());
        return out.array();
    }

    /**
     * Decodes a record.
     *
     * @throws IllegalArgumentException if the record is of an unknown version or malformed
     */
    static Message decode(byte[] record) {
        ByteBuffer in = ByteBuffer.wrap(record);
        try {
            int version = in.get() & 0xFF;
            if (version != VERSION) {
                throw new IllegalArgumentException("message record of unknown version " + version);
            }
            int flags = in.get() & 0xFF;
            long expiresAt = in.getLong();
            String topic = getString(in);
            String publisher = (flags & FLAG_PUBLISHER) != 0 ? getString(in) : null;
            int present = in.get() & 0xFF;
            if ((present & ~KNOWN_PROPERTIES) != 0) {
                throw new IllegalArgumentException("message record with unknown properties 0x" + Integer.toHexString(present));
            }
            Properties properties = Properties.EMPTY;
            if (present != 0) {
                Properties.Builder b = Properties.builder();
                if ((present & PFI) != 0) {
                    b.payloadFormatIndicator(in.get() & 0xFF);
                }
                if ((present & MEI) != 0) {
                    b.messageExpiryInterval(in.getInt() & 0xFFFF_FFFFL);
                }
                if ((present & CONTENT_TYPE) != 0) {
                    b.contentType(getString(in));
                }
                if ((present & RESPONSE_TOPIC) != 0) {
                    b.responseTopic(getString(in));
                }
                if ((present & CORRELATION_DATA) != 0) {
                    b.correlationData(getBytes(in));
                }
                if ((present & USER_PROPERTIES) != 0) {
                    int n = in.getInt();
                    if (n < 0 || n > in.remaining() / 8) {
                        throw new IllegalArgumentException("message record with " + n + " user properties");
                    }
                    for (int i = 0; i < n; i++) {
                        b.addUserProperty(getString(in), getString(in));
                    }
                }
                properties = b.build();
            }
            byte[] payload = getBytes(in);
            if (in.hasRemaining()) {
                throw new IllegalArgumentException("message record with " + in.remaining() + " trailing bytes");
            }
            return new Message(topic, flags & 3, (flags & FLAG_RETAIN) != 0, payload, properties, publisher, expiresAt);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("message record truncated (" + record.length + " bytes)", e);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void putBytes(ByteBuffer out, byte[] b) {
        out.putInt(b.length);
        out.put(b);
    }

    private static byte[] getBytes(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining()) {
            throw new IllegalArgumentException("message record with a field of " + n + " bytes, " + in.remaining() + " left");
        }
        int start = in.position();
        in.position(start + n);
        return Arrays.copyOfRange(in.array(), start, start + n);
    }

    private static String getString(ByteBuffer in) {
        return new String(getBytes(in), StandardCharsets.UTF_8);
    }
}
