package io.starling.codec;

/**
 * A packet the decoder refuses, with the reason code the server answers with: {@code MALFORMED_PACKET} or
 * {@code PROTOCOL_ERROR} (DISCONNECT on 5.0, close on 3.x), {@code UNSUPPORTED_PROTOCOL_VERSION} or
 * {@code CLIENT_IDENTIFIER_NOT_VALID} (CONNACK), {@code TOPIC_NAME_INVALID}, {@code PACKET_TOO_LARGE}.
 * Thrown only for bad input, never on the happy path; it carries no stack trace.
 */
public final class DecodeException extends Exception {

    private static final long serialVersionUID = 1L;

    private final ReasonCode reasonCode;

    public DecodeException(ReasonCode reasonCode, String message) {
        super(message, null, false, false);
        this.reasonCode = reasonCode;
    }

    public ReasonCode reasonCode() {
        return reasonCode;
    }
}
