package io.starling.server.wire;

import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;

/**
 * What {@link MqttFrameDecoder} passes up instead of a packet when the input is bad. After a failure the decoder
 * discards everything else the connection sends; the protocol handler answers and closes.
 *
 * @param reasonCode the reason to answer with
 * @param message a log line
 * @param version the connection's version, or the one the failed CONNECT asked for; {@code null} if unknown
 * @param duringConnect true when the failure is in the first packet
 * @param logged true when the transport has logged it already (limits that log at most one line per interval)
 */
public record DecodeFailure(ReasonCode reasonCode, String message, ProtocolVersion version, boolean duringConnect,
        boolean logged) {

    /** A failure for the protocol handler to log. */
    public DecodeFailure(ReasonCode reasonCode, String message, ProtocolVersion version, boolean duringConnect) {
        this(reasonCode, message, version, duringConnect, false);
    }
}
