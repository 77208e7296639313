package io.starling.broker.auth;

/**
 * One authentication method: the MQTT 5.0 "Authentication Method" string, e.g. {@code "SCRAM-SHA-256"}.
 *
 * <p>Thread-safety: implementations are shared by every event loop and must be thread-safe; {@link #start} is
 * called on the connecting client's event loop and must not block (no I/O, no key stretching).
 *
 * <p>Re-authentication [MQTT 4.12.1] uses a fresh exchange from the same authenticator: {@link #start} is called
 * again for the live connection, and the AUTH 0x19's data is fed to the new exchange.
 */
public interface EnhancedAuthenticator {

    /** The Authentication Method this authenticator handles; compared exactly (case-sensitive). */
    String method();

    /**
     * Starts an exchange for one connection (a CONNECT, or an AUTH 0x19 re-authentication, with this method).
     * The exchange is confined to that connection's thread.
     *
     * @param clientId the connection's client identifier (for logs and policy)
     * @param username the CONNECT's User Name, {@code null} if absent
     */
    AuthExchange start(String clientId, String username);
}
