package io.starling.server.wire;

/**
 * The decoding of one connection's inbound packets, as the protocol handler controls it: it stops decoding between
 * two packets while a client does not read what it is sent, and resumes it once the client reads again. Implemented
 * by the transport's frame decoder; on the channel's event loop.
 */
public interface PacketFlow {

    /** Stops decoding after the packet being handled now; the rest waits in the buffer. */
    void hold();

    /** Decodes again, starting with what was held back, as if it had just arrived. */
    void release() throws Exception;
}
