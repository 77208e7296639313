package io.starling.broker.acl;

import java.util.List;
import java.util.Objects;

/**
 * Who a connected client is, as far as authorization rules are concerned.
 *
 * @param username the authenticated user name (from the password file, an authenticator, the certificate with
 *     use-identity-as-username, or SCRAM); {@code null} for an anonymous client. A User Name that the listener did not
 *     verify is never put here.
 * @param clientId the client identifier
 * @param certificateNames the CN and SANs of the client's verified certificate; empty without one
 */
public record ClientIdentity(String username, String clientId, List<String> certificateNames) {

    public ClientIdentity {
        Objects.requireNonNull(clientId, "clientId");
        certificateNames = certificateNames == null ? List.of() : List.copyOf(certificateNames);
    }
}
