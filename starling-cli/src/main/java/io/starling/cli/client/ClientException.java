package io.starling.cli.client;

/** A failure of the simple client: {@link #exitCode()} is what the command exits with. */
public final class ClientException extends Exception {

    private static final long serialVersionUID = 1L;

    /** The network failed: connection refused, reset, timed out. */
    public static final int NETWORK = 1;
    /** The broker refused: CONNACK, SUBACK or PUBACK with an error, or DISCONNECT from the broker. */
    public static final int REFUSED = 3;

    private final int exitCode;

    public ClientException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
