package io.starling.cluster.link;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The proofs of the node link's handshake: HMAC-SHA256 under the shared secret of a role label ("acceptor" or
 * "dialer", so that a proof cannot be sent back to its maker), the two nonces (the verifier's first) and the two
 * names (the prover's first). A proof shows that its sender holds the secret and is fresh (the verifier's nonce).
 */
final class Handshake {

    private Handshake() {
    }

    /** The proof the acceptor sends the dialer. */
    static byte[] acceptorProof(byte[] secret, byte[] dialerNonce, byte[] acceptorNonce, String acceptor,
            String dialer) {
        return mac(secret, "starling-link acceptor", dialerNonce, acceptorNonce, acceptor, dialer);
    }

    /** The proof the dialer sends the acceptor. */
    static byte[] dialerProof(byte[] secret, byte[] acceptorNonce, byte[] dialerNonce, String dialer,
            String acceptor) {
        return mac(secret, "starling-link dialer", acceptorNonce, dialerNonce, dialer, acceptor);
    }

    /** Compares two proofs in constant time. */
    static boolean same(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    /** A node name: 1 to 255 characters among letters, digits, '.', '_', '-' and ':'. */
    static boolean validName(String name) {
        if (name == null || name.isEmpty() || name.length() > 255) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
                    || c == '-' || c == ':';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static byte[] mac(byte[] secret, String label, byte[] nonce1, byte[] nonce2, String name1, String name2) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(label.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            mac.update(nonce1);
            mac.update(nonce2);
            mac.update(name1.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            mac.update(name2.getBytes(StandardCharsets.UTF_8));
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
