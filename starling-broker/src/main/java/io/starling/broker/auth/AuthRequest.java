package io.starling.broker.auth;

import io.starling.broker.config.ListenerConfig;
import java.net.InetSocketAddress;

/**
 * Everything an {@link Authenticator} may base its decision on.
 *
 * @param listener the listener the client connected to
 * @param clientId the client identifier (assigned by the broker if the client sent an empty one)
 * @param username the CONNECT's User Name, {@code null} if absent
 * @param password the CONNECT's Password (binary data), {@code null} if absent; a copy is kept and handed out
 * @param certificate the verified client certificate's names, {@code null} if the client presented none or the
 *     listener is not TLS
 * @param remoteAddress the client's address
 */
public record AuthRequest(ListenerConfig listener, String clientId, String username, byte[] password,
        CertificateIdentity certificate, InetSocketAddress remoteAddress) {

    public AuthRequest {
        password = password == null ? null : password.clone();
    }

    /** A copy of the password, {@code null} if absent. */
    @Override
    public byte[] password() {
        return password == null ? null : password.clone();
    }

    /** Never shows the password. */
    @Override
    public String toString() {
        return "AuthRequest[" + (listener == null ? "?" : listener.describe()) + ", client " + clientId + ", user "
                + username + (password == null ? "" : ", password of " + password.length + " bytes")
                + (certificate == null ? "" : ", certificate " + certificate) + ", from " + remoteAddress + "]";
    }
}
