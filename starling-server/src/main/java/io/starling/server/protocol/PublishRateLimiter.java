package io.starling.server.protocol;

import io.starling.codec.PacketEncoder;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.PublishPacket;

/**
 * {@code max-publish-rate} and {@code max-publish-bytes-rate} of one connection: two token buckets, each holding one
 * second's worth of its rate (the bytes bucket at least {@code max-packet-size}), refilled continuously. Every PUBLISH
 * read is charged, whatever becomes of it; a connection over its rate is not refused anything: it stops being read
 * ({@link ReadGate#pauseForRate}) until the buckets allow the next packet, which the client sees as slower
 * acknowledgements.
 *
 * <p>Each bucket is one long: the time at which it will be full again (at or before now: full), so charging a
 * packet is an addition and a comparison, without allocation. The packets bucket lets the next PUBLISH be read once
 * it holds one packet again; the bytes bucket, which cannot know the size of the next packet, once it is out of
 * deficit.
 *
 * <p>Created with a connection's first PUBLISH, and only when one of the rates is set: an idle connection, or any
 * connection of a broker without these limits, has none. Thread-safety: the connection's event loop only.
 */
final class PublishRateLimiter {

    private static final long SECOND = 1_000_000_000L;

    /** Nanoseconds the packets bucket takes to refill one packet; 0 = no packet rate. */
    private final long nanosPerPacket;
    /** Bytes per second; 0 = no bytes rate. */
    private final long bytesPerSecond;
    /** The bytes bucket's size, as the nanoseconds it takes to refill from empty. */
    private final long bytesBucketNanos;
    /** When the packets bucket is full again. */
    private long packetsFullAt;
    /** When the bytes bucket is full again. */
    private long bytesFullAt;

    private PublishRateLimiter(long packetsPerSecond, long bytesPerSecond, int maxPacketSize, long now) {
        this.nanosPerPacket = packetsPerSecond == 0 ? 0 : Math.max(1, SECOND / packetsPerSecond);
        this.bytesPerSecond = bytesPerSecond;
        this.bytesBucketNanos = bytesPerSecond == 0 || bytesPerSecond >= maxPacketSize ? SECOND
                : maxPacketSize * SECOND / bytesPerSecond;
        this.packetsFullAt = now;
        this.bytesFullAt = now;
    }

    /**
     * The limiter of a connection with these rates (per second, 0 = unlimited), or {@code null} when both are
     * unlimited.
     *
     * @param maxPacketSize the largest packet the broker accepts: the bytes bucket holds at least that much
     * @param now the nano clock's time
     */
    static PublishRateLimiter of(long packetsPerSecond, long bytesPerSecond, int maxPacketSize, long now) {
        if (packetsPerSecond <= 0 && bytesPerSecond <= 0) {
            return null;
        }
        return new PublishRateLimiter(Math.max(0, packetsPerSecond), Math.max(0, bytesPerSecond), maxPacketSize, now);
    }

    /**
     * Charges a PUBLISH read at {@code now}: the nanoseconds to wait before the connection may be read again, 0 if it
     * may go on.
     */
    long onPublish(PublishPacket p, ProtocolVersion version, long now) {
        if (nanosPerPacket > 0) {
            packetsFullAt = (packetsFullAt - now > 0 ? packetsFullAt : now) + nanosPerPacket;
        }
        if (bytesPerSecond > 0) {
            long bytes = PacketEncoder.encodedSize(p, version);
            bytesFullAt = (bytesFullAt - now > 0 ? bytesFullAt : now) + bytes * SECOND / bytesPerSecond;
        }
        return waitNanos(now);
    }

    /** The nanoseconds from {@code now} until both buckets allow the next PUBLISH; 0 if they do now. */
    long waitNanos(long now) {
        long wait = 0;
        if (nanosPerPacket > 0) {
            // the next packet fits once the bucket lacks no more than one second minus one packet
            wait = packetsFullAt - now - (SECOND - nanosPerPacket);
        }
        if (bytesPerSecond > 0) {
            wait = Math.max(wait, bytesFullAt - now - bytesBucketNanos);
        }
        return Math.max(0, wait);
    }
}
