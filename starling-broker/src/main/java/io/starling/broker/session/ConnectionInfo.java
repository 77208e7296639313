package io.starling.broker.session;

/**
 * What an operator is shown of the connection attached to a session (the admin API's client list): fixed once the
 * CONNECT is accepted, so it is immutable and safe to read from any thread.
 *
 * @param user the authenticated user name, {@code null} for an anonymous client
 * @param address the client's address as {@code ip:port}
 * @param listener the type of the listener it came through: {@code tcp}, {@code tls}, {@code ws} or {@code wss}
 * @param protocol {@code 3.1}, {@code 3.1.1} or {@code 5.0}
 * @param keepAliveSeconds the Keep Alive in force (the Server Keep Alive where the broker set one)
 * @param cleanStart Clean Start (Clean Session on 3.x) of the CONNECT
 * @param connectedAtMillis when the session was opened for the connection, ms since the epoch
 */
public record ConnectionInfo(String user, String address, String listener, String protocol, int keepAliveSeconds,
        boolean cleanStart, long connectedAtMillis) {
}
